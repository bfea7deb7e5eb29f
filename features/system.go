package features

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/harness/compose"
)

// system is the running SOMS a scenario talks to, whichever driver started
// it: the native harness (default) or Docker Compose (SOMS_HARNESS=compose).
// Steps use only these public interfaces.
type system interface {
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

// startSystem starts the driver named by SOMS_HARNESS.
func startSystem(ctx context.Context, bin string, start clock.State) (system, error) {
	switch d := os.Getenv("SOMS_HARNESS"); d {
	case "", "local", "native":
		opts := harness.Options{Binary: bin, Speed: start.Speed, Start: start.SimTime, Layout: "builtin:office", Seed: 1, Cameras: true}
		if *verbose {
			opts.Output = os.Stdout
		}
		s, err := harness.Start(ctx, opts)
		if err != nil {
			return nil, err
		}
		return native{s}, nil
	case "compose":
		s, err := compose.Start(ctx, compose.Options{})
		if errors.Is(err, compose.ErrNoEngine) {
			return nil, fmt.Errorf("SOMS_HARNESS=compose needs a Docker engine: %w", err)
		}
		if err != nil {
			return nil, err
		}
		c := &composed{Stack: s, clock: clock.NewSim()}
		if err := c.SetClock(ctx, start); err != nil {
			_ = s.Stop()
			return nil, err
		}
		return c, nil
	default:
		return nil, fmt.Errorf("SOMS_HARNESS=%q: want local or compose", d)
	}
}

// native adapts the native harness.
type native struct{ s *harness.Stack }

func (n native) URL(name string) string      { return n.s.URL(name) }
func (n native) MQTT(user string) bus.Config { return n.s.MQTT(user) }
func (n native) Reset(ctx context.Context, st clock.State) error {
	return n.s.RestartServices(ctx, st)
}
func (n native) SetClock(ctx context.Context, st clock.State) error { return n.s.SetClock(ctx, st) }
func (n native) Clock() *clock.Sim                                  { return n.s.Clock }
func (n native) Failed() <-chan error                               { return n.s.Failed() }
func (n native) Logs(name string, k int) []string                   { return n.s.Logs(name, k) }
func (n native) Services() []string                                 { return harness.Services() }
func (n native) Stop() error                                        { return n.s.Stop() }
func (n native) Token() string                                      { return n.s.Token }

// composed adapts the compose driver; it keeps a local mirror of the clock it
// publishes.
type composed struct {
	*compose.Stack
	clock *clock.Sim
}

func (c *composed) Reset(ctx context.Context, st clock.State) error {
	if err := c.Stack.Reset(ctx); err != nil {
		return err
	}
	return c.SetClock(ctx, st)
}

func (c *composed) SetClock(ctx context.Context, st clock.State) error {
	if st.Speed > 0 && st.WallTime.IsZero() {
		st.WallTime = time.Now()
	}
	if err := c.Stack.SetClock(ctx, st); err != nil {
		return err
	}
	c.clock.Set(st)
	return nil
}

func (c *composed) Clock() *clock.Sim { return c.clock }

// Failed never fires: compose restarts are visible through health instead.
func (c *composed) Failed() <-chan error { return nil }
