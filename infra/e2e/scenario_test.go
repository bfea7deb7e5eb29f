package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/scenario"
)

// testFaultScenario plays scenarios/fault-recovery.yaml on the containers:
// its process steps kill and start the wallet, the backend, PostgreSQL and
// the brain and restart Mosquitto, and nothing the office acknowledged
// before a fault is missing after it.
func testFaultScenario(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sc, err := scenario.Load("../../scenarios/fault-recovery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed = 1 // the test stack's virtual edge runs seed 1 (SOMS_SIM_SEED)
	var progress strings.Builder
	rep, err := scenario.Run(ctx, scenario.Options{Scenario: sc, Target: sys.ScenarioTarget(), OutDir: t.TempDir(), Progress: &progress})
	t.Logf("scenario run:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, st := range rep.Steps {
		kinds[st.Kind]++
	}
	if kinds[scenario.StepProcess] < 8 {
		t.Errorf("%d process steps ran, want the file's 8", kinds[scenario.StepProcess])
	}
	for _, line := range rep.Failed() {
		t.Error(line)
	}
	if !rep.Passed {
		t.Error("the fault scenario failed on compose")
	}
	t.Logf("%v simulated in %.1fs (%.0f×)", rep.SimDuration, rep.RunWall.Seconds(), rep.SimPerWall)
}
