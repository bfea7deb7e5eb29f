package scenario

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/stepper"
)

// TestRunAgainstARunningSim plays one scenario twice against the same
// running stack through its control API, as `soms scenario run --target`
// does: both runs pass, the second sees none of the first's tasks, wallet
// entries or steps as its own, the clock gets its speed back and the stack
// goes on. A scenario for another layout is refused, naming both.
func TestRunAgainstARunningSim(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs; skipped with -short")
	}
	bin, err := somsBinary()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Load("testdata/running-office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	// The office has run an hour when the first run begins: its clock
	// jumps ahead to the scenario's start.
	const simSpeed = 7
	s, err := harness.Start(ctx, harness.Options{Binary: bin, Speed: simSpeed, Start: sc.Start.Add(-time.Hour), Layout: sc.Layout, Seed: sc.Seed})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	target, err := DialSim(ctx, s.URL(harness.PortControl))
	if err != nil {
		t.Fatal(err)
	}

	var reps [2]Report
	for i := range reps {
		var progress strings.Builder
		reps[i], err = Run(ctx, Options{Scenario: sc, Target: target, Speed: stepper.Max, Progress: &progress})
		t.Logf("run %d:\n%s", i+1, progress.String())
		if err != nil {
			t.Fatal(err)
		}
		if !reps[i].Passed {
			t.Fatalf("run %d failed:\n%s", i+1, strings.Join(reps[i].Failed(), "\n"))
		}
		for _, st := range reps[i].Steps {
			if want := fmtOffset(stepAt(sc, st.Line)); st.Offset != want {
				t.Errorf("run %d: step at line %d acted at %s, want %s", i+1, st.Line, st.Offset, want)
			}
		}
		if got := s.Stepper.Speed(); got != simSpeed {
			t.Fatalf("after run %d the sim runs at %v, want its speed %d back", i+1, got, simSpeed)
		}
	}
	if !reps[0].Start.Equal(sc.Start) {
		t.Errorf("first run started %v, want the scenario's %v", reps[0].Start, sc.Start)
	}
	if want := sc.Start.AddDate(0, 0, 1); !reps[1].Start.Equal(want) {
		t.Errorf("second run started %v, want the next day's %v: the office's clock is not set back", reps[1].Start, want)
	}
	first, second := taskIDs(reps[0]), taskIDs(reps[1])
	if len(second) == 0 {
		t.Fatal("the second run saw no task of its own")
	}
	for id := range second {
		if first[id] {
			t.Errorf("the second run counted the first run's task #%d", id)
		}
	}
	if a, b := acknowledged(t, reps[0]), acknowledged(t, reps[1]); a != b {
		t.Errorf("nothing_lost acknowledged %q in the first run but %q in the second: the second counted the first's", a, b)
	}

	other := *sc
	other.Layout = "builtin:meeting"
	before := s.Clock.Now()
	_, err = Run(ctx, Options{Scenario: &other, Target: target})
	if err == nil || !strings.Contains(err.Error(), "layout builtin:office, the scenario builtin:meeting") {
		t.Fatalf("a scenario for another layout: %v; want a refusal naming both layouts", err)
	}
	if s.Stepper.Speed() != simSpeed || s.Clock.Now().Before(before) {
		t.Fatal("a refused run touched the clock")
	}
}

// stepAt is the offset of the step on line.
func stepAt(sc *Scenario, line int) time.Duration {
	for _, st := range sc.Timeline {
		if st.Line == line {
			return st.At
		}
	}
	return -1
}

var taskEntry = regexp.MustCompile(`^task #(\d+) `)

// taskIDs are the tasks in a report's timeline.
func taskIDs(rep Report) map[int64]bool {
	out := map[int64]bool{}
	for _, e := range rep.Timeline {
		if m := taskEntry.FindStringSubmatch(e.Text); e.Kind == "task" && m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			out[id] = true
		}
	}
	return out
}

var ackCounts = regexp.MustCompile(`\d+ completions, \d+ wallet entries`)

// acknowledged is what nothing_lost counted as acknowledged in a run.
func acknowledged(t *testing.T, rep Report) string {
	t.Helper()
	for _, r := range rep.Results {
		if r.Kind == ExpectNothingLost {
			if m := ackCounts.FindString(r.Message); m != "" {
				return m
			}
			t.Fatalf("nothing_lost said %q", r.Message)
		}
	}
	t.Fatal("no nothing_lost result")
	return ""
}
