// Package features holds the acceptance suite: Gherkin features describing the
// office, run by godog against a real SOMS stack (the native harness by
// default). Steps drive the simulator through its control APIs and observe
// only product interfaces.
package features

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/internal/clock"
)

var (
	tags    = flag.String("godog.tags", "", "run only scenarios matching these tags (e.g. @co2)")
	verbose = flag.Bool("godog.logs", false, "stream the services' logs while running")
)

// sys is the system the whole suite runs against; each scenario gets fresh
// services and an empty database through Reset.
var sys system

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	bin, cleanup, err := buildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance suite:", err)
		return 1
	}
	defer cleanup()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	began := time.Now()
	sys, err = startSystem(ctx, bin, clock.State{SimTime: officeMorning, WallTime: time.Now(), Speed: defaultSpeed})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance suite: the system did not start:", err)
		return 1
	}
	fmt.Printf("acceptance suite: system up in %.1fs\n", time.Since(began).Seconds())
	defer func() {
		if err := sys.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "acceptance suite: stopping the stack:", err)
		}
	}()
	return m.Run()
}

// buildBinary compiles the soms binary the stack runs.
func buildBinary() (string, func(), error) {
	dir, err := os.MkdirTemp("", "soms-features-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "soms")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/soms")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building soms: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

func TestFeatures(t *testing.T) {
	suite := godog.TestSuite{
		Name:                "soms",
		ScenarioInitializer: initializeScenario,
		Options: &godog.Options{
			Format:   "pretty",
			Paths:    []string{"."},
			Tags:     *tags,
			Strict:   true,
			NoColors: true,
			TestingT: t,
		},
	}
	if suite.Run() != 0 {
		t.Fatal("acceptance features failed")
	}
}

func initializeScenario(sc *godog.ScenarioContext) {
	o := &office{sys: sys}
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		return ctx, o.reset(ctx)
	})
	sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
		if err != nil {
			fmt.Printf("\n--- scenario %q failed; recent service logs:\n", s.Name)
			for _, name := range sys.Services() {
				for _, line := range sys.Logs(name, 25) {
					fmt.Printf("%-8s| %s\n", name, line)
				}
			}
			fmt.Println(strings.Repeat("-", 60))
		}
		return ctx, nil
	})
	o.register(sc)
}
