package scenario

import (
	"context"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/stepper"
)

// Target is the system under test a run plays against, and all the run
// needs of it: a native stack the runner started (Native), a running `soms
// sim` (DialSim), or a compose deployment.
type Target interface {
	// URL is the base URL of a service by the harness's name
	// (harness.Backend, harness.Edge, ...); "" when the target has none.
	URL(service string) string
	// MQTT is the broker configuration of an account: the run connects as
	// mqttacl.UserSim (steps) and mqttacl.UserMonitor (the observer).
	MQTT(account string) bus.Config
	// Token is the internal service token (wallet reads, task dispatch).
	Token() string
	// Faults carry out process steps.
	Faults
	// Clock is the simulated clock the run drives.
	Clock() Clock
	// Crashes delivers the deaths the target's supervisor saw (and
	// restarted) that no process step asked for, from Begin on, until ctx
	// ends; then it is closed.
	Crashes(ctx context.Context) <-chan Crash
	// Begin readies the target for a run of sc: it checks that the target
	// runs sc's office and leaves the clock paused at the run's start.
	Begin(ctx context.Context, sc *Scenario) (Session, error)
	// End leaves the target to go on as it was before Begin (a running
	// office gets its speed back); the run paused the clock already.
	End(ctx context.Context) error
}

// Faults are what process steps do to the system under test: kill (as a
// crash; it stays down), start again, restart. Names are the harness's
// (harness.Services, harness.Mosquitto, harness.Postgres). The native
// harness provides them; infra/stack.Stack implements them for compose
// containers.
type Faults interface {
	Kill(ctx context.Context, name string) error
	Start(ctx context.Context, name string) error
	Restart(ctx context.Context, name string) error
}

// Session is where a run on a target starts.
type Session struct {
	// Start is the simulated start: the scenario's, or a later day's at the
	// same time when a running office's clock is past it (it does not go
	// back: the office remembers what it did).
	Start time.Time
	// History is true when the target ran before the run: what it holds
	// from before (tasks, speech, events, LLM requests, wallet entries) is
	// noted at the start and left out of the run's observations.
	History bool
}

// Clock is a target's simulated clock, as a run drives it.
type Clock interface {
	// Now is the simulated time of the last step the run knows of.
	Now() time.Time
	// Follow takes a clock message the run's observer saw on the broker.
	Follow(st clock.State)
	// RunUntil runs the clock to t at the current speed (a paused one as
	// fast as the processes allow) and returns once every process has
	// handled t; the clock then holds there until the next call.
	RunUntil(ctx context.Context, t time.Time) error
	// SetSpeed sets the pace (0 pauses, stepper.Max lifts the ceiling).
	SetSpeed(ctx context.Context, speed float64) error
	// ResetStats starts the processes' lag statistics over; Stats reads
	// them, slowest first.
	ResetStats(ctx context.Context) error
	Stats(ctx context.Context) ([]stepper.ProcessStats, error)
}

// Crash is a death a target's supervisor saw.
type Crash struct {
	// At is the simulated time; zero: when it was reported.
	At time.Time
	// Text says what died and why, on one line.
	Text string
}

// Native is the target of a native stack started for the run (harness.Start
// with the scenario's start, layout, seed and cameras, paused).
func Native(s *harness.Stack) Target { return native{s} }

type native struct{ s *harness.Stack }

func (n native) URL(service string) string      { return n.s.URL(service) }
func (n native) MQTT(account string) bus.Config { return n.s.MQTT(account) }
func (n native) Token() string                  { return n.s.Token }
func (n native) Clock() Clock                   { return nativeClock(n) }
func (n native) Kill(_ context.Context, name string) error {
	return n.s.Kill(name)
}
func (n native) Start(ctx context.Context, name string) error {
	return n.s.StartProcess(ctx, name)
}
func (n native) Restart(ctx context.Context, name string) error {
	return n.s.Restart(ctx, name)
}

// Begin has nothing to do: the stack was started for sc, paused at its start.
func (n native) Begin(_ context.Context, sc *Scenario) (Session, error) {
	return Session{Start: sc.Start}, nil
}

// End has nothing to do: the runner stops the stack.
func (n native) End(context.Context) error { return nil }

func (n native) Crashes(ctx context.Context) <-chan Crash {
	out := make(chan Crash)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-n.s.Failed():
				select {
				case out <- Crash{Text: firstLine(err.Error())}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// nativeClock is the harness's stepper; its mirror is set at every step.
type nativeClock struct{ s *harness.Stack }

func (c nativeClock) Now() time.Time     { return c.s.Clock.Now() }
func (c nativeClock) Follow(clock.State) {}
func (c nativeClock) ResetStats(context.Context) error {
	c.s.Stepper.ResetStats()
	return nil
}
func (c nativeClock) RunUntil(ctx context.Context, t time.Time) error {
	return c.s.Stepper.RunUntil(ctx, t)
}
func (c nativeClock) SetSpeed(_ context.Context, speed float64) error {
	return c.s.Stepper.SetSpeed(speed)
}
func (c nativeClock) Stats(context.Context) ([]stepper.ProcessStats, error) {
	return c.s.Stepper.Stats(), nil
}
