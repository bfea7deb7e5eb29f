package telemetry

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/clock"
)

// LogEvery is how often Drops logs one reason: a device that sends garbage
// many times a second fills the counter, not the log.
const LogEvery = time.Minute

// Drops counts and logs rejected messages: every drop increments the
// counter's reason label, and each reason is logged (warning) at most once
// per LogEvery, with how many drops of that reason the log did not show.
type Drops struct {
	counter *prometheus.CounterVec
	log     *slog.Logger
	clock   clock.Clock // when to log again; people read logs in wall time

	mu     sync.Mutex
	logged map[string]time.Time
	quiet  map[string]int
}

// NewDrops returns a drop recorder. counter must have exactly the label
// "reason".
func NewDrops(counter *prometheus.CounterVec, log *slog.Logger, c clock.Clock) *Drops {
	return &Drops{counter: counter, log: log, clock: c, logged: map[string]time.Time{}, quiet: map[string]int{}}
}

// Drop records a message rejected with err: its *Reject's reason, or
// "other".
func (d *Drops) Drop(t string, err error) {
	reason := "other"
	var r *Reject
	if errors.As(err, &r) {
		reason = string(r.Reason)
	}
	d.DropAs(reason, t, err)
}

// DropAs records a rejected message under reason.
func (d *Drops) DropAs(reason, t string, err error) {
	d.counter.WithLabelValues(reason).Inc()
	now := d.clock.Now()
	d.mu.Lock()
	if last, ok := d.logged[reason]; ok && now.Sub(last) < LogEvery {
		d.quiet[reason]++
		d.mu.Unlock()
		return
	}
	d.logged[reason] = now
	quiet := d.quiet[reason]
	d.quiet[reason] = 0
	d.mu.Unlock()
	d.log.Warn("message dropped", "reason", reason, "topic", clip(t), "err", err, "unlogged_since_last", quiet)
}

// clip bounds a topic in the log (a forged one may be long).
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
