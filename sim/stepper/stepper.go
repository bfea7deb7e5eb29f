// Package stepper drives the shared simulated clock in closed loop: it
// publishes the clock in steps (retained, on soms/sim/clock) and publishes the
// next step only once every process following the clock has acknowledged the
// current one on soms/sim/progress/{process} — so simulated time never runs
// more than one step ahead of the slowest process, whatever the load. A
// numeric speed is a ceiling the steps are paced at; speed max (+Inf) runs as
// fast as the processes allow. The native harness and the compose driver
// (infra/stack) drive their clocks with it.
package stepper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/topic"
)

// Max is the speed that has no ceiling: as fast as the processes allow.
var Max = math.Inf(1)

// Options tune a stepper; zero values take the defaults.
type Options struct {
	// Step is the simulated time per step (default 1s): a timer fires at the
	// first step at or after its deadline.
	Step time.Duration
	// Resend is how long (wall) a step waits for its acknowledgements before
	// it is published again — they, or the step, may have been lost with a
	// broker restart (default 1s).
	Resend time.Duration
	// Lost is how long (wall) a process may stay silent on a step before the
	// clock stops waiting for it (it rejoins with its next acknowledgement;
	// default 10s).
	Lost time.Duration
	// Join is how long (wall) the clock waits for an expected process's
	// first acknowledgement (default 2m).
	Join time.Duration
	// CatchUp bounds how far (wall) the steps may lag their pace at a
	// numeric speed before the pace is re-anchored instead of caught up
	// (default 1s).
	CatchUp time.Duration
	// InFlight is how long (wall) a message one process noted sent may wait
	// for its receiver's note before the clock stops waiting: the receiver
	// may be gone, or be no process of the simulation (a real device;
	// default clock.HoldLease).
	InFlight time.Duration
	Log      *slog.Logger
}

