package clock

import (
	"context"
	"errors"
	"time"
)

// WithTimeout is context.WithTimeout in clock time: the context ends once d of
// c's time has passed — simulated time on a simulated clock, so a wait on
// something outside the simulation (an HTTP call) is bounded in the same time
// as everything else. Its Err and Cause are then context.DeadlineExceeded.
// Calling the CancelFunc releases the timer at once.
func WithTimeout(parent context.Context, c Clock, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	t := c.NewTimer(d)
	go func() {
		defer t.Stop()
		select {
		case <-t.C():
			cancel(context.DeadlineExceeded)
		case <-ctx.Done():
		}
	}()
	// The timer stops before cancel returns, so a test that counts a
	// manual clock's pending timers never sees it linger.
	return deadlineCtx{ctx}, func() { t.Stop(); cancel(context.Canceled) }
}

// deadlineCtx reports the clock deadline as context.WithTimeout reports its
// own: Err is context.DeadlineExceeded.
type deadlineCtx struct{ context.Context }

func (d deadlineCtx) Err() error {
	err := d.Context.Err()
	if err != nil && errors.Is(context.Cause(d.Context), context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}
