package clock

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// State is what the harness publishes on the retained clock topic. It has two
// forms.
//
// Free-running (Step 0): at wall instant WallTime the simulated time was
// SimTime, and it advances Speed simulated seconds per wall second; Speed 0 is
// paused. Every process extrapolates on its own, whatever it manages.
//
// Stepped (Step > 0, the closed loop): simulated time stands at SimTime until
// the next step. Each process reports on the progress topic once it has
// handled the step (Sim.Settle), and the harness publishes the next step only
// when every process has, so the clock never runs ahead of the slowest one.
// Speed is then the ceiling the harness paces the steps at (0: none, as fast
// as the processes allow); WallTime is when the step was published.
//
// Paused says the harness publishes no next step until told to (Speed is 0
// then). A stepped clock without a ceiling also says speed 0, so Speed
// alone cannot tell the two apart: read Pace. Paused was added after Speed
// and is left out when false, so a follower that predates it reads the same
// state as before (a stepped clock stands still between steps either way).
type State struct {
	SimTime  time.Time `json:"sim_time"`
	WallTime time.Time `json:"wall_time"`
	Speed    float64   `json:"speed"`
	Step     uint64    `json:"step,omitempty"`
	Paused   bool      `json:"paused,omitempty"`
}

// Stepped reports whether the state is a step of the closed-loop clock.
func (s State) Stepped() bool { return s.Step > 0 }

// Pace is the speed in one number, as the harness and its control API
// mean it: 0 paused, +Inf as fast as the processes allow (a stepped clock
// without a ceiling), else simulated seconds per wall second (on a stepped
// clock, the ceiling).
func (s State) Pace() float64 {
	switch {
	case s.Paused:
		return 0
	case s.Stepped() && s.Speed == 0:
		return math.Inf(1)
	}
	return s.Speed
}

// WithPace returns s set to pace p (Pace's meaning). +Inf is a stepped
// clock's; a free-running state set to it stands still.
func (s State) WithPace(p float64) State {
	s.Paused = p == 0
	s.Speed = p
	if math.IsInf(p, 1) {
		s.Speed = 0
	}
	return s
}

// At returns the simulated time at wall instant wall.
func (s State) At(wall time.Time) time.Time {
	if s.Speed == 0 || s.Paused || s.Stepped() {
		return s.SimTime
	}
	return s.SimTime.Add(time.Duration(float64(wall.Sub(s.WallTime)) * s.Speed))
}

// Validate reports whether the state can drive a clock.
func (s State) Validate() error {
	switch {
	case s.SimTime.IsZero():
		return errors.New("clock state: sim_time is missing")
	case s.Speed < 0 || math.IsNaN(s.Speed) || math.IsInf(s.Speed, 0):
		return fmt.Errorf("clock state: speed %v is not a number of simulated seconds per wall second", s.Speed)
	case s.Paused && s.Speed > 0:
		// A follower that predates paused would run it at that speed.
		return fmt.Errorf("clock state: paused at speed %v (a paused state says speed 0)", s.Speed)
	case s.Speed > 0 && !s.Stepped() && s.WallTime.IsZero():
		return errors.New("clock state: wall_time is missing")
	}
	return nil
}

// ParseState decodes and validates a clock message.
func ParseState(b []byte) (State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("clock state: %w", err)
	}
	return s, s.Validate()
}

// Sim is a simulated clock driven by State updates. Timers fire when simulated
// time reaches their deadline, whether it gets there by running at speed or by
// a jump (Set, Advance, or the next step of a stepped clock). Timers due at a
// jump fire before the jump returns, which keeps tests that drive a manual
// clock deterministic. A tick carries the simulated instant it was due.
//
// On a stepped clock the Sim also knows whether its process has handled the
// current step (Settle): every tick delivered has been received, and no Hold
// — work in progress, such as a WorkTimer's firing being handled — is held.
type Sim struct {
	wall func() time.Time

	mu      sync.Mutex
	st      State
	timers  timerHeap
	running bool
	wake    chan struct{}
	synced  chan struct{}
	isSync  bool
	// scheduled is closed and replaced whenever a timer is scheduled.
	scheduled chan struct{}

	// holds are the process's work in progress, with when each was taken.
	holds map[*Hold]holdState
	// owed are ticks delivered by a step and perhaps not received yet.
	owed []owedTick
	// released is closed and replaced whenever a hold is released.
	released chan struct{}
	// deferred are holds that take effect at a later step (Wait.Delivered):
	// hold → the step they take effect at. effected is closed and replaced
	// whenever some take effect or are cancelled.
	deferred map[*Hold]uint64
	effected chan struct{}

	// sent and received are the messages to and from other processes noted
	// since the progress reporter last took them; noted signals a new one.
	sent, received []string
	noted          chan struct{}
	// expired counts holds and ticks that outlived Settle's lease.
	expired uint64
}

type holdState struct {
	since   time.Time // wall
	expired bool
}

type owedTick struct {
	t  *simTimer
	at time.Time // wall
}