func (o *Options) defaults() {
	if o.Step <= 0 {
		o.Step = time.Second
	}
	if o.Resend <= 0 {
		o.Resend = time.Second
	}
	if o.Lost <= 0 {
		o.Lost = 10 * time.Second
	}
	if o.Join <= 0 {
		o.Join = 2 * time.Minute
	}
	if o.CatchUp <= 0 {
		o.CatchUp = time.Second
	}
	if o.InFlight <= 0 {
		o.InFlight = clock.HoldLease
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// publisher is the part of the MQTT client the stepper needs.
type publisher interface {
	PublishJSON(ctx context.Context, topic string, qos byte, retain bool, v any) error
	Subscribe(ctx context.Context, filter string, qos byte, h bus.Handler) error
}

// Stepper is the closed-loop clock driver.
type Stepper struct {
	opts   Options
	bus    publisher
	mirror *clock.Sim
	kick   chan struct{}

	mu  sync.Mutex
	cur clock.State // the step published last
	// wall is when cur was published (first time).
	wall time.Time
	// resent is when cur was last published.
	resent time.Time
	speed  float64 // ceiling; 0 paused; Max
	// republish says the current step changed (its speed) since it was
	// published.
	republish bool
	// anchor paces a numeric speed: sim anchorSim at wall anchorWall.
	anchorSim  time.Time
	anchorWall time.Time
	until      time.Time // stop advancing here (zero: never)
	jump       time.Time // the next step's time, when set
	procs      map[string]*proc
	expect     map[string]time.Time // process name → waited for since (wall)
	stats      map[string]*ProcessStats
	// inflight are messages noted sent and not yet received (id → when
	// noted, wall, and by whom); early are those received before their
	// sender's note came in.
	inflight map[string]sentMsg
	early    map[string]time.Time
	steps    uint64
	// changed is closed and replaced whenever a step is published or
	// acknowledged.
	changed chan struct{}
	err     error // the loop ended
	done    chan struct{}
}

// sentMsg is a message in flight between two processes.
type sentMsg struct {
	from  string
	since time.Time
}

// proc is one instance of a process following the clock.
type proc struct {
	name     string
	instance string
	step     uint64
	sim      time.Time
	seen     time.Time // wall, last acknowledgement
	lost     bool
	expired  uint64
}

// ProcessStats is how one process kept up.
type ProcessStats struct {
	Process string `json:"process"`
	// Steps it acknowledged.
	Steps uint64 `json:"steps"`
	// AckMean and AckMax are the wall time from a step's publication to the
	// process's acknowledgement.
	AckMean time.Duration `json:"ack_mean_ns"`
	AckMax  time.Duration `json:"ack_max_ns"`
	// Slowest counts the steps it was the last to acknowledge.
	Slowest uint64 `json:"slowest"`
	// Lost counts the times the clock stopped waiting for it.
	Lost uint64 `json:"lost"`
	// Expired is what the process reported: holds that outlived the lease.
	Expired uint64 `json:"expired"`
	// MaxLag is the most simulated time the clock was ahead of the
	// process's last acknowledged step when a step was published.
	MaxLag time.Duration `json:"max_lag_ns"`
	// Unreceived counts the messages it sent that no process noted
	// received within Options.InFlight.
	Unreceived uint64 `json:"unreceived,omitempty"`

	ackSum time.Duration
}

// New returns a stepper publishing through b; mirror (may be nil) is set to
// every step and every change of speed, for the harness's own view of the
// time.
func New(b publisher, mirror *clock.Sim, opts Options) *Stepper {
	opts.defaults()
	return &Stepper{
		opts: opts, bus: b, mirror: mirror, kick: make(chan struct{}, 1),
		procs: map[string]*proc{}, expect: map[string]time.Time{}, stats: map[string]*ProcessStats{},
		inflight: map[string]sentMsg{}, early: map[string]time.Time{},
		changed: make(chan struct{}), done: make(chan struct{}),
	}
}

// Start publishes the first step at start, running at speed (0: paused), and
// runs the clock until ctx is cancelled.
func (s *Stepper) Start(ctx context.Context, start time.Time, speed float64) error {
	if speed < 0 || math.IsNaN(speed) {
		return fmt.Errorf("stepper: speed %v", speed)
	}
	if err := s.bus.Subscribe(ctx, topic.SimProgressAll, 0, s.onProgress); err != nil {
		return fmt.Errorf("stepper: %w", err)
	}
	now := time.Now()
	s.mu.Lock()
	s.speed = speed
	s.cur = clock.State{SimTime: start, WallTime: now, Step: 1}.WithPace(speed)
	s.anchorSim, s.anchorWall = start, now
	s.wall, s.resent = now, now
	s.mirrorLocked()
	st := s.cur
	s.mu.Unlock()
	if err := s.publish(ctx, st); err != nil {
		return err
	}
	go func() {
		err := s.run(ctx)
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
	}()
	return nil
}

// Done is closed when the clock stops (its context ended).
func (s *Stepper) Done() <-chan struct{} { return s.done }

// State is the current step.
func (s *Stepper) State() clock.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// StepLength is the simulated time per step.
func (s *Stepper) StepLength() time.Duration { return s.opts.Step }

// Speed is the current speed: 0 paused, Max, or a ceiling.
func (s *Stepper) Speed() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.speed
}

// SetSpeed changes the speed (0 pauses; Max lifts the ceiling) and lets the
// clock run on from where a RunUntil stopped it.
func (s *Stepper) SetSpeed(speed float64) error {
	if speed < 0 || math.IsNaN(speed) {
		return fmt.Errorf("stepper: speed %v", speed)
	}
	s.mu.Lock()
	s.setSpeedLocked(speed)
	s.until = time.Time{}
	s.anchorSim, s.anchorWall = s.cur.SimTime, time.Now()
	s.mu.Unlock()
	s.poke()
	return nil
}

// setSpeedLocked changes the speed and shows it at once in the current step
// and the mirror: a caller that reads the clock's state back (to move the
// time and keep the speed, as the harness's SetClock is used) must get the
// speed it set, not the one the last step was published with — that would
// set the clock back to it. The step is published again with it, so that the
// retained message says a paused clock is paused.
func (s *Stepper) setSpeedLocked(speed float64) {
	if speed == s.speed {
		return
	}
	s.speed = speed
	s.cur = s.cur.WithPace(speed)
	s.mirrorLocked()
	s.republish = true
}

// mirrorLocked sets the mirror to the current step. It is set under the lock
// (not with the publication that follows) so that a step and a change of
// speed reach it in the order they were made.
func (s *Stepper) mirrorLocked() {
	if s.mirror != nil {
		s.mirror.Set(s.cur)
	}
}

// Jump makes the next step simulated time t (forwards or backwards; what
// fell due in between fires at once, as after a long step) and returns once
// that step is published — after the current one was handled, paused or not.
func (s *Stepper) Jump(ctx context.Context, t time.Time) error {
	s.mu.Lock()
	s.jump = t
	from := s.cur.Step
	s.mu.Unlock()
	s.poke()
	for {
		s.mu.Lock()
		jumped := s.cur.Step > from && s.jump.IsZero()
		ch, done := s.changed, s.done
		s.mu.Unlock()
		if jumped {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errors.New("stepper: the clock stopped")
		case <-ch:
		}
	}
}

// Expect makes the clock wait for the first acknowledgement of each named
// process before it advances (at most Options.Join).
func (s *Stepper) Expect(names ...string) {
	s.mu.Lock()
	now := time.Now()
	for _, n := range names {
		if !s.joinedLocked(n) {
			s.expect[n] = now
		}
	}
	s.mu.Unlock()
	s.poke()
}

// Forget stops waiting for every instance of process name (it was stopped or
// died); it rejoins with its next acknowledgement.
func (s *Stepper) Forget(name string) {
	s.mu.Lock()
	for k, p := range s.procs {
		if p.name == name {
			delete(s.procs, k)
		}
	}
	delete(s.expect, name)
	s.mu.Unlock()
	s.poke()
}

// Republish publishes the current step again (retained), after a broker
// restart lost it.
func (s *Stepper) Republish(ctx context.Context) error {
	s.mu.Lock()
	st := s.cur
	s.resent = time.Now()
	s.mu.Unlock()
	return s.publish(ctx, st)
}

// RunUntil advances the clock to t and waits until every process has handled
// the step at t; the clock then stays at t until the next RunUntil, Jump or
// SetSpeed — the moment to act on the simulation between two steps. It runs
// at the current speed (a paused clock runs at Max).
func (s *Stepper) RunUntil(ctx context.Context, t time.Time) error {
	s.mu.Lock()
	s.until = t
	if s.speed == 0 {
		s.setSpeedLocked(Max)
	}
	s.anchorSim, s.anchorWall = s.cur.SimTime, time.Now()
	s.mu.Unlock()
	s.poke()
	for {
		s.mu.Lock()
		reached := !s.cur.SimTime.Before(t) && s.handledLocked()
		ch, done := s.changed, s.done
		s.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errors.New("stepper: the clock stopped")
		case <-ch:
		}
	}
}

