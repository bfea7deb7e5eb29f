package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/features"
	"github.com/somsgo/soms/infra/stack"
	"github.com/somsgo/soms/internal/clock"
)

var (
	tags    = flag.String("godog.tags", "@compose", "run only scenarios matching these tags")
	verbose = flag.Bool("godog.logs", false, "print the compose driver's progress")
)

// sys is the compose stack the whole suite runs against.
var sys *composed

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	// testcontainers' reaper needs an image no registry serves here; the
	// stack removes itself (Stop: down, volumes removed).
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := features.Start()
	opts := stack.Options{Dir: "..", ProjectName: "soms-e2e", Clock: &start, Profiles: []string{"monitoring"},
		Env: map[string]string{"BACKEND_ADMIN_USER": adminUser, "BACKEND_ADMIN_PASSWORD": adminPass}}
	if *verbose {
		opts.Log = slog.New(slog.NewTextHandler(os.Stdout, nil))
	}
	began := time.Now()
	s, err := stack.Start(ctx, opts)
	if errors.Is(err, stack.ErrNoEngine) {
		fmt.Fprintln(os.Stderr, "compose acceptance suite needs a Docker engine (infra/scripts/engine.sh starts one):", err)
		return 1
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose acceptance suite: the stack did not start:", err)
		return 1
	}
	coldUp = time.Since(began)
	sys = &composed{Stack: s}
	defer func() {
		if keep := os.Getenv("SOMS_E2E_KEEP"); keep != "" {
			// For looking around: docker compose --env-file FILE -p soms-e2e ...
			envFile := filepath.Join(os.TempDir(), "soms-e2e.env")
			err := writeEnvFile(envFile, sys.Env())
			fmt.Printf("compose acceptance suite: SOMS_E2E_KEEP is set; the stack stays up: project %s, settings %s (%v), files %s; backend %s, frontend %s\n",
				sys.Project(), envFile, err, strings.Join(sys.Files(), " "), sys.URL("backend"), sys.URL("frontend"))
			return
		}
		if err := sys.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "compose acceptance suite: stopping the stack:", err)
		}
	}()
	if err := sys.SetClock(ctx, start); err != nil {
		fmt.Fprintln(os.Stderr, "compose acceptance suite:", err)
		return 1
	}
	fmt.Printf("compose acceptance suite: stack up in %.1fs\n", time.Since(began).Seconds())
	return m.Run()
}

// TestCompose runs, in this order, what must hold on the compose stack: the
// features tagged @compose, then what only containers show. The last checks
// take the stack down and restore it from a backup, so they come last.
func TestCompose(t *testing.T) {
	t.Run("features", func(t *testing.T) {
		features.Run(t, sys, features.Options{Paths: []string{"../../features"}, Tags: *tags})
	})
	t.Run("dashboard through nginx", testDashboard)
	t.Run("healthchecks", testHealthchecks)
	t.Run("the clock is closed loop", testClosedLoop)
	t.Run("exposure", testExposure)
	t.Run("the public door", testPublicDoor)
	t.Run("monitoring", testMonitoring)
	t.Run("restarts lose nothing", testRestarts)
	t.Run("a fault scenario", testFaultScenario)
	t.Run("down and up keep the data", testDownUp)
	t.Run("backup and restore", testBackupRestore)
}

// composed adapts the compose driver to the features' System.
type composed struct {
	*stack.Stack
}

var _ features.System = (*composed)(nil)

func (c *composed) Reset(ctx context.Context, st clock.State) error {
	if err := c.Stack.Reset(ctx, st.SimTime); err != nil {
		return err
	}
	return c.SetClock(ctx, st)
}

// Clock is the stepper's mirror: the step the driver published last.
func (c *composed) Clock() *clock.Sim { return c.Stack.Clock() }

// Failed never fires: compose restarts are visible through health instead.
func (c *composed) Failed() <-chan error { return nil }
