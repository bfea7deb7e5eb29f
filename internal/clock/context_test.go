package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWithTimeout(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		end     func(c *Sim, cancel, cancelParent context.CancelFunc)
		wantErr error
	}{
		{"deadline in clock time", func(c *Sim, _, _ context.CancelFunc) { c.Advance(time.Minute) }, context.DeadlineExceeded},
		{"cancelled", func(_ *Sim, cancel, _ context.CancelFunc) { cancel() }, context.Canceled},
		{"parent cancelled", func(_ *Sim, _, cancelParent context.CancelFunc) { cancelParent() }, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewManual(t0)
			parent, cancelParent := context.WithCancel(context.Background())
			defer cancelParent()
			ctx, cancel := WithTimeout(parent, c, time.Minute)
			defer cancel()
			c.Advance(59 * time.Second)
			if ctx.Err() != nil {
				t.Fatal("ended before its deadline")
			}
			tc.end(c, cancel, cancelParent)
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second): // a bound on a broken implementation, not a wait
				t.Fatal("did not end")
			}
			if !errors.Is(ctx.Err(), tc.wantErr) || !errors.Is(context.Cause(ctx), tc.wantErr) {
				t.Fatalf("err %v cause %v, want %v", ctx.Err(), context.Cause(ctx), tc.wantErr)
			}
		})
	}
}

// A context derived from it ends with it.
func TestWithTimeoutChild(t *testing.T) {
	c := NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	ctx, cancel := WithTimeout(context.Background(), c, time.Second)
	defer cancel()
	child, stop := context.WithCancel(ctx)
	defer stop()
	c.Advance(time.Second)
	<-child.Done()
	if !errors.Is(context.Cause(child), context.DeadlineExceeded) {
		t.Fatalf("child cause %v", context.Cause(child))
	}
}
