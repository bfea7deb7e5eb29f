package worldmodel

import (
	"math"
	"time"
)

// Retention is how long a sensor reading contributes to a fused value. Readings
// older than this expire, so a dead sensor's last value does not linger forever
// (the original kept it indefinitely).
const Retention = 600 * time.Second

// defaultReliability weights readings of devices without a known reliability.
const defaultReliability = 0.5

// tau is the e-folding time of a reading's weight per channel (the original
// called these half-lives but used them as exp(-age/τ)).
var tau = map[string]time.Duration{
	"temperature": 120 * time.Second,
	"humidity":    120 * time.Second,
	"co2":         60 * time.Second,
	"illuminance": 120 * time.Second,
	"occupancy":   30 * time.Second,
	"pir":         10 * time.Second,
	"weight":      30 * time.Second,
}

const defaultTau = 120 * time.Second

// reading is one device's latest value for a channel.
type reading struct {
	value float64
	at    time.Time
}

// channel fuses the readings of every device reporting one quantity in a zone.
type channel struct {
	name    string
	tau     time.Duration // weight e-folding time, from tau
	devices map[string]reading
	// history of fused values, for trends.
	history []sample
}

type sample struct {
	value float64
	at    time.Time
}

func newChannel(name string) *channel {
	t := tau[name]
	if t == 0 {
		t = defaultTau
	}
	return &channel{name: name, tau: t, devices: map[string]reading{}}
}

// add records a device reading and appends the new fused value to the history.
func (c *channel) add(device string, v float64, now time.Time) {
	c.devices[device] = reading{value: v, at: now}
	if f, ok := c.fused(now); ok {
		c.history = append(c.history, sample{f, now})
	}
	c.trim(now)
}

// fused is the reliability- and recency-weighted mean of unexpired readings;
// none when it is not a finite number. Readings are finite and within their
// channel's range (internal/telemetry), so the sums cannot overflow; the check
// keeps that true whatever a caller adds.
func (c *channel) fused(now time.Time) (float64, bool) {
	t := c.tau.Seconds()
	var sum, wsum float64
	for _, r := range c.devices {
		age := now.Sub(r.at)
		if age > Retention {
			continue
		}
		w := defaultReliability * math.Exp(-max(age, 0).Seconds()/t)
		sum += r.value * w
		wsum += w
	}
	v := sum / wsum
	if wsum == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// trim drops expired readings and history older than the trend history span.
func (c *channel) trim(now time.Time) {
	for id, r := range c.devices {
		if now.Sub(r.at) > Retention {
			delete(c.devices, id)
		}
	}
	i := 0
	for i < len(c.history) && now.Sub(c.history[i].at) > trendHistory {
		i++
	}
	// Reslice rather than shift: shifting copied the whole history on every
	// reading once it was full (a fifth of ingest time); append reallocates,
	// copying only the live samples, when the dropped prefix has used up the
	// capacity.
	c.history = c.history[i:]
}

// Trend directions.
const (
	TrendStable  = "stable"
	TrendRising  = "rising"
	TrendFalling = "falling"
)

const (
	trendHistory = 600 * time.Second
	// trendBaseline is how far back the baseline must reach before a trend is
	// called (the original's 300 s window minus 30 s slack).
	trendBaseline = 270 * time.Second
)

var trendThreshold = map[string]float64{
	"temperature": 0.5, "humidity": 3.0, "co2": 50, "pressure": 1.0, "illuminance": 50,
}

// trend compares the latest fused value with the oldest retained one when the
// history spans at least trendBaseline.
func (c *channel) trend() string {
	if len(c.history) < 2 {
		return TrendStable
	}
	first, last := c.history[0], c.history[len(c.history)-1]
	if last.at.Sub(first.at) < trendBaseline {
		return TrendStable
	}
	thr, ok := trendThreshold[c.name]
	if !ok {
		thr = 1.0
	}
	switch d := last.value - first.value; {
	case d > thr:
		return TrendRising
	case d < -thr:
		return TrendFalling
	}
	return TrendStable
}
