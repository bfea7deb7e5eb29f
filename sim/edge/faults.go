package edge

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Fault is what is wrong with one device, set through PUT /devices/{id}/fault.
// The zero value is a healthy device.
type Fault struct {
	// Offline devices publish nothing (no telemetry, no heartbeats) and leave
	// MCP tool calls unanswered, so callers time out.
	Offline bool `json:"offline,omitempty"`
	// Dropout is the probability that one report (one channel message) is lost.
	Dropout float64 `json:"dropout,omitempty"`
	// Noise multiplies the channel's normal measurement noise (0 or 1 = normal).
	Noise float64 `json:"noise,omitempty"`
	// DriftPerHour adds, per channel, this much per simulated hour since the
	// fault was set (a sensor losing calibration).
	DriftPerHour map[string]float64 `json:"drift_per_hour,omitempty"`
	// Tamper adds an offset per channel at once (someone breathing on or
	// warming the sensor), which the brain's tamper detector should notice.
	Tamper map[string]float64 `json:"tamper,omitempty"`
	// Override reports a fixed value per channel regardless of the room.
	Override map[string]float64 `json:"override,omitempty"`
	// Since is when the fault was set (simulated time; drift counts from it).
	Since time.Time `json:"since,omitzero"`
}

func (f Fault) validate() map[string]string {
	bad := map[string]string{}
	if f.Dropout < 0 || f.Dropout > 1 {
		bad["dropout"] = "must be a probability between 0 and 1"
	}
	if f.Noise < 0 || f.Noise > 1000 {
		bad["noise"] = "must be between 0 and 1000"
	}
	for _, m := range []struct {
		name string
		v    map[string]float64
	}{{"drift_per_hour", f.DriftPerHour}, {"tamper", f.Tamper}, {"override", f.Override}} {
		for ch := range m.v {
			if _, ok := noiseSigma[ch]; !ok {
				bad[m.name] = fmt.Sprintf("unknown channel %q", ch)
			}
		}
	}
	return bad
}

// noiseSigma is the normal measurement noise (standard deviation) per channel.
var noiseSigma = map[string]float64{
	"temperature": 0.05, "humidity": 0.3, "co2": 3, "illuminance": 5,
	"motion": 0, "presence": 0, "door": 0, "weight": 0.3,
}

// measure turns a true value into what a (possibly faulty) sensor reports.
func (f *Fault) measure(channel string, truth float64, now time.Time, rng *rand.Rand) float64 {
	if f != nil {
		if v, ok := f.Override[channel]; ok {
			return v
		}
	}
	v := truth
	k := 1.0
	if f != nil {
		if f.Noise > 0 {
			k = f.Noise
		}
		v += f.Tamper[channel]
		if d := f.DriftPerHour[channel]; d != 0 {
			v += d * now.Sub(f.Since).Hours()
		}
	}
	if s := noiseSigma[channel] * k; s > 0 {
		v += rng.NormFloat64() * s
	}
	return v
}

// dropped reports whether one report is lost to a dropout fault.
func (f *Fault) dropped(rng *rand.Rand) bool {
	return f != nil && f.Dropout > 0 && rng.Float64() < f.Dropout
}

func (f *Fault) offline() bool { return f != nil && f.Offline }
