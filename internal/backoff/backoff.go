// Package backoff spaces out the attempts of something that keeps failing: a
// delay that doubles from Min up to Max, optionally shortened at random
// (jitter) so that many clients do not retry in step, and back to Min after a
// success. Waits run on an internal/clock Clock, so a loop that follows the
// simulated clock backs off in simulated time, and they end with the context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// Policy is the shape of the delays.
type Policy struct {
	// Min is the first delay; Max caps every delay.
	Min, Max time.Duration
	// Jitter, in [0, 1], shortens each wait at random by up to that fraction
	// of it (0.2: a 10 s delay waits between 8 and 10 s). 0 waits exactly;
	// jitter never makes a wait longer than the delay, so Max stays a bound.
	Jitter float64
}

// Delay is the delay after the n-th failure in a row (n ≥ 1): Min·2^(n-1),
// at most Max, without jitter. It serves loops that keep their failure count
// elsewhere (a database row).
func (p Policy) Delay(n int) time.Duration {
	d := p.Min
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Backoff is one retry loop's state. It is not safe for concurrent use: each
// loop owns its own.
type Backoff struct {
	policy   Policy
	clock    clock.Clock
	rand     func() float64
	failures int
}

// New returns the state of a loop that waits on c with policy p.
func New(c clock.Clock, p Policy) *Backoff {
	return &Backoff{policy: p, clock: c, rand: rand.Float64}
}

// WithRand replaces the source of jitter (numbers in [0, 1)), for tests.
func (b *Backoff) WithRand(r func() float64) *Backoff {
	b.rand = r
	return b
}

// Next counts a failure and returns how long to wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	b.failures++
	d := b.policy.Delay(b.failures)
	if j := min(max(b.policy.Jitter, 0), 1); j > 0 {
		d -= time.Duration(j * b.rand() * float64(d))
	}
	return d
}

// Reset starts over at Min, after a success.
func (b *Backoff) Reset() { b.failures = 0 }

// Failures is the number of failures since the last Reset.
func (b *Backoff) Failures() int { return b.failures }

// Wait waits d on the loop's clock; it returns ctx.Err() if ctx ends first.
// Loops call it with the delay Next returned, after saying why they wait.
func (b *Backoff) Wait(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, b.clock, d)
}

// Retry calls op until it succeeds, waiting Next between failures; notify
// (may be nil) hears each failure and the wait that follows. It returns nil
// after a success (and Resets), or ctx.Err() once ctx ends.
func (b *Backoff) Retry(ctx context.Context, op func(context.Context) error, notify func(err error, wait time.Duration)) error {
	for {
		err := op(ctx)
		if err == nil {
			b.Reset()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d := b.Next()
		if notify != nil {
			notify(err, d)
		}
		if err := b.Wait(ctx, d); err != nil {
			return err
		}
	}
}
