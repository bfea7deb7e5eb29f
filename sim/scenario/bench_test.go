package scenario

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/stepper"
)

// BenchmarkOfficeDay runs scenarios/office-day.yaml — 8.5 simulated hours of
// the full native stack — with the clock at speed max, without and with the
// cameras, and reports the speed achieved (simulated seconds per wall second
// with every process keeping up: the clock is closed-loop), the slowest
// process's mean and worst acknowledgement time, and prints every process's
// lag. It fails when the scenario's expectations fail. Goal (issue 18):
// ≥ 500× without cameras on 2 cores.
func BenchmarkOfficeDay(b *testing.B) {
	bin, err := somsBinary()
	if err != nil {
		b.Fatal(err)
	}
	for _, cameras := range []bool{false, true} {
		b.Run(fmt.Sprintf("cameras=%v", cameras), func(b *testing.B) {
			sc, err := Load("../../scenarios/office-day.yaml")
			if err != nil {
				b.Fatal(err)
			}
			sc.Cameras = cameras
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
				rep, err := Run(ctx, Options{Scenario: sc, Binary: bin, Speed: stepper.Max})
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if !rep.Passed {
					b.Fatalf("office day failed:\n%s", strings.Join(rep.Failed(), "\n"))
				}
				b.ReportMetric(rep.SimPerWall, "sim-s/wall-s")
				b.ReportMetric(rep.StartupWall.Seconds(), "startup-s")
				if len(rep.Lag) > 0 {
					b.ReportMetric(float64(rep.Lag[0].AckMean)/1e6, "slowest-ack-mean-ms")
					b.ReportMetric(float64(rep.Lag[0].AckMax)/1e6, "slowest-ack-max-ms")
				}
				b.Logf("%v simulated in %.1fs wall (%.0f×); lag per process:\n%s", rep.SimDuration, rep.RunWall.Seconds(), rep.SimPerWall, stepper.Describe(rep.Lag))
			}
		})
	}
}

// BenchmarkDeterminism plays three scenarios SOMS_DETERMINISM_RUNS times each
// (default 5) at speed max and reports how many runs gave the first run's
// trace (Report.Trace): N identical out of N is the goal.
func BenchmarkDeterminism(b *testing.B) {
	bin, err := somsBinary()
	if err != nil {
		b.Fatal(err)
	}
	n := 5
	if v, err := strconv.Atoi(os.Getenv("SOMS_DETERMINISM_RUNS")); err == nil && v > 1 {
		n = v
	}
	for _, file := range []string{"co2-ventilation", "sensor-tamper", "overheating"} {
		b.Run(file, func(b *testing.B) {
			for b.Loop() {
				var first []string
				same := 0
				for i := range n {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					rep, err := Run(ctx, Options{File: "../../scenarios/" + file + ".yaml", Binary: bin, Speed: stepper.Max})
					cancel()
					if err != nil {
						b.Fatal(err)
					}
					tr := rep.Trace()
					if i == 0 {
						first, same = tr, 1
						continue
					}
					if d := Diff(first, tr); d != "" {
						b.Logf("%s run %d differs: %s", file, i+1, d)
					} else {
						same++
					}
				}
				b.ReportMetric(float64(same), "identical-runs")
				b.ReportMetric(float64(n), "runs")
			}
		})
	}
}

// BenchmarkScenarioStartup measures the wall time from Run to a running
// simulated clock: Mosquitto, PostgreSQL (initdb), every service ready, and
// the scenario's initial scene applied.
func BenchmarkScenarioStartup(b *testing.B) {
	bin, err := somsBinary()
	if err != nil {
		b.Fatal(err)
	}
	sc, err := Parse("startup.yaml", []byte("name: start-up\nspeed: 1000\nduration: 1m\ntimeline:\n  - at: 0s\n    people: {zone: meeting_room, count: 3}\n"))
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for b.Loop() {
		rep, err := Run(context.Background(), Options{Scenario: sc, Binary: bin})
		if err != nil {
			b.Fatal(err)
		}
		total += rep.StartupWall
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "startup-s/op")
}
