// Package features holds the acceptance suite: Gherkin features describing the
// office and the steps that run them against a real SOMS stack. Steps drive the
// simulator through its control APIs and observe only product interfaces, so
// the same features run on any driver: the native harness (this package's
// test, `go test ./features`) or Docker Compose (infra/e2e, its own module).
package features

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
)

// System is the running SOMS a scenario talks to, whichever driver started
// it. Steps use only these public interfaces.
type System interface {
	URL(name string) string
	MQTT(user string) bus.Config
	// Reset gives the next scenario fresh services and an empty database,
	// with the clock at st.
	Reset(ctx context.Context, st clock.State) error
	SetClock(ctx context.Context, st clock.State) error
	// Clock mirrors the simulated clock every process follows.
	Clock() *clock.Sim
	// Failed reports a service dying on its own.
	Failed() <-chan error
	Logs(name string, n int) []string
	Services() []string
	// Token is the internal service token (what services send as
	// X-Service-Token).
	Token() string
	Stop() error
}

// Start is the clock every scenario (and a suite's stack) starts with: a
// Monday at 09:00 in Tokyo, at the default speed.
func Start() clock.State {
	return clock.State{SimTime: officeMorning, WallTime: time.Now(), Speed: defaultSpeed}
}

// Options select what Run runs.
type Options struct {
	// Paths are feature files or directories (default: this directory, for
	// a test run from it).
	Paths []string
	// Tags is a godog tag expression (e.g. "@co2", "@compose && ~@slow").
	Tags string
}

// Run runs the features against sys as subtests of t. A failing scenario
// prints the services' recent logs.
func Run(t *testing.T, sys System, opts Options) {
	if len(opts.Paths) == 0 {
		opts.Paths = []string{"."}
	}
	suite := godog.TestSuite{
		Name:                "soms",
		ScenarioInitializer: func(sc *godog.ScenarioContext) { initializeScenario(sc, sys) },
		Options: &godog.Options{
			Format:   "pretty",
			Paths:    opts.Paths,
			Tags:     opts.Tags,
			Strict:   true,
			NoColors: true,
			TestingT: t,
		},
	}
	if suite.Run() != 0 {
		t.Fatal("acceptance features failed")
	}
}

func initializeScenario(sc *godog.ScenarioContext, sys System) {
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
