package scenario

import (
	"context"
	"errors"
	"fmt"
	"github.com/somsgo/soms/sim/stepper"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scene"
)

// Options configure one scenario run.
type Options struct {
	// File is the scenario to run (ignored when Scenario is set).
	File     string
	Scenario *Scenario
	// Target is the system to run against (DialSim: a running `soms sim`);
	// nil starts a native stack for the run and stops it after.
	Target Target
	// Binary is the soms executable the stack runs (default: this
	// program); Binary, Output and LogLevel are for a stack Run starts.
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

// run is one scenario run in progress.
type run struct {
	sc     *Scenario
	opts   Options
	target Target
	clock  Clock
	pub    *bus.Client
	obs    *observer
	api    httpx.Client
	speed  float64
	steps  []StepResult
	// people are the accounts complete_task steps made, by name.
	people map[string]*person
	// crashes are the deaths the harness saw and the scenario did not ask for.
	crashMu sync.Mutex
	crashes []string
}

// Run plays the scenario against Options.Target, or against a native stack
// it starts for the run, and evaluates the expectations. The error is for
// runs that could not be carried out (stack failure, bad scenario, an office
// that is not the scenario's); failed expectations only make Report.Passed
// false.
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
	target := opts.Target
	if target == nil {
		stack, err := harness.Start(ctx, harness.Options{
			Binary: opts.Binary, Speed: 0, Start: sc.Start, Layout: sc.Layout, Seed: sc.Seed,
			LogLevel: opts.LogLevel, Output: opts.Output, Cameras: sc.Cameras,
		})
		if err != nil {
			return Report{}, fmt.Errorf("scenario %s: starting the stack: %w", sc.Name, err)
		}
		defer stack.Stop()
		target = Native(stack)
	}
	r := &run{sc: sc, opts: opts, target: target, clock: target.Clock(), speed: speed,
		api: httpx.Client{HTTP: &http.Client{Timeout: 10 * time.Second}, MaxAnswer: 64 << 20}, people: map[string]*person{}}
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

// play runs the scenario on the target from Begin to End.
func (r *run) play(ctx context.Context, began time.Time) (_ Report, err error) {
	sess, err := r.target.Begin(ctx, r.sc)
	if err != nil {
		return Report{}, fmt.Errorf("scenario %s: %w", r.sc.Name, err)
	}
	defer func() {
		// Given back even when the run was cancelled.
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if eerr := r.target.End(ectx); eerr != nil {
			err = errors.Join(err, fmt.Errorf("giving the office back: %w", eerr))
		}
	}()
	if !sess.Start.Equal(r.sc.Start) {
		r.progress("scenario %q starts %s, but the office's clock is past it and is not set back: it runs from %s", r.sc.Name,
			r.sc.Start.Format(time.DateTime), sess.Start.Format(time.DateTime))
		sc := *r.sc
		sc.Start = sess.Start
		r.sc = &sc
	}
	mon, err := r.connect(ctx)
	if err != nil {
		return Report{}, err
	}
	defer r.pub.Close()
	defer mon.Close()
	if sess.History {
		if err := r.obs.noteHistory(ctx); err != nil {
			return Report{}, err
		}
	}
	return r.timeline(ctx, began, sess)
}

// connect connects the step publisher and the observer to the broker and
// sets the observer up.
func (r *run) connect(ctx context.Context) (*bus.Client, error) {
	sc, t := r.sc, r.target
	quiet := slog.New(slog.DiscardHandler)
	r.pub = bus.New(t.MQTT(mqttacl.UserSim), "scenario", quiet, nil)
	mon := bus.New(t.MQTT(mqttacl.UserMonitor), "scenario-observer", quiet, nil)
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := errors.Join(r.pub.WaitConnected(cctx), mon.WaitConnected(cctx)); err != nil {
		r.pub.Close()
		mon.Close()
		return nil, fmt.Errorf("scenario observer cannot reach the broker: %w", err)
	}

	r.obs = newObserver(r.clock, sc.Start)
	r.obs.backend, r.obs.brain, r.obs.mock, r.obs.walletURL = t.URL(harness.Backend), t.URL(harness.Brain), t.URL(harness.MockLLM), r.opts.WalletURL
	if r.obs.walletURL == "" {
		r.obs.walletURL = t.URL(harness.Wallet)
	}
	r.obs.walletToken = t.Token() // the wallet answers services only
	for _, e := range sc.Expect {
		if e.World != nil && !slices.Contains(r.obs.worldZone, e.World.Zone) {
			r.obs.worldZone = append(r.obs.worldZone, e.World.Zone)
		}
		if e.Wallet != nil && !slices.Contains(r.obs.walletIDs, e.Wallet.User) {
			r.obs.walletIDs = append(r.obs.walletIDs, e.Wallet.User)
		}
	}
	err := mon.Subscribe(ctx, topic.SimClock, 0, func(m bus.Message) {
		r.obs.onClock(m)
		if st, err := clock.ParseState(m.Payload); err == nil {
			r.clock.Follow(st)
		}
	})
	for _, f := range []string{topic.OfficeAll, topic.MCPRequests, scene.TopicAll} {
		if err == nil {
			err = mon.Subscribe(ctx, f, 0, r.obs.onMessage)
		}
	}
	if err != nil {
		r.pub.Close()
		mon.Close()
		return nil, err
	}
	return mon, nil
}

// timeline sets the scene, runs the clock through the steps and evaluates.
func (r *run) timeline(ctx context.Context, began time.Time, sess Session) (Report, error) {
	sc := r.sc
	if len(sc.LLM.Rules)+len(sc.LLM.Faults) > 0 || sc.LLM.Mode == mockllm.ModeReplace {
		if err := r.send(ctx, http.MethodPost, r.target.URL(harness.MockLLM)+"/control/rules", mockllm.RuleSet{Mode: sc.LLM.Mode, Rules: nonNil(sc.LLM.Rules), Faults: sc.LLM.Faults}); err != nil {
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
	if err := r.clock.ResetStats(ctx); err != nil {
		return Report{}, err
	}
	if err := r.clock.SetSpeed(ctx, r.speed); err != nil {
		return Report{}, err
	}
	ready := "stack up"
	if sess.History {
		ready = "office ready"
	}
	r.progress("scenario %q: %s in %.1fs; running %v of simulated time at %s×", sc.Name, ready, startup.Seconds(), sc.Duration, stepper.Speed(r.speed))
	// The target restarts what dies on its own; the run goes on and fails.
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); r.watchCrashes(r.target.Crashes(watchCtx)) }()
	defer func() { stopWatch(); <-watchDone }()
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
	<-watchDone
	end := r.clock.Now()
	runWall := time.Since(wallStart)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = r.clock.SetSpeed(fctx, 0)
	stopPoll()
	<-pollDone
	r.obs.final()
	r.obs.checkLost()
	lag, err := r.clock.Stats(fctx)
	if err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("reading how the processes kept up: %w", err))
	}
	return r.report(end, startup, runWall, lag, runErr), runErr
}

