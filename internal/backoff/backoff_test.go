package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestPolicyDelay(t *testing.T) {
	p := backoff.Policy{Min: 10 * time.Second, Max: 10 * time.Minute}
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 10 * time.Second}, // no failure yet: the first delay
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{4, 80 * time.Second},
		{6, 320 * time.Second},
		{7, 10 * time.Minute}, // 640 s, capped
		{1000, 10 * time.Minute},
	}
	for _, tc := range tests {
		if got := p.Delay(tc.n); got != tc.want {
			t.Errorf("Delay(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := (backoff.Policy{Min: time.Minute, Max: time.Second}).Delay(1); got != time.Second {
		t.Errorf("Max below Min: Delay(1) = %v, want the cap", got)
	}
}

func TestNextAndReset(t *testing.T) {
	tests := []struct {
		name   string
		policy backoff.Policy
		rand   float64
		want   []time.Duration // successive Next, then Next after Reset
	}{
		{"doubling to the cap", backoff.Policy{Min: time.Second, Max: 5 * time.Second}, 0.5,
			[]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"jitter shortens", backoff.Policy{Min: time.Second, Max: 8 * time.Second, Jitter: 0.5}, 0.5,
			[]time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 6 * time.Second}},
		{"jitter never passes the cap", backoff.Policy{Min: time.Second, Max: 2 * time.Second, Jitter: 0.2}, 0,
			[]time.Duration{time.Second, 2 * time.Second, 2 * time.Second}},
		{"jitter above 1 is 1", backoff.Policy{Min: time.Second, Max: time.Second, Jitter: 3}, 0.25,
			[]time.Duration{750 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := backoff.New(clock.NewManual(t0), tc.policy).WithRand(func() float64 { return tc.rand })
			for i, want := range tc.want {
				if got := b.Next(); got != want {
					t.Fatalf("Next #%d = %v, want %v", i+1, got, want)
				}
			}
			if b.Failures() != len(tc.want) {
				t.Fatalf("Failures = %d", b.Failures())
			}
			b.Reset()
			if got := b.Next(); got != tc.want[0] {
				t.Fatalf("after Reset: Next = %v, want %v", got, tc.want[0])
			}
		})
	}
}

func TestWaitFollowsTheClock(t *testing.T) {
	clk := clock.NewManual(t0)
	b := backoff.New(clk, backoff.Policy{Min: time.Minute, Max: time.Hour})
	done := make(chan error, 1)
	go func() { done <- b.Wait(t.Context(), b.Next()) }()
	if err := clk.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute - time.Second)
	select {
	case err := <-done:
		t.Fatalf("returned %v before a minute of clock time", err)
	default:
	}
	clk.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	clk := clock.NewManual(t0)
	b := backoff.New(clk, backoff.Policy{Min: time.Hour, Max: time.Hour})
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx, b.Next()) }()
	if err := clk.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

func TestRetry(t *testing.T) {
	clk := clock.NewManual(t0)
	b := backoff.New(clk, backoff.Policy{Min: time.Second, Max: time.Minute})
	boom := errors.New("not yet")
	calls := 0
	var waits []time.Duration
	done := make(chan error, 1)
	go func() {
		done <- b.Retry(t.Context(), func(context.Context) error {
			calls++
			if calls < 4 {
				return boom
			}
			return nil
		}, func(err error, d time.Duration) {
			if !errors.Is(err, boom) {
				t.Errorf("notified %v", err)
			}
			waits = append(waits, d)
		})
	}()
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if err := clk.BlockUntil(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(d)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls != 4 || len(waits) != 3 || waits[2] != 4*time.Second || b.Failures() != 0 {
		t.Fatalf("calls %d, waits %v, failures after success %d", calls, waits, b.Failures())
	}
}

func TestRetryEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	clk := clock.NewManual(t0)
	b := backoff.New(clk, backoff.Policy{Min: time.Second, Max: time.Second})
	done := make(chan error, 1)
	go func() {
		done <- b.Retry(ctx, func(context.Context) error { return errors.New("down") }, nil)
	}()
	if err := clk.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Retry = %v, want context.Canceled", err)
	}
}
