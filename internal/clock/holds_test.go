package clock

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// stepped returns a clock at step 1 of a stepped simulation at t0.
func stepped() *Sim {
	c := NewSim()
	c.Set(State{SimTime: t0, Step: 1})
	return c
}

// step moves a stepped clock to step n at t0+d.
func step(c *Sim, n uint64, d time.Duration) {
	c.Set(State{SimTime: t0.Add(d), Step: n})
}

// settled reports whether c settles within a short wait: holds and ticks
// count for a minute, so a false here is a hold, not an expiry.
func settled(t *testing.T, c *Sim) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Settle(ctx, time.Minute)
	return err == nil
}

func TestSteppedStateStandsStill(t *testing.T) {
	st := State{SimTime: t0, Speed: 500, Step: 3}
	if err := st.Validate(); err != nil {
		t.Fatalf("a step needs no wall time: %v", err)
	}
	if got := st.At(time.Now().Add(time.Hour)); !got.Equal(t0) {
		t.Fatalf("a step moved on its own to %v", got)
	}
	st, err := ParseState([]byte(`{"sim_time":"2026-11-23T09:00:00Z","speed":0,"step":7}`))
	if err != nil || st.Step != 7 || !st.Stepped() {
		t.Fatalf("parsed %+v, %v", st, err)
	}
}

func TestSettleWaitsForDeliveredTicks(t *testing.T) {
	c := stepped()
	tm := c.NewTimer(time.Second)
	if !settled(t, c) {
		t.Fatal("nothing due, yet not settled")
	}
	step(c, 2, time.Second)
	if settled(t, c) {
		t.Fatal("settled while a delivered tick was not received")
	}
	got := <-tm.C()
	if !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("tick carries %v, want its deadline", got)
	}
	st, err := c.Settle(context.Background(), time.Minute)
	if err != nil || st.Step != 2 {
		t.Fatalf("settled at %+v, %v", st, err)
	}
}

func TestWorkTimerHoldsUntilDone(t *testing.T) {
	c := stepped()
	w := NewWorkTimer(c, time.Second)
	step(c, 2, time.Second)
	<-w.C()
	if settled(t, c) {
		t.Fatal("settled while the tick's work was not done")
	}
	w.Reset(time.Second)
	if settled(t, c) {
		t.Fatal("Reset ended the hold of the tick being handled")
	}
	w.Done()
	if !settled(t, c) {
		t.Fatal("not settled after Done")
	}
	step(c, 3, 2*time.Second)
	w.Stop()
	if !settled(t, c) {
		t.Fatal("Stop left the work of an unreceived tick held")
	}
}

func TestHoldAndLease(t *testing.T) {
	c := stepped()
	h := NewHold(c)
	if settled(t, c) {
		t.Fatal("settled while held")
	}
	h.Release()
	if !settled(t, c) {
		t.Fatal("not settled after Release")
	}
	h.Resume()
	// A hold older than the lease stops counting.
	if _, err := c.Settle(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c.Expired() != 1 {
		t.Fatalf("Expired = %d, want 1", c.Expired())
	}
	if NewHold(Wall{}) != nil {
		t.Fatal("the wall clock holds")
	}
	var none *Hold
	none.Release()
	none.Resume()
}

func TestSleepReleasesTheContextsHold(t *testing.T) {
	c := stepped()
	h := NewHold(c)
	ctx := WithHold(context.Background(), h)
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, c, 5*time.Second) }()
	if err := c.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if !settled(t, c) {
		t.Fatal("a sleeper holds the clock")
	}
	step(c, 2, 5*time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if settled(t, c) {
		t.Fatal("the sleeper's hold was not taken again on waking")
	}
	h.Release()
	if !settled(t, c) {
		t.Fatal("the wake-up's own hold was left behind")
	}
}

func TestWaitingHandsTheHoldOver(t *testing.T) {
	c := stepped()
	h := NewHold(c)
	w := Waiting(WithHold(context.Background(), h))
	if !settled(t, c) {
		t.Fatal("a waiter holds the clock")
	}
	w.Resume()
	w.Resume()
	if settled(t, c) {
		t.Fatal("Resume did not hold again")
	}
	h.Release()
	none := Waiting(context.Background()) // no hold: nothing happens
	none.Delivered()
	none.Resume()
	if err := none.Received(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !settled(t, c) {
		t.Fatal("not settled")
	}
}

// A waiter's answer that comes in during a step is taken up at the next
// step, whether the waiter's goroutine runs before that step comes in or
// after: the work after the wait stands at one simulated instant in every
// run. Taken up at once, it would stand at the step it happened to see.
func TestDeliveredResumesAtTheNextStep(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("waiter runs after the next step=%v", late), func(t *testing.T) {
			c := stepped()
			h := NewHold(c)
			w := Waiting(WithHold(context.Background(), h))
			w.Delivered() // the answer comes in at step 1
			if !settled(t, c) {
				t.Fatal("the answer holds the step it came in at: the waiter may have acknowledged it already")
			}
			got := make(chan time.Time, 1)
			received := func() {
				if err := w.Received(context.Background()); err != nil {
					t.Error(err)
				}
				got <- c.Now()
			}
			if late {
				step(c, 2, time.Second)
				received()
			} else {
				go received()
				select {
				case at := <-got:
					t.Fatalf("the waiter went on at %v, before the next step", at)
				case <-time.After(20 * time.Millisecond):
				}
				step(c, 2, time.Second)
			}
			if at := <-got; !at.Equal(t0.Add(time.Second)) {
				t.Fatalf("the waiter went on at %v, want the next step's %v", at, t0.Add(time.Second))
			}
			if settled(t, c) {
				t.Fatal("the next step does not wait for the waiter's work")
			}
			h.Release()
			if !settled(t, c) {
				t.Fatal("not settled after the work")
			}
		})
	}
}

// A waiter that gives up (its own timeout fired) after the answer was
// delivered holds again at once: it must not wait for a step its own work
// keeps from coming.
func TestResumeCancelsADelivery(t *testing.T) {
	c := stepped()
	h := NewHold(c)
	w := Waiting(WithHold(context.Background(), h))
	w.Delivered()
	w.Resume()
	if settled(t, c) {
		t.Fatal("Resume did not hold at once")
	}
	h.Release()
	step(c, 2, time.Second)
	if !settled(t, c) {
		t.Fatal("the cancelled delivery held the next step")
	}
}

// On a clock that is not stepped there is no next step to wait for.
func TestDeliveredOnAManualClockHoldsAtOnce(t *testing.T) {
	c := NewManual(t0)
	h := NewHold(c)
	w := Waiting(WithHold(context.Background(), h))
	w.Delivered()
	if err := w.Received(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Release()
}

func TestTickerKeepsItsPhaseAcrossAJump(t *testing.T) {
	c := NewManual(t0)
	tk := c.NewTicker(10 * time.Second)
	defer tk.Stop()
	c.Advance(25 * time.Second)
	if got := <-tk.C(); !got.Equal(t0.Add(20 * time.Second)) {
		t.Fatalf("tick at %v, want the latest due (+20s)", got)
	}
	c.Advance(5 * time.Second)
	if got := <-tk.C(); !got.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("tick at %v, want +30s", got)
	}
}
