package clock

import (
	"context"
	"runtime"
	"time"
)

// A stepped simulated clock advances only when every process has handled the
// current step. A process has handled it when every tick the step delivered
// has been received and no Hold is held: a Hold is work in progress that the
// next step must not overtake — a WorkTimer's firing being handled, a
// decision being made. Waiting is not work: a hold is released while its
// owner waits on the clock (Sleep) or on something the clock must first
// advance to deliver (Waiting), and it stops counting after Settle's lease
// of wall time, so a call to something outside the simulation never holds the
// clock for longer. On the wall clock holds are nil and cost nothing.

// HoldLease is how long (wall time) a hold or an unreceived tick keeps a
// process from reporting progress: longer than anything the simulation does
// between two steps, short enough that a wait on the outside world (a real
// LLM) costs the simulation little.
const HoldLease = time.Second

// Hold is work in progress on a simulated clock. A nil *Hold (the wall
// clock's) is valid and does nothing.
type Hold struct{ s *Sim }

// NewHold returns a held Hold on c (nil unless c is a *Sim).
func NewHold(c Clock) *Hold {
	s, ok := c.(*Sim)
	if !ok {
		return nil
	}
	h := &Hold{s: s}
	h.Resume()
	return h
}

// Release ends the hold (again: no-op).
func (h *Hold) Release() {
	if h == nil {
		return
	}
	h.s.mu.Lock()
	h.s.releaseLocked(h)
	h.s.mu.Unlock()
}

// Resume holds again after Release (held: no-op); its lease starts anew.
func (h *Hold) Resume() {
	if h == nil {
		return
	}
	h.s.mu.Lock()
	h.s.holdLocked(h)
	h.s.mu.Unlock()
}

func (s *Sim) holdLocked(h *Hold) {
	s.undeferLocked(h)
	if _, ok := s.holds[h]; !ok {
		s.holds[h] = holdState{since: time.Now()}
	}
}

func (s *Sim) releaseLocked(h *Hold) {
	s.undeferLocked(h)
	if _, ok := s.holds[h]; !ok {
		return
	}
	delete(s.holds, h)
	close(s.released)
	s.released = make(chan struct{})
}

// deferLocked makes h take effect at the next step of a stepped clock, and
// at once on any other.
func (s *Sim) deferLocked(h *Hold) {
	if _, ok := s.holds[h]; ok {
		return // held already: the current step waits for it anyway
	}
	if !s.st.Stepped() {
		s.holdLocked(h)
		return
	}
	s.deferred[h] = s.st.Step + 1
}

func (s *Sim) undeferLocked(h *Hold) {
	if _, ok := s.deferred[h]; ok {
		delete(s.deferred, h)
		s.effectedLocked()
	}
}

// effectDeferredLocked takes the deferred holds whose step has come — with
// the step, under the lock, so that Settle never sees the step without them.
func (s *Sim) effectDeferredLocked() {
	for h, step := range s.deferred {
		if !s.st.Stepped() || s.st.Step >= step {
			s.holdLocked(h)
		}
	}
}

func (s *Sim) effectedLocked() {
	close(s.effected)
	s.effected = make(chan struct{})
}

type holdKey struct{}

// WithHold returns ctx carrying h: the clock waits made under ctx (Sleep,
// Waiting) release h while they wait.
func WithHold(ctx context.Context, h *Hold) context.Context {
	if h == nil {
		return ctx
	}
	return context.WithValue(ctx, holdKey{}, h)
}

func holdFrom(ctx context.Context) *Hold {
	h, _ := ctx.Value(holdKey{}).(*Hold)
	return h
}

// Waiting releases ctx's hold (if any) while the caller waits for something
// the simulation must first advance to deliver, such as a device's answer
// after its simulated latency. The goroutine that delivers the awaited thing
// calls Delivered before delivering it; the waiter calls Received once it has
// it, or Resume when it gives up.
func Waiting(ctx context.Context) *Wait {
	h := holdFrom(ctx)
	h.Release()
	return &Wait{h: h}
}

// Wait is a hold released while its owner waits (Waiting). A Wait without a
// hold (the wall clock's, or a context without one) does nothing.
type Wait struct{ h *Hold }

