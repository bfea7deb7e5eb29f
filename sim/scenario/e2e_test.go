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