// NewSim returns a clock that is paused at the current wall time until the first
// Set; Synced reports when that happens.
func NewSim() *Sim {
	return &Sim{
		wall:   time.Now,
		st:     State{SimTime: time.Now(), Speed: 0},
		wake:   make(chan struct{}, 1),
		synced: make(chan struct{}),

		scheduled: make(chan struct{}),
		holds:     map[*Hold]holdState{},
		released:  make(chan struct{}),
		deferred:  map[*Hold]uint64{},
		effected:  make(chan struct{}),
		noted:     make(chan struct{}, 1),
	}
}

// BlockUntil waits until at least n timers are pending, so a test can move a
// manual clock only after the code under test has started waiting on it.
func (s *Sim) BlockUntil(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		pending, ch := len(s.timers), s.scheduled
		s.mu.Unlock()
		if pending >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// NewManual returns a paused clock at t that only moves with Advance or Set;
// it is the clock for unit tests.
func NewManual(t time.Time) *Sim {
	s := NewSim()
	s.Set(State{SimTime: t})
	return s
}

// Synced is closed once the clock has received its first state.
func (s *Sim) Synced() <-chan struct{} { return s.synced }

// State returns the current anchor, re-based to now so it can be republished.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.wall()
	st := s.st
	st.SimTime, st.WallTime = s.st.At(w), w
	return st
}

// Set replaces the clock's anchor and fires every timer that became due.
func (s *Sim) Set(st State) {
	s.mu.Lock()
	s.st = st
	if !s.isSync {
		s.isSync = true
		close(s.synced)
	}
	s.effectDeferredLocked()
	s.fireDueLocked()
	s.kickLocked()
	s.mu.Unlock()
}

// Advance jumps simulated time forward by d, keeping the current speed.
func (s *Sim) Advance(d time.Duration) {
	st := s.State()
	st.SimTime = st.SimTime.Add(d)
	s.Set(st)
}

// SetSpeed changes the speed from now on without a jump in simulated time
// (0 pauses).
func (s *Sim) SetSpeed(speed float64) {
	s.Set(s.State().WithPace(speed))
}

// Now returns the current simulated time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.At(s.wall())
}

func (s *Sim) nowLocked() time.Time { return s.st.At(s.wall()) }

// NewTimer returns a timer firing after d of simulated time.
func (s *Sim) NewTimer(d time.Duration) Timer {
	t := &simTimer{s: s, c: make(chan time.Time, 1), index: -1}
	s.mu.Lock()
	s.scheduleLocked(t, d)
	s.mu.Unlock()
	return t
}

// NewTicker returns a ticker firing every d of simulated time.
func (s *Sim) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker interval")
	}
	t := &simTimer{s: s, c: make(chan time.Time, 1), index: -1, period: d}
	s.mu.Lock()
	s.scheduleLocked(t, d)
	s.mu.Unlock()
	return simTicker{t}
}

// simTicker adapts a periodic simTimer to the Ticker interface.
type simTicker struct{ t *simTimer }

func (k simTicker) C() <-chan time.Time { return k.t.c }
func (k simTicker) Stop()               { k.t.Stop() }

func (s *Sim) scheduleLocked(t *simTimer, d time.Duration) {
	s.scheduleAtLocked(t, s.nowLocked().Add(d))
}

func (s *Sim) scheduleAtLocked(t *simTimer, deadline time.Time) {
	t.deadline = deadline
	heap.Push(&s.timers, t)
	close(s.scheduled)
	s.scheduled = make(chan struct{})
	s.fireDueLocked()
	s.kickLocked()
}

// fireDueLocked delivers every timer whose deadline has passed, in deadline
// order. Like time.Timer, a value is dropped if the previous one has not been
// received; a ticker keeps its phase, skipping the ticks a jump passed over.
func (s *Sim) fireDueLocked() {
	now := s.nowLocked()
	for len(s.timers) > 0 && !s.timers[0].deadline.After(now) {
		t := heap.Pop(&s.timers).(*simTimer)
		due := t.deadline
		if t.period > 0 {
			due = due.Add(now.Sub(due) / t.period * t.period)
			t.deadline = due.Add(t.period)
			heap.Push(&s.timers, t)
		}
		s.deliverLocked(t, due)
	}
}

// deliverLocked hands tick v to t's channel. A work timer's tick is held until
// its owner is done with it; on a stepped clock any other tick is owed until
// received.
func (s *Sim) deliverLocked(t *simTimer, v time.Time) {
	select {
	case t.c <- v:
	default:
		return
	}
	switch {
	case t.work != nil:
		if t.owing == 0 {
			s.holdLocked(t.work)
		}
		t.owing++
	case s.st.Stepped():
		s.owed = append(s.owed, owedTick{t, time.Now()})
	}
}