// Stats is how every process kept up since the last ResetStats, slowest
// first.
func (s *Stepper) Stats() []ProcessStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProcessStats, 0, len(s.stats))
	for _, st := range s.stats {
		c := *st
		if c.Steps > 0 {
			c.AckMean = c.ackSum / time.Duration(c.Steps)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AckMean != out[j].AckMean {
			return out[i].AckMean > out[j].AckMean
		}
		return out[i].Process < out[j].Process
	})
	return out
}

// Steps is the number of steps published since the last ResetStats.
func (s *Stepper) Steps() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.steps
}

// ResetStats starts the statistics over.
func (s *Stepper) ResetStats() {
	s.mu.Lock()
	s.stats, s.steps = map[string]*ProcessStats{}, 0
	s.mu.Unlock()
}

// Processes lists the processes the clock waits for.
func (s *Stepper) Processes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.procs {
		if !p.lost && !slices.Contains(out, p.name) {
			out = append(out, p.name)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Stepper) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Stepper) onProgress(m bus.Message) {
	var p clock.Progress
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.Process == "" {
		s.opts.Log.Warn("ignoring a bad clock acknowledgement", "topic", m.Topic, "err", err)
		return
	}
	key := p.Process + "/" + p.Instance
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Gone {
		delete(s.procs, key)
		s.notifyLocked()
		s.pokeLocked()
		return
	}
	pr, ok := s.procs[key]
	if !ok {
		pr = &proc{name: p.Process, instance: p.Instance}
		s.procs[key] = pr
		delete(s.expect, p.Process)
		s.opts.Log.Info("process follows the clock", "process", p.Process, "instance", p.Instance)
	}
	if pr.lost {
		pr.lost = false
		s.opts.Log.Info("process caught up with the clock again", "process", p.Process)
	}
	first := p.Step > pr.step && p.Step == s.cur.Step
	if p.Step >= pr.step {
		pr.step, pr.sim = p.Step, p.SimTime
	}
	pr.seen, pr.expired = now, p.Expired
	s.trackLocked(p, now)
	st := s.statLocked(p.Process)
	st.Expired = p.Expired
	if first {
		d := now.Sub(s.wall)
		st.Steps++
		st.ackSum += d
		st.AckMax = max(st.AckMax, d)
		if s.handledLocked() {
			st.Slowest++
		}
	}
	s.notifyLocked()
	s.pokeLocked()
}

