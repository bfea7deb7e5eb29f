package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/stepper"
)

// followers are the containers that follow the simulated clock in the test
// stack (SOMS_CLOCK=sim), by the name they acknowledge under; the voice
// engine keeps no time and does not (service.Options.Timeless).
var followers = []string{"backend", "brain", "camera", "edge", "mockllm", "perception", "voice", "wallet"}

// testClosedLoop: the compose stack's clock is closed loop. Every container
// following it acknowledges the steps, a run to an instant returns only once
// each has handled it, and the clock then stays there.
func testClosedLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := sys.Stepper()
	if st == nil {
		t.Fatal("the compose stack has no clock")
	}
	got := st.Processes()
	t.Logf("processes following the clock: %v", got)
	for _, want := range followers {
		if !slices.Contains(got, want) {
			t.Errorf("%s does not acknowledge the clock's steps (following: %v)", want, got)
		}
	}
	if slices.Contains(got, "voicevox-sim") {
		t.Error("the voice engine keeps no time but the clock waits for it")
	}
	st.ResetStats()
	target := st.State().SimTime.Add(time.Minute)
	if err := st.RunUntil(ctx, target); err != nil {
		t.Fatal(err)
	}
	if now := st.State().SimTime; !now.Equal(target) {
		t.Fatalf("the clock stands at %s after running until %s", now, target)
	}
	for _, ps := range st.Stats() {
		if ps.Steps == 0 || ps.Lost > 0 {
			t.Errorf("%s: %d steps acknowledged, %d times lost", ps.Process, ps.Steps, ps.Lost)
		}
	}
	t.Logf("a minute of simulated time at %s:\n%s", stepper.Speed(st.Speed()), stepper.Describe(st.Stats()))
}