// waitUntil runs the clock to t at the run's speed and returns once every
// process has handled t: a step acts between two clock steps, at the same
// simulated instant in every run.
func (r *run) waitUntil(ctx context.Context, t time.Time) error {
	if !r.clock.Now().Before(t) {
		return nil
	}
	if err := r.clock.RunUntil(ctx, t); err != nil {
		return fmt.Errorf("simulated clock did not reach %s: %w", t.Format(time.TimeOnly), err)
	}
	return nil
}

// watchCrashes records the deaths the target reports until it closes ch.
func (r *run) watchCrashes(ch <-chan Crash) {
	for c := range ch {
		at := c.At
		if at.IsZero() {
			at = r.clock.Now()
		}
		r.crashMu.Lock()
		r.crashes = append(r.crashes, fmt.Sprintf("at %s: %s (restarted by the harness)", fmtOffset(at.Sub(r.sc.Start)), c.Text))
		r.crashMu.Unlock()
		r.obs.add(Entry{At: at, Kind: "error", Text: c.Text})
		r.progress("[%s] %s", fmtOffset(at.Sub(r.sc.Start)), c.Text)
	}
}

func (r *run) crashList() []string {
	r.crashMu.Lock()
	defer r.crashMu.Unlock()
	return slices.Clone(r.crashes)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
