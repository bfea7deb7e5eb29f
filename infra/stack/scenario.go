package stack

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/sim/scenario"
	"github.com/somsgo/soms/sim/stepper"
)

// ScenarioTarget is the compose stack as a scenario's system under test
// (scenario.Options.Target): process steps kill, start and restart
// containers, the run drives the stack's closed-loop clock, and each run
// begins with a fresh office (Reset) at the scenario's start.
func (s *Stack) ScenarioTarget() scenario.Target { return &scenarioTarget{s: s, poll: time.Second} }

type scenarioTarget struct {
	s    *Stack
	poll time.Duration
	// speed is the clock's speed before Begin, given back by End; restarts
	// are the containers' restart counts at Begin.
	speed    float64
	restarts map[string]int
}

func (t *scenarioTarget) URL(service string) string      { return t.s.URL(service) }
func (t *scenarioTarget) MQTT(account string) bus.Config { return t.s.MQTT(account) }
func (t *scenarioTarget) Token() string                  { return t.s.Token() }
func (t *scenarioTarget) Clock() scenario.Clock          { return stepperClock{t.s} }
func (t *scenarioTarget) Kill(ctx context.Context, name string) error {
	return t.s.Kill(ctx, name)
}
func (t *scenarioTarget) Start(ctx context.Context, name string) error {
	return t.s.Start(ctx, name)
}
func (t *scenarioTarget) Restart(ctx context.Context, name string) error {
	return t.s.Restart(ctx, name)
}

// Begin checks that the stack runs the scenario's office (layout and seed of
// the virtual edge, cameras when it asks for them), gives it a fresh office
// (Reset) and leaves the clock paused at the scenario's start.
func (t *scenarioTarget) Begin(ctx context.Context, sc *scenario.Scenario) (scenario.Session, error) {
	if err := t.s.runsOffice(sc); err != nil {
		return scenario.Session{}, err
	}
	if st := t.s.Stepper(); st != nil {
		t.speed = st.Speed()
	}
	if err := t.s.Reset(ctx, sc.Start); err != nil {
		return scenario.Session{}, err
	}
	counts, err := t.s.restartCounts(ctx)
	if err != nil {
		return scenario.Session{}, err
	}
	t.restarts = counts
	return scenario.Session{Start: sc.Start}, nil
}

// End gives the clock the speed it had before Begin.
func (t *scenarioTarget) End(ctx context.Context) error {
	if st := t.s.Stepper(); st != nil {
		return st.SetSpeed(t.speed)
	}
	return nil
}

// Crashes are containers that Docker restarted on its own (their restart
// policy after an exit) since Begin: a container a process step stops is not
// restarted by Docker, so it never counts.
func (t *scenarioTarget) Crashes(ctx context.Context) <-chan scenario.Crash {
	out := make(chan scenario.Crash)
	go func() {
		defer close(out)
		tick := time.NewTicker(t.poll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			counts, err := t.s.restartCounts(ctx)
			if err != nil {
				continue // a container being recreated; the next poll sees it
			}
			for name, n := range counts {
				if n <= t.restarts[name] {
					continue
				}
				t.restarts[name] = n
				c := scenario.Crash{Text: fmt.Sprintf("%s exited unexpectedly; Docker restarted it (restart %d)", name, n)}
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// restartCounts are Docker's restart counts of the app services' containers.
func (s *Stack) restartCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, name := range s.appServices() {
		in, err := s.Inspect(ctx, name)
		if err != nil {
			return nil, err
		}
		out[name] = in.RestartCount
	}
	return out, nil
}

// runsOffice says why the stack is not the office sc needs, or nil.
func (s *Stack) runsOffice(sc *scenario.Scenario) error {
	edge, ok := s.project.Services[service("edge")]
	if !ok {
		return fmt.Errorf("the compose stack has no virtual edge (%s) to play scenario %q", service("edge"), sc.Name)
	}
	setting := func(name, def string) string {
		if v, ok := edge.Environment[name]; ok && v != nil && *v != "" {
			return *v
		}
		return def
	}
	var diffs []string
	if layout := setting("EDGE_LAYOUT", "builtin:office"); layout != sc.Layout {
		diffs = append(diffs, fmt.Sprintf("layout %s, the scenario %s (EDGE_LAYOUT)", layout, sc.Layout))
	}
	if seed := setting("SOMS_SIM_SEED", "1"); seed != strconv.FormatUint(sc.Seed, 10) {
		diffs = append(diffs, fmt.Sprintf("seed %s, the scenario %d (SOMS_SIM_SEED)", seed, sc.Seed))
	}
	if _, cams := s.project.Services[service("camera")]; sc.Cameras && !cams {
		diffs = append(diffs, "no virtual cameras, the scenario needs them")
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the compose stack is not the office scenario %q needs: it has %s", sc.Name, strings.Join(diffs, "; "))
	}
	return nil
}

// stepperClock is the stack's closed-loop clock as a run drives it.
type stepperClock struct{ s *Stack }

func (c stepperClock) Now() time.Time {
	if m := c.s.Clock(); m != nil {
		return m.Now()
	}
	return time.Time{}
}

// Follow has nothing to do: the stepper's mirror is set at every step.
func (c stepperClock) Follow(clock.State) {}

func (c stepperClock) RunUntil(ctx context.Context, t time.Time) error {
	st, err := c.stepper()
	if err != nil {
		return err
	}
	return st.RunUntil(ctx, t)
}

func (c stepperClock) SetSpeed(_ context.Context, speed float64) error {
	st, err := c.stepper()
	if err != nil {
		return err
	}
	return st.SetSpeed(speed)
}

func (c stepperClock) ResetStats(context.Context) error {
	st, err := c.stepper()
	if err != nil {
		return err
	}
	st.ResetStats()
	return nil
}

func (c stepperClock) Stats(context.Context) ([]stepper.ProcessStats, error) {
	st, err := c.stepper()
	if err != nil {
		return nil, err
	}
	return st.Stats(), nil
}

func (c stepperClock) stepper() (*stepper.Stepper, error) {
	if st := c.s.Stepper(); st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("the compose stack's clock is not running (no SetClock yet)")
}