// trackLocked follows the messages in flight a progress message notes.
func (s *Stepper) trackLocked(p clock.Progress, now time.Time) {
	for _, id := range p.Received {
		if _, ok := s.inflight[id]; ok {
			delete(s.inflight, id)
		} else {
			s.early[id] = now
		}
	}
	for _, id := range p.Sent {
		if _, ok := s.early[id]; ok {
			delete(s.early, id)
		} else {
			s.inflight[id] = sentMsg{from: p.Process, since: now}
		}
	}
}

// inflightLocked reports how long to wait for the messages in flight (0:
// none left), letting go of those older than Options.InFlight, and of
// receipts whose note of sending never came.
func (s *Stepper) inflightLocked(now time.Time) time.Duration {
	var wait time.Duration
	for id, m := range s.inflight {
		left := s.opts.InFlight - now.Sub(m.since)
		if left <= 0 {
			delete(s.inflight, id)
			s.statLocked(m.from).Unreceived++
			s.opts.Log.Warn("a message between processes was not received; the clock goes on", "id", id, "from", m.from, "waited", now.Sub(m.since).Round(time.Millisecond))
			continue
		}
		if wait == 0 || left < wait {
			wait = left
		}
	}
	for id, at := range s.early {
		if now.Sub(at) > s.opts.Lost {
			delete(s.early, id)
		}
	}
	return wait
}

func (s *Stepper) pokeLocked() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Stepper) statLocked(name string) *ProcessStats {
	st, ok := s.stats[name]
	if !ok {
		st = &ProcessStats{Process: name}
		s.stats[name] = st
	}
	return st
}

// handledLocked reports whether every process waited for has handled cur.
func (s *Stepper) handledLocked() bool {
	for _, p := range s.procs {
		if !p.lost && p.step < s.cur.Step {
			return false
		}
	}
	return true
}

func (s *Stepper) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Stepper) joinedLocked(name string) bool {
	for _, p := range s.procs {
		if p.name == name {
			return true
		}
	}
	return false
}

