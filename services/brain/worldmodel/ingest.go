package worldmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/somsgo/soms/internal/topic"
)

// DropError explains why a message was not ingested. Reason is a short,
// low-cardinality label for metrics.
type DropError struct {
	Reason string
	Detail string
}

func (e *DropError) Error() string { return e.Reason + ": " + e.Detail }

func drop(reason, format string, args ...any) error {
	return &DropError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// bulkChannels are the keys of a bulk office/{zone}/sensor/{device}/status
// payload that become channel updates.
var bulkChannels = map[string]string{
	"temperature": "temperature", "humidity": "humidity", "co2": "co2", "pressure": "pressure",
	"gas": "gas_resistance", "gas_resistance": "gas_resistance", "illuminance": "illuminance",
	"motion": "motion", "door": "door", "motion_count": "motion_count", "presence": "presence",
	"contact": "contact", "vibration": "vibration", "soil_moisture": "soil_moisture",
	"soil_temperature": "soil_temperature",
}

// Ingest applies one MQTT message. Topics outside office/ zones are ignored
// (nil); malformed payloads return a *DropError and change nothing.
func (m *Model) Ingest(t string, payload []byte) error {
	o, ok := topic.ParseOffice(t)
	if !ok {
		return drop("bad_topic", "%q is not an office topic", t)
	}
	if !o.ZoneScoped {
		return nil // system topic such as office/tracking/persons: never a zone
	}
	var obj map[string]any
	if err := json.Unmarshal(payload, &obj); err != nil {
		return drop("bad_json", "%s: payload is not a JSON object", t)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	switch o.Kind {
	case topic.KindSensor:
		if o.DeviceID == "" || o.Channel == "" {
			return drop("bad_topic", "%s: sensor topic needs device and channel", t)
		}
		z := m.zoneLocked(o.Zone)
		prev := z.people
		switch {
		case o.IsHeartbeat():
			z.devices[o.DeviceID] = now
		case o.Channel == "status":
			n := 0
			for key, ch := range bulkChannels {
				if v, ok := obj[key]; ok {
					if f, ok := number(v); ok {
						m.applyLocked(z, o.DeviceID, ch, f)
						n++
					}
				}
			}
			if n == 0 {
				return drop("bad_payload", "%s: status payload has no known channel", t)
			}
		default:
			f, err := channelValue(obj, o.Channel)
			if err != nil {
				return drop("bad_payload", "%s: %v", t, err)
			}
			m.applyLocked(z, o.DeviceID, o.Channel, f)
		}
		z.lastUpdate = now
		m.detectLocked(z, prev)
	case topic.KindOccupancy, topic.KindActivity, topic.KindCamera, topic.KindTracking:
		n, ok := personCount(obj)
		if !ok {
			return drop("bad_payload", "%s: no person_count, count or occupancy", t)
		}
		z := m.zoneLocked(o.Zone)
		prev := z.people
		z.vision, z.visionAt, z.lastUpdate = n, now, now
		m.detectLocked(z, prev)
	default:
		// Recognised zone topic the skeleton brain does not act on yet.
		m.zoneLocked(o.Zone).lastUpdate = now
	}
	return nil
}

// applyLocked routes one channel value into the zone.
func (m *Model) applyLocked(z *zone, device, ch string, v float64) {
	now := m.clock.Now()
	switch {
	case analogChannels[ch]:
		c, ok := z.channels[ch]
		if !ok {
			c = newChannel(ch)
			z.channels[ch] = c
		}
		c.add(device, v, now)
	case ch == "presence" || ch == "motion":
		z.presence[device+"/"+ch] = presence{on: v != 0, at: now}
	default:
		z.extra[ch] = v
	}
}

// channelValue extracts a reading: the key named like the channel when present
// and non-zero (some nodes send {"co2": 812}), else "value".
func channelValue(obj map[string]any, ch string) (float64, error) {
	if v, ok := obj[ch]; ok {
		if f, ok := number(v); ok && f != 0 {
			return f, nil
		}
	}
	v, ok := obj["value"]
	if !ok {
		return 0, fmt.Errorf("no %q or \"value\" key", ch)
	}
	f, ok := number(v)
	if !ok {
		return 0, fmt.Errorf("value %v is not a number or boolean", v)
	}
	return f, nil
}

func personCount(obj map[string]any) (int, bool) {
	for _, k := range []string{"person_count", "count"} {
		if v, ok := obj[k]; ok {
			if f, ok := number(v); ok && f >= 0 {
				return int(f), true
			}
		}
	}
	if v, ok := obj["occupancy"].(bool); ok {
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// number accepts JSON numbers, booleans (1/0) and numeric strings.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