// Delivered says the awaited thing is being delivered. On a stepped clock the
// hold is taken again from the next step on, not at once: the waiter may
// already have told the clock it had handled the current step, and its
// goroutine may run before or after the next step comes in — so the work it
// goes on with stands at the next step's instant in every run, however the
// wall timing falls. The current step does not wait for it. On any other
// clock the hold is taken at once.
func (w *Wait) Delivered() {
	if w == nil || w.h == nil {
		return
	}
	s := w.h.s
	s.mu.Lock()
	s.deferLocked(w.h)
	s.mu.Unlock()
}

// Received takes the hold again for the waiter that got what was delivered:
// after Delivered it returns once the hold is in effect (the next step has
// come) or ctx ends (then holding at once). Call it with no other hold of the
// current step held, which would keep the next step from coming.
func (w *Wait) Received(ctx context.Context) error {
	if w == nil || w.h == nil {
		return nil
	}
	s := w.h.s
	for {
		s.mu.Lock()
		_, pending := s.deferred[w.h]
		if !pending {
			s.holdLocked(w.h)
			s.mu.Unlock()
			return nil
		}
		ch := s.effected
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			w.h.Resume()
			return ctx.Err()
		case <-ch:
		}
	}
}

// Resume takes the hold again at once, for a waiter that gave up (a timeout
// of its own that fired at the current step, a cancelled context); it
// cancels a Delivered that came too late. Resume is idempotent.
func (w *Wait) Resume() {
	if w == nil {
		return
	}
	w.h.Resume()
}

// WorkTimer is a Timer whose firing is work: on a simulated clock it holds
// from the moment it fires until its owner calls Done for the tick it
// received (or Stop). Reset does not end the hold, so an owner can re-arm the
// timer before saying it is done.
type WorkTimer interface {
	Timer
	// Done says the owner has handled one tick it received.
	Done()
}

// NewWorkTimer returns a WorkTimer firing after d of c's time.
func NewWorkTimer(c Clock, d time.Duration) WorkTimer {
	s, ok := c.(*Sim)
	if !ok {
		return wallWork{c.NewTimer(d)}
	}
	t := &simTimer{s: s, c: make(chan time.Time, 1), index: -1, work: &Hold{s: s}}
	s.mu.Lock()
	s.scheduleLocked(t, d)
	s.mu.Unlock()
	return t
}

type wallWork struct{ Timer }

func (wallWork) Done() {}

// Done ends the hold of one received tick of a WorkTimer.
func (t *simTimer) Done() {
	t.s.mu.Lock()
	t.doneLocked(1)
	t.s.mu.Unlock()
}

func (t *simTimer) doneLocked(n int) {
	if t.work == nil || t.owing == 0 {
		return
	}
	t.owing = max(0, t.owing-n)
	if t.owing == 0 {
		t.s.releaseLocked(t.work)
	}
}

// Settle waits until the process has handled the clock's current state:
// every tick a step delivered has been received and no hold is held. A hold
// or tick older than lease (wall time) stops counting — a leaked timer or a
// hold on a wait that never ends must not stop the simulation — and is
// counted in Expired. It returns the state it settled at (the latest step).
func (s *Sim) Settle(ctx context.Context, lease time.Duration) (State, error) {
	var poll time.Duration
	for {
		s.mu.Lock()
		st, ch := s.st, s.released
		now := time.Now()
		var until time.Time // when the first counting hold or tick expires
		held, ticks := false, false
		for h, hs := range s.holds {
			exp := hs.since.Add(lease)
			if now.Before(exp) {
				held = true
				until = earliest(until, exp)
			} else if !hs.expired {
				hs.expired = true
				s.holds[h] = hs
				s.expired++
			}
		}
		kept := s.owed[:0]
		for _, o := range s.owed {
			if len(o.t.c) == 0 {
				continue
			}
			if exp := o.at.Add(lease); now.Before(exp) {
				kept = append(kept, o)
				ticks = true
				until = earliest(until, exp)
			} else {
				s.expired++
			}
		}
		clear(s.owed[len(kept):])
		s.owed = kept
		s.mu.Unlock()
		if !held && !ticks {
			return st, nil
		}
		wait := time.Until(until)
		if ticks {
			// Receiving a tick signals nothing: look again soon. A tick is
			// usually taken within microseconds, so yield first.
			if poll == 0 {
				runtime.Gosched()
				poll = 10 * time.Microsecond
				continue
			}
			wait = min(wait, poll)
			poll = min(2*poll, time.Millisecond)
		}
		t := time.NewTimer(max(wait, time.Microsecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return st, ctx.Err()
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// Expired is the number of holds and ticks that outlived Settle's lease.
func (s *Sim) Expired() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expired
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