// run is the clock's loop: wait until the current step is handled, pace,
// publish the next.
func (s *Stepper) run(ctx context.Context) error {
	var timer *time.Timer
	for {
		s.mu.Lock()
		next, wait, resend := s.decideLocked(time.Now())
		s.mu.Unlock()
		if resend != nil {
			if err := s.publish(ctx, *resend); err != nil && ctx.Err() == nil {
				s.opts.Log.Warn("clock step not republished", "step", resend.Step, "err", err)
			}
			continue
		}
		if next != nil {
			if err := s.publish(ctx, *next); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.opts.Log.Warn("clock step not published; retrying", "step", next.Step, "err", err)
				wait = s.opts.Resend
			} else {
				continue
			}
		}
		var tc <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-tc:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// decideLocked says what to do now: publish the next step, republish the
// current one, or wait (up to wait; 0 = until poked).
func (s *Stepper) decideLocked(now time.Time) (next *clock.State, wait time.Duration, resend *clock.State) {
	if s.republish { // the speed changed: the step says so
		s.republish = false
		s.resent = now
		st := s.cur
		return nil, 0, &st
	}
	if !s.handledLocked() {
		var late []string
		wait = s.opts.Resend - now.Sub(s.resent)
		for _, p := range s.procs {
			if p.lost || p.step >= s.cur.Step {
				continue
			}
			silent := now.Sub(latest(p.seen, s.wall))
			if silent > s.opts.Lost {
				p.lost = true
				s.statLocked(p.name).Lost++
				s.opts.Log.Warn("process silent on the clock; no longer waiting for it", "process", p.name, "instance", p.instance,
					"step", s.cur.Step, "acknowledged", p.step, "for", silent.Round(time.Millisecond))
				continue
			}
			late = append(late, p.name)
			wait = min(wait, s.opts.Lost-silent+time.Millisecond)
		}
		if len(late) == 0 { // the late ones were lost: go on without them
			s.notifyLocked()
			return s.decideLocked(now)
		}
		if now.Sub(s.resent) >= s.opts.Resend {
			s.resent = now
			st := s.cur
			return nil, 0, &st
		}
		return nil, wait, nil
	}
	if w := s.inflightLocked(now); w > 0 {
		return nil, w + time.Millisecond, nil // a message on its way: its receiver must take it in this step
	}
	for name, since := range s.expect {
		if now.Sub(since) > s.opts.Join {
			s.opts.Log.Warn("expected process never acknowledged the clock; going on without it", "process", name)
			delete(s.expect, name)
			continue
		}
		return nil, s.opts.Resend, nil // a new process gets the retained step; wait for it
	}
	jump := !s.jump.IsZero()
	if !jump && (s.speed == 0 || (!s.until.IsZero() && !s.cur.SimTime.Before(s.until))) {
		return nil, 0, nil
	}
	t := s.cur.SimTime.Add(s.opts.Step)
	if jump {
		t, s.jump = s.jump, time.Time{}
		s.anchorSim, s.anchorWall = t, now
	} else {
		if !s.until.IsZero() && t.After(s.until) {
			t = s.until
		}
		if !math.IsInf(s.speed, 1) {
			due := s.anchorWall.Add(time.Duration(float64(t.Sub(s.anchorSim)) / s.speed))
			if d := due.Sub(now); d > 0 {
				return nil, d, nil
			}
			if now.Sub(due) > s.opts.CatchUp {
				// Slower than the pace: run at what the processes manage,
				// without a burst to catch up later.
				s.anchorSim, s.anchorWall = s.cur.SimTime, now
			}
		}
	}
	for _, p := range s.procs {
		if !jump && !p.lost && !p.sim.IsZero() {
			st := s.statLocked(p.name)
			st.MaxLag = max(st.MaxLag, t.Sub(p.sim))
		}
	}
	s.cur = clock.State{SimTime: t, WallTime: now, Step: s.cur.Step + 1}.WithPace(s.speed)
	s.republish = false
	s.mirrorLocked()
	s.wall, s.resent = now, now
	s.steps++
	s.notifyLocked()
	st := s.cur
	return &st, 0, nil
}

// publish sends a step (retained).
func (s *Stepper) publish(ctx context.Context, st clock.State) error {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.bus.PublishJSON(pctx, topic.SimClock, 0, true, st); err != nil {
		return fmt.Errorf("publishing the simulated clock: %w", err)
	}
	return nil
}

// Describe summarises how the processes kept up, one line each.
func Describe(stats []ProcessStats) string {
	var b strings.Builder
	for _, st := range stats {
		fmt.Fprintf(&b, "%-13s ack mean %6.2fms max %7.2fms  slowest %5d  lost %d  expired holds %d  unreceived %d\n",
			st.Process, ms(st.AckMean), ms(st.AckMax), st.Slowest, st.Lost, st.Expired, st.Unreceived)
	}
	return b.String()
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Speed is a clock speed as the control API and scenario files write it: a
// number of simulated seconds per wall second, or "max" (Max) for as fast as
// the processes allow.
type Speed float64

// ParseSpeed reads "max" or a non-negative number.
func ParseSpeed(s string) (Speed, error) {
	if strings.EqualFold(strings.TrimSpace(s), "max") {
		return Speed(Max), nil
	}
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("speed %q: want a number of simulated seconds per wall second, or max", s)
	}
	return Speed(f), nil
}

// String is "max" or the number.
func (s Speed) String() string {
	if math.IsInf(float64(s), 1) {
		return "max"
	}
	return fmt.Sprintf("%g", float64(s))
}

// MarshalJSON writes "max" or the number.
func (s Speed) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(s), 1) {
		return []byte(`"max"`), nil
	}
	return json.Marshal(float64(s))
}

// UnmarshalJSON reads "max" or a number.
func (s *Speed) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		v, err := ParseSpeed(str)
		*s = v
		return err
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("speed: want a number or \"max\"")
	}
	*s = Speed(f)
	return nil
}
