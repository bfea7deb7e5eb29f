package brain

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
)

// errLLMOpen is the answer of an LLM call the breaker refuses.
var errLLMOpen = errors.New("LLM circuit breaker open: the rule engine decides until the next probe")

// breakerState is the LLM circuit breaker's state; its value is the
// soms_brain_llm_breaker_state gauge.
type breakerState int

const (
	breakerClosed   breakerState = iota // calls go out
	breakerHalfOpen                     // one probe call goes out
	breakerOpen                         // calls are refused at once
)

func (s breakerState) String() string {
	return [...]string{"closed", "half_open", "open"}[s]
}

// breaker is the LLM's circuit breaker (docs/brain.md, "When the LLM fails"):
// after threshold failures in a row (errors, timeouts, the cycle deadline) it
// opens and refuses calls, so the rule engine decides at once instead of
// waiting on a dead LLM every cycle. Once the open period has passed one probe
// call goes out (half-open): success closes it, failure opens it again for
// twice as long, up to the policy's Max. Safe for concurrent use.
type breaker struct {
	clock     clock.Clock
	threshold int
	open      backoff.Policy
	log       *slog.Logger
	onChange  func(breakerState) // metrics; may be nil

	mu       sync.Mutex
	state    breakerState
	failures int // consecutive failed calls
	trips    int // consecutive openings without a success
	until    time.Time
	probing  bool
	lastErr  string
}

func newBreaker(c clock.Clock, threshold int, open backoff.Policy, log *slog.Logger, onChange func(breakerState)) *breaker {
	return &breaker{clock: c, threshold: max(threshold, 1), open: open, log: log, onChange: onChange}
}

// Allow reports whether a call may go out now. In half-open only one probe
// is out at a time; every allowed call must end in Success, Failure or
// Abandon.
func (br *breaker) Allow() bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	switch br.state {
	case breakerClosed:
		return true
	case breakerOpen:
		if br.clock.Now().Before(br.until) {
			return false
		}
		br.setLocked(breakerHalfOpen, "open period over: probing the LLM")
	}
	if br.probing {
		return false
	}
	br.probing = true
	return true
}

// Success records a call that answered.
func (br *breaker) Success() {
	br.mu.Lock()
	defer br.mu.Unlock()
	br.failures, br.trips, br.probing = 0, 0, false
	if br.state != breakerClosed {
		br.setLocked(breakerClosed, "the LLM answered")
	}
}

// Failure records a call that failed or timed out.
func (br *breaker) Failure(err error) {
	br.mu.Lock()
	defer br.mu.Unlock()
	br.failures++
	br.lastErr = err.Error()
	switch {
	case br.state == breakerHalfOpen:
		br.probing = false
		br.tripLocked("the probe failed")
	case br.state == breakerClosed && br.failures >= br.threshold:
		br.tripLocked("consecutive LLM failures")
	}
}

// Abandon ends an allowed call that says nothing about the LLM (its caller
// went away).
func (br *breaker) Abandon() {
	br.mu.Lock()
	defer br.mu.Unlock()
	br.probing = false
}

func (br *breaker) tripLocked(why string) {
	br.trips++
	d := br.open.Delay(br.trips)
	br.until = br.clock.Now().Add(d)
	br.setLocked(breakerOpen, why, "open_for", d)
}

func (br *breaker) setLocked(s breakerState, why string, attrs ...any) {
	from := br.state
	br.state = s
	attrs = append([]any{"from", from.String(), "to", s.String(), "reason", why, "consecutive_failures", br.failures}, attrs...)
	if s == breakerOpen {
		br.log.Warn("LLM circuit breaker", append(attrs, "last_error", br.lastErr)...)
	} else {
		br.log.Info("LLM circuit breaker", attrs...)
	}
	if br.onChange != nil {
		br.onChange(s)
	}
}

// breakerStatus is the breaker as GET /status shows it.
type breakerStatus struct {
	State               string    `json:"state"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	OpenUntil           time.Time `json:"open_until,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
}

func (br *breaker) Status() breakerStatus {
	br.mu.Lock()
	defer br.mu.Unlock()
	st := breakerStatus{State: br.state.String(), ConsecutiveFailures: br.failures, LastError: br.lastErr}
	if br.state == breakerOpen {
		st.OpenUntil = br.until
	}
	return st
}
