package scenario

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkOfficeDay runs scenarios/office-day.yaml — 8.5 simulated hours of
// the full native stack — at several clock speeds and reports the simulated
// seconds per wall second achieved, the stack's start-up time, and how much
// of the expected telemetry and brain activity actually happened (a stack
// that cannot keep up loses reports and cycles, so coverage drops below 1).
func BenchmarkOfficeDay(b *testing.B) {
	bin, err := somsBinary()
	if err != nil {
		b.Fatal(err)
	}
	for _, speed := range []float64{200, 500, 1000} {
		b.Run(fmt.Sprintf("speed=%g", speed), func(b *testing.B) {
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				rep, err := Run(ctx, Options{File: "../../scenarios/office-day.yaml", Binary: bin, Speed: speed})
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(rep.SimPerWall, "sim-s/wall-s")
				b.ReportMetric(rep.StartupWall.Seconds(), "startup-s")
				b.ReportMetric(coverage(&rep, "main", "co2", "env_01", 30*time.Second), "telemetry-coverage")
				b.ReportMetric(float64(countKind(&rep, "llm")), "llm-requests")
				passed := 0.0
				if rep.Passed {
					passed = 1
				}
				b.ReportMetric(passed, "passed")
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

// coverage is the fraction of the expected reports of one sensor channel
// that were seen (1 = every report arrived on time).
func coverage(rep *Report, zone, channel, device string, every time.Duration) float64 {
	pts := rep.Series[zone][channel][device]
	want := float64(rep.SimDuration / every)
	if want == 0 {
		return 0
	}
	return float64(len(pts)) / want
}

func countKind(rep *Report, kind string) int {
	n := 0
	for _, e := range rep.Timeline {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