// kickLocked makes sure the scheduler goroutine runs while timers are pending
// and re-evaluates its wait.
func (s *Sim) kickLocked() {
	if len(s.timers) == 0 {
		return
	}
	if !s.running {
		s.running = true
		go s.run()
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run waits in wall time for the earliest deadline at the current speed. A
// stepped clock does not run on its own: the next step moves it.
func (s *Sim) run() {
	for {
		s.mu.Lock()
		s.fireDueLocked()
		if len(s.timers) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		var wait <-chan time.Time
		var wt *time.Timer
		if s.st.Speed > 0 && !s.st.Stepped() {
			d := time.Duration(float64(s.timers[0].deadline.Sub(s.nowLocked())) / s.st.Speed)
			if d < time.Microsecond {
				d = time.Microsecond
			}
			wt = time.NewTimer(d)
			wait = wt.C
		}
		s.mu.Unlock()
		select {
		case <-wait:
		case <-s.wake:
		}
		if wt != nil {
			wt.Stop()
		}
	}
}

type simTimer struct {
	s        *Sim
	c        chan time.Time
	deadline time.Time
	period   time.Duration
	index    int
	// work, for a WorkTimer, is held while owing ticks are being handled.
	work  *Hold
	owing int
}

func (t *simTimer) C() <-chan time.Time { return t.c }

func (t *simTimer) Stop() bool {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	pending := t.index >= 0
	if pending {
		heap.Remove(&t.s.timers, t.index)
	}
	t.drain()
	t.doneLocked(t.owing)
	return pending
}

func (t *simTimer) Reset(d time.Duration) bool {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	pending := t.unscheduleLocked()
	t.s.scheduleLocked(t, d)
	return pending
}

func (t *simTimer) resetAt(at time.Time) bool {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	pending := t.unscheduleLocked()
	t.s.scheduleAtLocked(t, at)
	return pending
}

// unscheduleLocked takes t off the heap and discards an undelivered tick;
// it reports whether t was pending.
func (t *simTimer) unscheduleLocked() bool {
	pending := t.index >= 0
	if pending {
		heap.Remove(&t.s.timers, t.index)
	}
	if t.drain() {
		t.doneLocked(1) // a discarded tick is no work
	}
	return pending
}

// ResetAt re-arms t, a timer of c, to fire at instant at of c's time (at
// once if that has passed) and reports whether it was pending. On a
// simulated clock the deadline is set as is, not as a duration from a Now
// read before: a step that comes in between cannot move it by a step.
func ResetAt(c Clock, t Timer, at time.Time) bool {
	if st, ok := t.(*simTimer); ok {
		return st.resetAt(at)
	}
	return t.Reset(at.Sub(c.Now()))
}

// drain discards an undelivered tick so Stop/Reset never leave a stale value,
// matching time.Timer since Go 1.23. It reports whether there was one.
func (t *simTimer) drain() bool {
	select {
	case <-t.c:
		return true
	default:
		return false
	}
}

type timerHeap []*simTimer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*simTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}

// Progress is a process's acknowledgement of a clock step, published on
// topic.SimProgress(Process): it has handled every step up to Step (simulated
// time SimTime). Gone says the process is leaving and is no longer waited for.
type Progress struct {
	Process  string    `json:"process"`
	Instance string    `json:"instance"`
	Step     uint64    `json:"step"`
	SimTime  time.Time `json:"sim_time"`
	// Expired counts the process's holds that outlived their lease so far.
	Expired uint64 `json:"expired,omitempty"`
	Gone    bool   `json:"gone,omitempty"`
	// Sent and Received are the messages to and from other processes the
	// process noted since its last acknowledgement (Sent, Received): the
	// clock goes on only once every message sent has been received, or a
	// lease has passed.
	Sent     []string `json:"sent,omitempty"`
	Received []string `json:"received,omitempty"`
}

// Sent notes that the process has sent message id to another process that
// follows the clock, on a path that does not carry the clock (a device's own
// MQTT connection): on a stepped clock the next step waits until the
// receiver notes it Received, so the receiver takes it at the instant it was
// sent in every run, however late its connection delivers it. Elsewhere it
// does nothing. Ids are unique across processes (prefixed by kind).
func Sent(c Clock, id string) {
	if s, ok := c.(*Sim); ok {
		s.note(&s.sent, id)
	}
}

// Received notes that the process has taken message id (see Sent).
func Received(c Clock, id string) {
	if s, ok := c.(*Sim); ok {
		s.note(&s.received, id)
	}
}

func (s *Sim) note(list *[]string, id string) {
	s.mu.Lock()
	if !s.st.Stepped() {
		s.mu.Unlock()
		return
	}
	*list = append(*list, id)
	s.mu.Unlock()
	select {
	case s.noted <- struct{}{}:
	default:
	}
}

// Noted is signalled when a message is noted (Sent, Received).
func (s *Sim) Noted() <-chan struct{} { return s.noted }

// TakeNotes returns the messages noted since the last call and forgets them.
func (s *Sim) TakeNotes() (sent, received []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sent, received = s.sent, s.received
	s.sent, s.received = nil, nil
	return sent, received
}
