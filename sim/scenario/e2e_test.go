package scenario

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/stepper"
)

// somsBinary builds the soms binary once for the tests and benchmarks that
// run a real stack (as features/ does).
var somsBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "soms-scenario-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "soms")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/soms")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building soms: %w", err)
	}
	return bin, nil
})

// TestCO2ScenarioEndToEnd plays scenarios/co2-ventilation.yaml against the
// real native stack (Mosquitto, PostgreSQL, every service) and requires it to
// pass, with a complete report.
func TestCO2ScenarioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run; skipped with -short")
	}
	bin, err := somsBinary()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if keep := os.Getenv("SOMS_SCENARIO_KEEP"); keep != "" {
		out = keep // look at the report afterwards
	}
	var progress strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{File: "../../scenarios/co2-ventilation.yaml", Binary: bin, OutDir: out, Progress: &progress})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Fatalf("scenario failed:\n%s", strings.Join(rep.Failed(), "\n"))
	}
	for _, kind := range []string{"json", "junit", "html"} {
		st, err := os.Stat(rep.Files[kind])
		if err != nil || st.Size() == 0 {
			t.Fatalf("%s report missing: %v", kind, err)
		}
	}
	page, _ := os.ReadFile(rep.Files["html"])
	if !strings.Contains(string(page), "<svg") || !strings.Contains(string(page), "meeting_room — co2") {
		t.Fatal("HTML report has no CO2 plot for the meeting room")
	}
	t.Logf("start-up %.1fs, %v simulated in %.1fs (%.0f sim-s/wall-s); report %s", rep.StartupWall.Seconds(), rep.SimDuration, rep.RunWall.Seconds(), rep.SimPerWall, rep.Files["html"])
}

// TestFaultScenarioEndToEnd plays scenarios/fault-recovery.yaml: the wallet,
// backend, database, broker and brain are killed or restarted by process
// steps while the office runs, and nothing acknowledged before may be
// missing after (the completed, paid ventilation task above all).
func TestFaultScenarioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run; skipped with -short")
	}
	bin, err := somsBinary()
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{File: "../../scenarios/fault-recovery.yaml", Binary: bin, Progress: &progress})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Fatalf("scenario failed:\n%s", strings.Join(rep.Failed(), "\n"))
	}
	var lost *Result
	for i, x := range rep.Results {
		if x.Kind == ExpectNothingLost {
			lost = &rep.Results[i]
		}
	}
	if lost == nil || !strings.Contains(lost.Message, "1 completions") || strings.Contains(lost.Message, " 0 wallet entries") {
		t.Fatalf("nothing_lost did not check the completion and its reward: %+v", lost)
	}
	t.Logf("nothing_lost: %s", lost.Message)
}

// TestDeterminism plays a scenario twice with the same seed, as fast as the
// processes allow, and requires the same trace: the same readings at the same
// simulated instants, the same tasks, events, commands and LLM requests at
// the same simulated times.
func TestDeterminism(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs; skipped with -short")
	}
	bin, err := somsBinary()
	if err != nil {
		t.Fatal(err)
	}
	var first []string
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		rep, err := Run(ctx, Options{File: "../../scenarios/co2-ventilation.yaml", Binary: bin, Speed: stepper.Max})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		tr := rep.Trace()
		t.Logf("run %d: %d trace lines, %v simulated in %.1fs (%.0f×)", i+1, len(tr), rep.SimDuration, rep.RunWall.Seconds(), rep.SimPerWall)
		if i == 0 {
			first = tr
			continue
		}
		if d := Diff(first, tr); d != "" {
			t.Fatalf("same scenario, same seed, different runs: %s", d)
		}
	}
}
