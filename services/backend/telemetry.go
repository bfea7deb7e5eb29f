package backend

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/topic"
)

// Reading is one sensor value.
type Reading struct {
	Zone     string    `json:"zone"`
	DeviceID string    `json:"device_id"`
	Channel  string    `json:"channel"`
	Value    float64   `json:"value"`
	At       time.Time `json:"at"`
}

// MarshalJSON adds timestamp, the original SOMS's name of at.
func (r Reading) MarshalJSON() ([]byte, error) {
	type plain Reading
	return json.Marshal(struct {
		plain
		Timestamp time.Time `json:"timestamp"`
	}{plain(r), r.At})
}

// Heartbeat is a device's periodic "I am alive" message (the original SOMS
// edge firmware's shape); Children are leaves reported by a hub.
type Heartbeat struct {
	DeviceID     string      `json:"device_id"`
	Status       string      `json:"status"`
	UptimeSec    *int64      `json:"uptime_sec"`
	DeviceType   string      `json:"device_type"`
	PowerMode    string      `json:"power_mode"`
	BatteryPct   *float64    `json:"battery_pct"`
	Label        string      `json:"label"`
	Capabilities []string    `json:"capabilities"`
	NextWakeSec  *float64    `json:"next_wake_sec"`
	Children     []Heartbeat `json:"children"`
}

// statusChannels are the keys a bulk office/{zone}/sensor/{device}/status
// payload may carry (gas is stored as gas_resistance, as the brain does).
var statusChannels = map[string]string{
	"temperature": "temperature", "humidity": "humidity", "co2": "co2", "pressure": "pressure",
	"gas": "gas_resistance", "gas_resistance": "gas_resistance", "illuminance": "illuminance",
	"motion": "motion", "door": "door", "motion_count": "motion_count", "presence": "presence",
	"contact": "contact", "vibration": "vibration", "soil_moisture": "soil_moisture",
	"soil_temperature": "soil_temperature",
}

// parsed is what one MQTT message means to the backend.
type parsed struct {
	Readings  []Reading
	Heartbeat *Heartbeat
	Zone      string
}

// parseTelemetry interprets an office/# message received at now. Anything
// that is not sensor telemetry, a heartbeat or an occupancy count, or that is
// not a JSON object, yields nothing.
func parseTelemetry(t string, payload []byte, now time.Time) parsed {
	o, ok := topic.ParseOffice(t)
	if !ok || !o.ZoneScoped {
		return parsed{}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) != nil || obj == nil {
		return parsed{}
	}
	out := parsed{Zone: o.Zone}
	switch o.Kind {
	case topic.KindSensor:
		if o.DeviceID == "" || o.Channel == "" {
			return parsed{}
		}
		switch {
		case o.IsHeartbeat():
			var hb Heartbeat
			if json.Unmarshal(payload, &hb) != nil {
				return parsed{}
			}
			hb.DeviceID = o.DeviceID // the topic is authoritative
			out.Heartbeat = &hb
		case o.Channel == "status":
			for k, raw := range obj {
				if ch, known := statusChannels[k]; known {
					if v, isNum := jsonnum.Float(raw, readingAccept); isNum {
						out.Readings = append(out.Readings, Reading{Zone: o.Zone, DeviceID: o.DeviceID, Channel: ch, Value: v, At: now})
					}
				}
			}
		default:
			// {"value": x}, or the channel's own key ({"co2": 812}) when present and truthy.
			v, isNum := jsonnum.Float(obj[o.Channel], readingAccept)
			if fallback, has := jsonnum.Float(obj["value"], readingAccept); has && (!isNum || v == 0) {
				v, isNum = fallback, true
			}
			if !isNum {
				return parsed{}
			}
			out.Readings = []Reading{{Zone: o.Zone, DeviceID: o.DeviceID, Channel: o.Channel, Value: v, At: now}}
		}
	case topic.KindOccupancy:
		if o.DeviceID != "" {
			return parsed{}
		}
		v, isNum := jsonnum.Float(obj["person_count"], readingAccept)
		if !isNum {
			v, isNum = jsonnum.Float(obj["count"], readingAccept)
		}
		if !isNum {
			v, isNum = jsonnum.Float(obj["occupancy"], readingAccept)
		}
		if !isNum {
			return parsed{}
		}
		out.Readings = []Reading{{Zone: o.Zone, DeviceID: "occupancy", Channel: "person_count", Value: v, At: now}}
	default:
		return parsed{}
	}
	return out
}

// readingAccept is what the backend takes for a reading: JSON numbers and
// booleans (true = 1), not numeric strings ("812"), which the brain's world
// model does take.
const readingAccept = jsonnum.Bools

// flattenHeartbeat returns the device and its children, each child's id
// prefixed with the parent's unless either already holds a dot.
func flattenHeartbeat(hb Heartbeat) []struct {
	Parent string
	HB     Heartbeat
} {
	out := []struct {
		Parent string
		HB     Heartbeat
	}{{"", hb}}
	for _, c := range hb.Children {
		if c.DeviceID == "" {
			continue
		}
		id := c.DeviceID
		if !strings.Contains(id, ".") && !strings.Contains(hb.DeviceID, ".") {
			id = hb.DeviceID + "." + id
		}
		c.DeviceID, c.Children = id, nil
		out = append(out, struct {
			Parent string
			HB     Heartbeat
		}{hb.DeviceID, c})
	}
	return out
}
