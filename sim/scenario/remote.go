package scenario

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/stepper"
)

// simTarget is a running `soms sim`, reached through its control API
// (sim/harness/control.go). The run never stops it: it checks the office,
// moves the clock, and gives the clock its speed back at the end.
type simTarget struct {
	ctl   httpx.Client
	view  harness.StackView
	host  string
	port  int
	clock *remoteClock
	// poll is the wall interval between reads of the incidents.
	poll time.Duration

	// speed is the clock's speed before Begin, given back by End; from is
	// the number of incidents before Begin.
	speed stepper.Speed
	from  int
}

// DialSim reaches the running `soms sim` whose control API is at
// controlURL (printed as "sim clock" at its start; :8090 by default) and
// reads where the rest of it is (GET /stack).
func DialSim(ctx context.Context, controlURL string) (Target, error) {
	// No client timeout: PUT /clock with run_until answers when the clock
	// gets there; every call carries the run's context.
	t := &simTarget{ctl: httpx.Client{Name: "soms sim", BaseURL: strings.TrimSuffix(controlURL, "/"), HTTP: &http.Client{}}, poll: 500 * time.Millisecond}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := t.ctl.Do(dctx, http.MethodGet, "/stack", nil, &t.view); err != nil {
		return nil, fmt.Errorf("reaching the running sim at %s: %w", controlURL, err)
	}
	u, err := url.Parse(t.view.MQTT.URL)
	if err == nil {
		t.host = u.Hostname()
		t.port, err = strconv.Atoi(u.Port())
	}
	if err != nil {
		return nil, fmt.Errorf("the running sim's broker %q: %w", t.view.MQTT.URL, err)
	}
	t.clock = newRemoteClock(t.ctl)
	return t, nil
}

func (t *simTarget) URL(service string) string { return t.view.Services[service] }
func (t *simTarget) Token() string             { return t.view.Token }
func (t *simTarget) Clock() Clock              { return t.clock }

// MQTT has the passwords of the sim and monitor accounts only.
func (t *simTarget) MQTT(account string) bus.Config {
	return bus.Config{Broker: t.host, Port: t.port, User: account, Pass: t.view.MQTT.Accounts[account]}
}

func (t *simTarget) Kill(ctx context.Context, name string) error { return t.process(ctx, name, "kill") }
func (t *simTarget) Start(ctx context.Context, name string) error {
	return t.process(ctx, name, "start")
}
func (t *simTarget) Restart(ctx context.Context, name string) error {
	return t.process(ctx, name, "restart")
}

func (t *simTarget) process(ctx context.Context, name, action string) error {
	return t.ctl.Do(ctx, http.MethodPost, "/processes/"+url.PathEscape(name)+"/"+action, nil, nil)
}

// Begin refuses a sim that is not sc's office, pauses the clock and moves it
// to the run's start, and notes where the incidents stand.
func (t *simTarget) Begin(ctx context.Context, sc *Scenario) (Session, error) {
	if err := checkOffice(t.view, sc); err != nil {
		return Session{}, err
	}
	was, err := t.clock.get(ctx)
	if err != nil {
		return Session{}, err
	}
	t.speed = was.Speed
	paused, err := t.clock.put(ctx, harness.ClockChange{Speed: speedPtr(0)})
	if err != nil {
		return Session{}, err
	}
	start := runStart(sc.Start, paused.SimTime)
	if err := t.clock.moveTo(ctx, start, paused.SimTime); err != nil {
		return Session{}, err
	}
	inc, err := t.incidents(ctx)
	if err != nil {
		return Session{}, err
	}
	t.from = len(inc)
	return Session{Start: start, History: true}, nil
}

// End gives the clock the speed Begin found.
func (t *simTarget) End(ctx context.Context) error {
	_, err := t.clock.put(ctx, harness.ClockChange{Speed: &t.speed})
	return err
}

// checkOffice says how the running sim differs from the office sc needs.
func checkOffice(v harness.StackView, sc *Scenario) error {
	var diffs []string
	if !sameLayout(v.Layout, sc.Layout) {
		diffs = append(diffs, fmt.Sprintf("layout %s, the scenario %s (SOMS_SIM_LAYOUT)", v.Layout, sc.Layout))
	}
	if v.Seed != sc.Seed {
		diffs = append(diffs, fmt.Sprintf("seed %d, the scenario %d (SOMS_SIM_SEED)", v.Seed, sc.Seed))
	}
	if v.Cameras != sc.Cameras {
		diffs = append(diffs, fmt.Sprintf("cameras %s, the scenario %s (SOMS_SIM_CAMERAS)", onOff(v.Cameras), onOff(sc.Cameras)))
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("the running sim is not the office scenario %q needs: the sim has %s", sc.Name, strings.Join(diffs, "; "))
}

func sameLayout(a, b string) bool {
	if a == b {
		return true
	}
	if strings.HasPrefix(a, "builtin:") || strings.HasPrefix(b, "builtin:") {
		return false
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// runStart is where a run of a scenario starting at start begins on a clock
// at now: start, or the same time of day on the first later day not before
// now. A running office's clock is not set back: the brain's cooldowns and
// recent actions, and the tasks it made, lie ahead of an earlier time and
// would hold it back.
func runStart(start, now time.Time) time.Time {
	if !start.Before(now) {
		return start
	}
	t := start.AddDate(0, 0, int(now.Sub(start)/(24*time.Hour)))
	for t.Before(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func (t *simTarget) incidents(ctx context.Context) ([]harness.Incident, error) {
	var v struct {
		Incidents []harness.Incident `json:"incidents"`
	}
	err := t.ctl.Do(ctx, http.MethodGet, "/processes", nil, &v)
	return v.Incidents, err
}

// Crashes polls the incidents for crashes after Begin's; once ctx ends it
// reads them a last time.
func (t *simTarget) Crashes(ctx context.Context) <-chan Crash {
	out := make(chan Crash, 16)
	go func() {
		defer close(out)
		tick := time.NewTicker(t.poll) // wall time: the runner is outside the simulation
		defer tick.Stop()
		for done := false; !done; {
			select {
			case <-ctx.Done():
				done = true
			case <-tick.C:
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			inc, err := t.incidents(rctx)
			cancel()
			if err != nil || len(inc) < t.from {
				continue
			}
			for _, in := range inc[t.from:] {
				if in.What == "crashed" {
					out <- crashOf(in)
				}
			}
			t.from = len(inc)
		}
	}()
	return out
}

// crashOf says what a crash incident says, as the native harness does.
func crashOf(in harness.Incident) Crash {
	text := in.Process + " exited unexpectedly"
	if in.Err != "" {
		text += " (" + in.Err + ")"
	}
	return Crash{At: in.Sim, Text: text}
}
