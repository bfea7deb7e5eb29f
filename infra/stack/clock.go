package stack

import (
	"context"
	"fmt"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/sim/stepper"
)

// The compose stack's simulated clock is the native harness's closed loop:
// the driver runs a sim/stepper on the stack's broker (as the sim account),
// every container following the clock acknowledges each step on
// soms/sim/progress/{process}, and the next step waits for the slowest. A
// container that stops says so (the stepper stops waiting for it); one that
// is killed is forgotten by Kill, or after the stepper's silence limit.

// composeClock is the stepper and its mirror; it lives as long as the stack
// (Down and Up keep it: the step numbers must keep rising, or the services
// would ignore the steps as a restarted broker's stale copies).
type composeClock struct {
	stepper *stepper.Stepper
	mirror  *clock.Sim
	cancel  context.CancelFunc
}

func (c *composeClock) stop() {
	c.cancel()
	<-c.stepper.Done()
}

// SetClock moves the simulated clock to st.SimTime (when it differs) and runs
// it at st.Speed from then on: 0 pauses, stepper.Max runs as fast as the
// containers allow, a number is a ceiling. The first call starts the clock.
func (s *Stack) SetClock(ctx context.Context, st clock.State) error {
	if st.WallTime.IsZero() {
		st.WallTime = time.Now() // a stepped clock has no use for it; Validate asks for it
	}
	if err := st.Validate(); err != nil {
		return err
	}
	c, started, err := s.composeClock(ctx, st.SimTime)
	if err != nil {
		return err
	}
	if !started && !st.SimTime.Equal(c.stepper.State().SimTime) {
		if err := c.stepper.Jump(ctx, st.SimTime); err != nil {
			return fmt.Errorf("moving the simulated clock: %w", err)
		}
	}
	return c.stepper.SetSpeed(st.Speed)
}

// Clock is the driver's own view of the simulated time (the step it
// published last); nil before the first SetClock.
func (s *Stack) Clock() *clock.Sim {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock == nil {
		return nil
	}
	return s.clock.mirror
}

// Stepper drives the stack's clock (RunUntil, statistics); nil before the
// first SetClock.
func (s *Stack) Stepper() *stepper.Stepper {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock == nil {
		return nil
	}
	return s.clock.stepper
}

// composeClock returns the stack's clock, starting it paused at start when
// there is none yet (started reports that).
func (s *Stack) composeClock(ctx context.Context, start time.Time) (c *composeClock, started bool, err error) {
	b, err := s.simBus(ctx)
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock != nil {
		return s.clock, false, nil
	}
	mirror := clock.NewSim()
	st := stepper.New(b, mirror, stepper.Options{Log: s.log})
	runCtx, cancel := context.WithCancel(context.Background())
	if err := st.Start(runCtx, start, 0); err != nil {
		cancel()
		return nil, false, err
	}
	// A restarted broker may have lost the retained step: publish it again
	// whenever the driver reconnects.
	b.OnConnect(func() {
		if err := st.Republish(runCtx); err != nil && runCtx.Err() == nil {
			s.log.Warn("clock step not republished after reconnecting", "err", err)
		}
	})
	s.clock = &composeClock{stepper: st, mirror: mirror, cancel: cancel}
	return s.clock, true, nil
}

// forgetProcess stops the clock waiting for a container's process: it was
// killed and cannot say it left. Names are the harness's or compose's.
func (s *Stack) forgetProcess(name string) {
	if st := s.Stepper(); st != nil {
		st.Forget(process(name))
	}
}

// forgetAll stops the clock waiting for every process: the containers are
// gone (Down), and those that outlived the broker could not say so.
func (s *Stack) forgetAll() {
	if st := s.Stepper(); st != nil {
		for _, p := range st.Processes() {
			st.Forget(p)
		}
	}
}

// process is the name a compose service's process acknowledges the clock
// under (the soms subcommand: the native harness's name).
func process(name string) string {
	for native, composed := range aliases {
		if composed == name {
			return native
		}
	}
	return name
}

func (s *Stack) simBus(ctx context.Context) (*bus.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bus != nil {
		return s.bus, nil
	}
	b := bus.New(s.MQTT(mqttacl.UserSim), "harness-compose", s.log, nil)
	connectCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := b.WaitConnected(connectCtx); err != nil {
		b.Close()
		return nil, fmt.Errorf("harness cannot reach the stack's Mosquitto: %w", err)
	}
	s.bus = b
	return b, nil
}
