package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/stepper"
)

// A running sim that is not the scenario's office is refused, saying how it
// differs.
func TestCheckOffice(t *testing.T) {
	sc := &Scenario{Name: "x", Layout: "builtin:office", Seed: 7}
	for _, tc := range []struct {
		name string
		view harness.StackView
		want []string // in the error; none: accepted
	}{
		{"same", harness.StackView{Layout: "builtin:office", Seed: 7}, nil},
		{"layout", harness.StackView{Layout: "builtin:meeting", Seed: 7}, []string{"layout builtin:meeting, the scenario builtin:office", "SOMS_SIM_LAYOUT"}},
		{"seed", harness.StackView{Layout: "builtin:office", Seed: 1}, []string{"seed 1, the scenario 7", "SOMS_SIM_SEED"}},
		{"cameras", harness.StackView{Layout: "builtin:office", Seed: 7, Cameras: true}, []string{"cameras on, the scenario off", "SOMS_SIM_CAMERAS"}},
		{"all", harness.StackView{Layout: "/tmp/l.json", Seed: 2, Cameras: true}, []string{"layout /tmp/l.json", "seed 2", "cameras on"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOffice(tc.view, sc)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
}

// A running office's clock goes forward to the scenario's start, or to the
// same time of day on the first day it has not passed.
func TestRunStart(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, jst)
	for _, tc := range []struct {
		name      string
		now, want time.Time
	}{
		{"ahead", start.Add(-3 * time.Hour), start},
		{"at it", start, start},
		{"just past", start.Add(time.Second), start.AddDate(0, 0, 1)},
		{"a day on", start.AddDate(0, 0, 1), start.AddDate(0, 0, 1)},
		{"days on", start.AddDate(0, 0, 40).Add(13 * time.Hour), start.AddDate(0, 0, 41)},
		{"other zone", start.AddDate(0, 0, 2).Add(-time.Minute).UTC(), start.AddDate(0, 0, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runStart(start, tc.now); !got.Equal(tc.want) {
				t.Fatalf("runStart(%v) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}

// The lag a run reports is the difference since its start: the control API
// counts since the sim started.
func TestStatsSince(t *testing.T) {
	ms := time.Millisecond
	base := []stepper.ProcessStats{{Process: "brain", Steps: 100, AckMean: 2 * ms, Slowest: 10, Lost: 1}}
	now := []stepper.ProcessStats{
		{Process: "edge", Steps: 50, AckMean: 3 * ms},
		{Process: "brain", Steps: 200, AckMean: 6 * ms, Slowest: 30, Lost: 1, AckMax: 40 * ms},
	}
	got := statsSince(now, base)
	want := []stepper.ProcessStats{
		{Process: "brain", Steps: 100, AckMean: 10 * ms, Slowest: 20, AckMax: 40 * ms},
		{Process: "edge", Steps: 50, AckMean: 3 * ms},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// run --target needs files; without a target nothing is dialled.
func TestRunArgs(t *testing.T) {
	if _, _, err := runArgs(t.Context(), Config{}, []string{"--target", "http://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no files: %v", err)
	}
	files, target, err := runArgs(t.Context(), Config{}, []string{"a.yaml", "b.yaml"})
	if err != nil || target != nil || len(files) != 2 {
		t.Fatalf("files %v target %v err %v", files, target, err)
	}
	if _, _, err := runArgs(t.Context(), Config{Target: "http://127.0.0.1:1"}, []string{"a.yaml"}); err == nil || !strings.Contains(err.Error(), "reaching the running sim") {
		t.Fatalf("an unreachable target: %v", err)
	}
}
