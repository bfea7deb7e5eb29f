package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scene"
	"github.com/somsgo/soms/sim/stepper"
)

// Options configure one scenario run.
type Options struct {
	// File is the scenario to run (ignored when Scenario is set).
	File     string
	Scenario *Scenario
	// Binary is the soms executable the stack runs (default: this program).
	Binary string
	// OutDir receives report.json, junit.xml and report.html; empty writes
	// no files.
	OutDir string
	// Speed overrides the scenario's speed when positive.
	Speed float64
	// WalletURL is the wallet API for wallet_balance expectations.
	WalletURL string
	// Output receives the services' log lines; Progress the runner's.
	Output   io.Writer
	Progress io.Writer
	LogLevel string
	// Poll is the wall interval between reads of the HTTP product interfaces
	// (default 250ms).
	Poll time.Duration
}

// StepResult is how one timeline step went.
type StepResult struct {
	Line   int       `json:"line"`
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	Offset string    `json:"offset"`
	Error  string    `json:"error,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Name     string       `json:"name"`
	File     string       `json:"file"`
	Seed     uint64       `json:"seed"`
	Start    time.Time    `json:"start"`
	Speed    float64      `json:"speed"`
	Layout   string       `json:"layout"`
	Passed   bool         `json:"passed"`
	Results  []Result     `json:"results"`
	Steps    []StepResult `json:"steps"`
	Timeline []Entry      `json:"timeline"`
	// Series is telemetry: zone → channel → device → readings.
	Series map[string]map[string]map[string][]Point `json:"series"`
	// SimDuration is the simulated time covered; StartupWall the wall time
	// from Run to the clock starting; RunWall the wall time the clock ran.
	SimDuration time.Duration `json:"sim_duration_ns"`
	StartupWall time.Duration `json:"startup_wall_ns"`
	RunWall     time.Duration `json:"run_wall_ns"`
	// SimPerWall is simulated seconds per wall second achieved while running:
	// the clock is closed-loop, so this is what every process kept up with.
	SimPerWall float64 `json:"sim_per_wall"`
	// Lag is how each process following the clock kept up while running,
	// slowest first.
	Lag []stepper.ProcessStats `json:"lag"`
	// Crashes are processes that died without a process step asking for it
	// (the harness restarted them); any fails the run.
	Crashes []string `json:"crashes,omitempty"`
	// Files written, by kind (json, junit, html).
	Files map[string]string `json:"files,omitempty"`
}

// Failed lists the failed expectations and steps as lines.
func (r *Report) Failed() []string {
	var out []string
	for _, s := range r.Steps {
		if s.Error != "" {
			out = append(out, fmt.Sprintf("%s:%d: step %s at %s: %s", r.File, s.Line, s.Kind, s.Offset, s.Error))
		}
	}
	for _, c := range r.Crashes {
		out = append(out, fmt.Sprintf("%s: %s", r.File, c))
	}
	for _, x := range r.Results {
		if !x.Passed {
			out = append(out, fmt.Sprintf("%s:%d: %s: %s", r.File, x.Line, x.Description, x.Message))
		}
	}
	return out
}

// run is one scenario run in progress.
type run struct {
	sc    *Scenario
	opts  Options
	stack *harness.Stack
	pub   *bus.Client
	obs   *observer
	api   httpx.Client
	speed float64
	steps []StepResult
	// faults carries out process steps.
	faults Faults
	// people are the accounts complete_task steps made, by name.
	people map[string]*person
	// crashes are the deaths the harness saw and the scenario did not ask for.
	crashMu sync.Mutex
	crashes []string
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

// nativeFaults are the native harness's.
type nativeFaults struct{ s *harness.Stack }

func (f nativeFaults) Kill(_ context.Context, name string) error { return f.s.Kill(name) }
func (f nativeFaults) Start(ctx context.Context, name string) error {
	return f.s.StartProcess(ctx, name)
}
func (f nativeFaults) Restart(ctx context.Context, name string) error { return f.s.Restart(ctx, name) }

// Run starts a native stack, plays the scenario against it and evaluates
// the expectations. The error is for runs that could not be carried out
// (stack failure, bad scenario); failed expectations only make
// Report.Passed false.
func Run(ctx context.Context, opts Options) (Report, error) {
	began := time.Now()
	sc := opts.Scenario
	if sc == nil {
		var err error
		if sc, err = Load(opts.File); err != nil {
			return Report{}, err
		}
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	speed := sc.Speed
	if opts.Speed > 0 {
		speed = opts.Speed
	}
	stack, err := harness.Start(ctx, harness.Options{
		Binary: opts.Binary, Speed: 0, Start: sc.Start, Layout: sc.Layout, Seed: sc.Seed,
		LogLevel: opts.LogLevel, Output: opts.Output, Cameras: sc.Cameras,
	})
	if err != nil {
		return Report{}, fmt.Errorf("scenario %s: starting the stack: %w", sc.Name, err)
	}
	defer stack.Stop()
	r := &run{sc: sc, opts: opts, stack: stack, speed: speed, api: httpx.Client{HTTP: &http.Client{Timeout: 10 * time.Second}, MaxAnswer: 64 << 20},
		faults: nativeFaults{stack}, people: map[string]*person{}}
	rep, err := r.play(ctx, began)
	// A run cut short (stalled clock, dead service) still gets its report.
	if opts.OutDir != "" && rep.Name != "" {
		files, werr := WriteReport(opts.OutDir, &rep)
		if werr != nil {
			return rep, errors.Join(err, werr)
		}
		rep.Files = files
	}
	return rep, err
}

func (r *run) progress(format string, args ...any) {
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, format+"\n", args...)
	}
}

func (r *run) play(ctx context.Context, began time.Time) (Report, error) {
	sc, s := r.sc, r.stack
	quiet := slog.New(slog.DiscardHandler)
	r.pub = bus.New(s.MQTT(mqttacl.UserSim), "scenario", quiet, nil)
	defer r.pub.Close()
	mon := bus.New(s.MQTT(mqttacl.UserMonitor), "scenario-observer", quiet, nil)
	defer mon.Close()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := errors.Join(r.pub.WaitConnected(cctx), mon.WaitConnected(cctx)); err != nil {
		return Report{}, fmt.Errorf("scenario observer cannot reach the broker: %w", err)
	}

	r.obs = newObserver(s.Clock, sc.Start)
	r.obs.backend, r.obs.brain, r.obs.mock, r.obs.walletURL = s.URL(harness.Backend), s.URL(harness.Brain), s.URL(harness.MockLLM), r.opts.WalletURL
	if r.obs.walletURL == "" {
		r.obs.walletURL = s.URL(harness.Wallet)
	}
	r.obs.walletToken = s.Token // the wallet answers services only
	for _, e := range sc.Expect {
		if e.World != nil && !slices.Contains(r.obs.worldZone, e.World.Zone) {
			r.obs.worldZone = append(r.obs.worldZone, e.World.Zone)
		}
		if e.Wallet != nil && !slices.Contains(r.obs.walletIDs, e.Wallet.User) {
			r.obs.walletIDs = append(r.obs.walletIDs, e.Wallet.User)
		}
	}
	if err := mon.Subscribe(ctx, topic.SimClock, 0, r.obs.onClock); err != nil {
		return Report{}, err
	}
	for _, f := range []string{topic.OfficeAll, topic.MCPRequests, scene.TopicAll} {
		if err := mon.Subscribe(ctx, f, 0, r.obs.onMessage); err != nil {
			return Report{}, err
		}
	}

	if len(sc.LLM.Rules)+len(sc.LLM.Faults) > 0 || sc.LLM.Mode == mockllm.ModeReplace {
		if err := r.send(ctx, http.MethodPost, s.URL(harness.MockLLM)+"/control/rules", mockllm.RuleSet{Mode: sc.LLM.Mode, Rules: nonNil(sc.LLM.Rules), Faults: sc.LLM.Faults}); err != nil {
			return Report{}, fmt.Errorf("loading the scenario's LLM rules: %w", err)
		}
	}

	steps := slices.Clone(sc.Timeline)
	slices.SortStableFunc(steps, func(a, b Step) int { return int(a.At - b.At) })
	// Steps at 0 set the scene while the clock is still paused.
	for len(steps) > 0 && steps[0].At == 0 {
		r.exec(ctx, steps[0])
		steps = steps[1:]
	}
	pctx, stopPoll := context.WithCancel(ctx)
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); r.obs.poll(pctx, r.opts.Poll) }()
	defer func() { stopPoll(); <-pollDone }()

	startup := time.Since(began)
	wallStart := time.Now()
	s.Stepper.ResetStats()
	if err := s.Stepper.SetSpeed(r.speed); err != nil {
		return Report{}, err
	}
	r.progress("scenario %q: stack up in %.1fs; running %v of simulated time at %gx", sc.Name, startup.Seconds(), sc.Duration, r.speed)
	// The harness restarts what dies on its own; the run goes on and fails.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go r.watchCrashes(watchCtx)
	var runErr error
	for _, st := range steps {
		if runErr = r.waitUntil(ctx, sc.Start.Add(st.At)); runErr != nil {
			break
		}
		r.exec(ctx, st)
	}
	if runErr == nil {
		runErr = r.waitUntil(ctx, sc.Start.Add(sc.Duration))
	}
	stopWatch()
	end := s.Clock.Now()
	runWall := time.Since(wallStart)
	_ = s.Stepper.SetSpeed(0)
	stopPoll()
	<-pollDone
	r.obs.final()
	r.obs.checkLost()

	obs := r.obs.observations(end)
	rep := Report{
		Name: sc.Name, File: sc.File, Seed: sc.Seed, Start: sc.Start, Speed: r.speed, Layout: sc.Layout,
		Results: Evaluate(sc, obs), Steps: r.steps, Timeline: r.obs.timeline(), Series: r.obs.series,
		SimDuration: end.Sub(sc.Start), StartupWall: startup, RunWall: runWall, Crashes: r.crashList(),
		Lag: s.Stepper.Stats(),
	}
	if runWall > 0 {
		rep.SimPerWall = rep.SimDuration.Seconds() / runWall.Seconds()
	}
	rep.Passed = runErr == nil && len(rep.Crashes) == 0
	for _, x := range rep.Results {
		rep.Passed = rep.Passed && x.Passed
	}
	for _, st := range rep.Steps {
		rep.Passed = rep.Passed && st.Error == ""
	}
	return rep, runErr
}

func nonNil(rules []mockllm.Rule) []mockllm.Rule {
	if rules == nil {
		return []mockllm.Rule{}
	}
	return rules
}

// waitUntil runs the clock to t at the run's speed and returns once every
// process has handled t: a step acts between two clock steps, at the same
// simulated instant in every run.
func (r *run) waitUntil(ctx context.Context, t time.Time) error {
	if !r.stack.Stepper.State().SimTime.Before(t) {
		return nil
	}
	if err := r.stack.Stepper.RunUntil(ctx, t); err != nil {
		return fmt.Errorf("simulated clock did not reach %s: %w", t.Format(time.TimeOnly), err)
	}
	return nil
}

// watchCrashes records the deaths the harness reports until ctx ends.
func (r *run) watchCrashes(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-r.stack.Failed():
			line, _, _ := strings.Cut(err.Error(), "\n")
			at := r.stack.Clock.Now()
			r.crashMu.Lock()
			r.crashes = append(r.crashes, fmt.Sprintf("at %s: %s (restarted by the harness)", fmtOffset(at.Sub(r.sc.Start)), line))
			r.crashMu.Unlock()
			r.obs.add(Entry{At: at, Kind: "error", Text: line})
			r.progress("[%s] %s", fmtOffset(at.Sub(r.sc.Start)), line)
		}
	}
}

func (r *run) crashList() []string {
	r.crashMu.Lock()
	defer r.crashMu.Unlock()
	return slices.Clone(r.crashes)
}

// exec carries out one step through the control APIs and records it.
func (r *run) exec(ctx context.Context, st Step) {
	err := r.do(ctx, st)
	at := r.stack.Clock.Now()
	res := StepResult{Line: st.Line, Kind: st.Kind, At: at, Offset: fmtOffset(at.Sub(r.sc.Start))}
	text := st.Kind + " " + describeStep(st)
	if st.Note != "" {
		text += " — " + st.Note
	}
	if err != nil {
		res.Error = err.Error()
		text += " FAILED: " + err.Error()
	}
	r.steps = append(r.steps, res)
	r.obs.add(Entry{At: at, Kind: "step", Zone: stepZone(st), Text: text})
	r.progress("[%s] %s", res.Offset, text)
}

func (r *run) do(ctx context.Context, st Step) error {
	edgeURL := r.stack.URL(harness.Edge)
	mock := r.stack.URL(harness.MockLLM)
	zone := func(z string) string { return edgeURL + "/zones/" + url.PathEscape(z) }
	switch st.Kind {
	case StepPeople:
		return r.send(ctx, http.MethodPatch, zone(st.People.Zone), map[string]int{"people": st.People.Count})
	case StepZone:
		return r.send(ctx, http.MethodPatch, zone(st.Zone.Zone), st.Zone)
	case StepPerson:
		return r.person(ctx, zone(st.Person.Zone), st.Person)
	case StepScene:
		return r.send(ctx, http.MethodPut, zone(st.Scene.Zone)+"/scene", map[string]any{"people": nonNilPeople(st.Scene.People)})
	case StepRamp:
		body := map[string]any{"channel": st.Ramp.Channel, "to": st.Ramp.To, "over": st.Ramp.Over.String()}
		if st.Ramp.From != nil {
			body["from"] = *st.Ramp.From
		}
		return r.send(ctx, http.MethodPost, zone(st.Ramp.Zone)+"/ramps", body)
	case StepFault:
		u := edgeURL + "/devices/" + url.PathEscape(st.Fault.Device) + "/fault"
		if st.Fault.Clear {
			return r.send(ctx, http.MethodDelete, u, nil)
		}
		return r.send(ctx, http.MethodPut, u, st.Fault)
	case StepOutside:
		return r.send(ctx, http.MethodPatch, edgeURL+"/outside", st.Outside)
	case StepLLMFault:
		if st.LLMFault.Clear {
			return r.send(ctx, http.MethodDelete, mock+"/control/faults", nil)
		}
		return r.send(ctx, http.MethodPost, mock+"/control/faults", st.LLMFault.Fault)
	case StepLLMRules:
		return r.send(ctx, http.MethodPost, mock+"/control/rules", mockllm.RuleSet{Mode: st.LLMRules.Mode, Rules: nonNil(st.LLMRules.Rules), Faults: st.LLMRules.Faults})
	case StepClock:
		return r.clockStep(ctx, st.Clock)
	case StepPublish:
		return r.pub.PublishJSON(ctx, st.Publish.Topic, 1, st.Publish.Retain, st.Publish.Payload)
	case StepProcess:
		return r.process(ctx, st.Process)
	case StepComplete:
		return r.completeTask(ctx, st.Complete)
	}
	return fmt.Errorf("unknown step kind %q", st.Kind)
}

func nonNilPeople(p []ScenePerson) []ScenePerson {
	if p == nil {
		return []ScenePerson{}
	}
	return p
}

func (r *run) person(ctx context.Context, zoneURL string, p *PersonStep) error {
	action := p.Action
	if action == "" {
		action = "add"
		if p.ID != "" {
			var sc scene.Zone
			if err := r.call(ctx, http.MethodGet, zoneURL+"/scene", nil, &sc); err != nil {
				return err
			}
			if slices.ContainsFunc(sc.People, func(x scene.Person) bool { return x.ID == p.ID }) {
				action = "update"
			}
		}
	}
	body := map[string]any{}
	if p.Posture != "" {
		body["posture"] = p.Posture
	}
	for k, v := range map[string]*float64{"x": p.X, "y": p.Y, "motion": p.Motion} {
		if v != nil {
			body[k] = *v
		}
	}
	switch action {
	case "remove":
		return r.send(ctx, http.MethodDelete, zoneURL+"/people/"+url.PathEscape(p.ID), nil)
	case "update":
		return r.send(ctx, http.MethodPatch, zoneURL+"/people/"+url.PathEscape(p.ID), body)
	}
	if p.ID != "" {
		body["id"] = p.ID
	}
	return r.send(ctx, http.MethodPost, zoneURL+"/people", body)
}

func (r *run) clockStep(ctx context.Context, c *ClockStep) error {
	if c.Speed != nil {
		r.speed = *c.Speed
	}
	if c.Pause > 0 {
		if err := r.stack.Stepper.SetSpeed(0); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.Pause):
		}
	}
	return r.stack.Stepper.SetSpeed(r.speed)
}

func (r *run) send(ctx context.Context, method, u string, body any) error {
	return r.call(ctx, method, u, body, nil)
}

func (r *run) call(ctx context.Context, method, u string, in, out any) error {
	return r.api.Do(ctx, method, u, in, out)
}

func stepZone(st Step) string {
	switch {
	case st.People != nil:
		return st.People.Zone
	case st.Zone != nil:
		return st.Zone.Zone
	case st.Person != nil:
		return st.Person.Zone
	case st.Scene != nil:
		return st.Scene.Zone
	case st.Ramp != nil:
		return st.Ramp.Zone
	}
	return ""
}

func describeStep(st Step) string {
	var v any
	switch st.Kind {
	case StepPeople:
		return fmt.Sprintf("%s → %d people", st.People.Zone, st.People.Count)
	case StepRamp:
		return fmt.Sprintf("%s %s → %g over %v", st.Ramp.Zone, st.Ramp.Channel, st.Ramp.To, st.Ramp.Over)
	case StepZone:
		b, _ := json.Marshal(st.Zone)
		return st.Zone.Zone + " " + string(b)
	case StepPerson:
		return fmt.Sprintf("%s %s %s %s", st.Person.Zone, st.Person.Action, st.Person.ID, st.Person.Posture)
	case StepScene:
		return fmt.Sprintf("%s → %d people", st.Scene.Zone, len(st.Scene.People))
	case StepFault:
		b, _ := json.Marshal(st.Fault)
		return st.Fault.Device + " " + string(b) + map[bool]string{true: " (clear)"}[st.Fault.Clear]
	case StepOutside:
		v = st.Outside
	case StepLLMFault:
		if st.LLMFault.Clear {
			return "clear"
		}
		v = st.LLMFault.Fault
	case StepLLMRules:
		return fmt.Sprintf("%d rules (%s)", len(st.LLMRules.Rules), st.LLMRules.Mode)
	case StepClock:
		if st.Clock.Pause > 0 {
			return fmt.Sprintf("pause %v (wall)", st.Clock.Pause)
		}
		return fmt.Sprintf("speed %g", *st.Clock.Speed)
	case StepPublish:
		return st.Publish.Topic
	case StepProcess:
		return st.Process.Action + " " + st.Process.Name
	case StepComplete:
		return fmt.Sprintf("%s completes %q in %s", st.Complete.Person, st.Complete.Title, st.Complete.Zone)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
