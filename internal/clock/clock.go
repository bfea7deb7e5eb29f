// Package clock is the single source of time for every SOMS process.
//
// Production processes use the wall clock. In simulation every process follows a
// shared simulated clock (sim time at a wall instant plus a speed factor) that the
// harness publishes as a retained MQTT message, so cycles, cooldowns, heartbeats,
// expiry and physics all run at the same simulated speed.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits for it. Implementations are safe for
// concurrent use.
type Clock interface {
	// Now returns the current (possibly simulated) time.
	Now() time.Time
	// NewTimer returns a timer that fires once after d of clock time.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that fires every d of clock time.
	NewTicker(d time.Duration) Ticker
}

// Timer mirrors time.Timer for clock time.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was pending.
	Stop() bool
	// Reset re-arms the timer to fire after d; it reports whether it was pending.
	Reset(d time.Duration) bool
}

// Ticker mirrors time.Ticker for clock time.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Sleep waits for d of clock time or until ctx is done, whichever comes first.
// A hold carried by ctx (WithHold) is released while it sleeps and taken again
// before the wake-up's own hold ends, so the work goes on without a gap.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if h := holdFrom(ctx); h != nil {
		t := NewWorkTimer(c, d)
		defer t.Stop() // after Resume: ends the wake-up's hold
		h.Release()
		defer h.Resume()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
			return nil
		}
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// Since is c.Now().Sub(t).
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Wall is the real clock.
type Wall struct{}

// Now returns time.Now().
func (Wall) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (Wall) NewTimer(d time.Duration) Timer { return wallTimer{time.NewTimer(d)} }

// NewTicker wraps time.NewTicker.
func (Wall) NewTicker(d time.Duration) Ticker { return wallTicker{time.NewTicker(d)} }

type wallTimer struct{ t *time.Timer }

func (w wallTimer) C() <-chan time.Time        { return w.t.C }
func (w wallTimer) Stop() bool                 { return w.t.Stop() }
func (w wallTimer) Reset(d time.Duration) bool { return w.t.Reset(d) }

type wallTicker struct{ t *time.Ticker }

func (w wallTicker) C() <-chan time.Time { return w.t.C }
func (w wallTicker) Stop()               { w.t.Stop() }
