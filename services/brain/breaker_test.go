package brain

import (
	"errors"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
)

// TestBreaker drives the LLM circuit breaker through its states on a manual
// clock: each step is a call (allowed or not, and how it ended) or a wait.
func TestBreaker(t *testing.T) {
	type step struct {
		wait    time.Duration // advance the clock first
		allowed bool          // what Allow must answer
		outcome string        // for an allowed call: ok, fail or abandon
		state   breakerState  // the state after the step
	}
	ok := func(s breakerState) step { return step{allowed: true, outcome: "ok", state: s} }
	failed := func(s breakerState) step { return step{allowed: true, outcome: "fail", state: s} }
	refused := func(s breakerState) step { return step{state: s} }
	after := func(d time.Duration, s step) step { s.wait = d; return s }
	tests := []struct {
		name  string
		steps []step
	}{
		{"closed while calls answer", []step{ok(breakerClosed), ok(breakerClosed)}},
		{"opens after three failures in a row", []step{
			failed(breakerClosed), failed(breakerClosed), failed(breakerOpen), refused(breakerOpen),
		}},
		{"a success resets the count", []step{
			failed(breakerClosed), failed(breakerClosed), ok(breakerClosed), failed(breakerClosed), failed(breakerClosed), failed(breakerOpen),
		}},
		{"refuses until the open period is over, then one probe closes it", []step{
			failed(breakerClosed), failed(breakerClosed), failed(breakerOpen),
			after(59*time.Second, refused(breakerOpen)),
			after(time.Second, ok(breakerClosed)),
			ok(breakerClosed),
		}},
		{"a failed probe doubles the open period, up to the maximum", []step{
			failed(breakerClosed), failed(breakerClosed), failed(breakerOpen),
			after(time.Minute, failed(breakerOpen)), // open 2 min
			after(119*time.Second, refused(breakerOpen)),
			after(time.Second, failed(breakerOpen)),   // open 4 min
			after(4*time.Minute, failed(breakerOpen)), // 8 min
			after(8*time.Minute, failed(breakerOpen)), // 10 min (max)
			after(10*time.Minute-time.Second, refused(breakerOpen)),
			after(time.Second, ok(breakerClosed)),
			// and after closing, the next trip starts at the minimum again
			failed(breakerClosed), failed(breakerClosed), failed(breakerOpen),
			after(time.Minute, ok(breakerClosed)),
		}},
		{"an abandoned probe lets the next call probe", []step{
			failed(breakerClosed), failed(breakerClosed), failed(breakerOpen),
			after(time.Minute, step{allowed: true, outcome: "abandon", state: breakerHalfOpen}),
			ok(breakerClosed),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewManual(t0)
			var seen []breakerState
			br := newBreaker(c, 3, backoff.Policy{Min: time.Minute, Max: 10 * time.Minute}, logging.Discard(), func(s breakerState) { seen = append(seen, s) })
			for i, s := range tc.steps {
				c.Advance(s.wait)
				if got := br.Allow(); got != s.allowed {
					t.Fatalf("step %d: Allow = %v, want %v", i, got, s.allowed)
				}
				switch s.outcome {
				case "ok":
					br.Success()
				case "fail":
					br.Failure(errors.New("LLM API error 500"))
				case "abandon":
					br.Abandon()
				}
				if st := br.Status(); st.State != s.state.String() {
					t.Fatalf("step %d: state %s, want %s (transitions %v)", i, st.State, s.state, seen)
				}
			}
		})
	}
}

// In half-open exactly one probe goes out; the others are refused until it
// ends.
func TestBreakerOneProbe(t *testing.T) {
	c := clock.NewManual(t0)
	br := newBreaker(c, 1, backoff.Policy{Min: time.Minute, Max: time.Minute}, logging.Discard(), nil)
	br.Allow()
	br.Failure(errors.New("timeout"))
	c.Advance(time.Minute)
	if !br.Allow() {
		t.Fatal("no probe after the open period")
	}
	if second, third := br.Allow(), br.Allow(); second || third {
		t.Fatal("a second call went out while probing")
	}
	st := br.Status()
	if st.State != "half_open" || st.LastError != "timeout" || st.ConsecutiveFailures != 1 {
		t.Fatalf("status %+v", st)
	}
	br.Failure(errors.New("timeout"))
	if st := br.Status(); st.State != "open" || !st.OpenUntil.Equal(c.Now().Add(time.Minute)) {
		t.Fatalf("after a failed probe: %+v", st)
	}
}
