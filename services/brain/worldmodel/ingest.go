package worldmodel

import (
	"encoding/json"
	"fmt"

	"github.com/somsgo/soms/internal/jsonnum"
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
		if o.IsHeartbeat() {
			// Heartbeats belong to the device registry; they only mark the
			// device as present in its zone here.
			z := m.zoneLocked(o.Zone)
			z.devices[o.DeviceID] = now
			return nil
		}
		z := m.zoneLocked(o.Zone)
		prev := z.people
		if o.Channel == "status" {
			n := 0
			for key, ch := range bulkChannels {
				if v, ok := obj[key]; ok {
					if f, ok := jsonnum.Float(v, readingAccept); ok {
						m.applyLocked(z, o.DeviceID, ch, f)
						n++
					}
				}
			}
			if n == 0 {
				return drop("bad_payload", "%s: status payload has no known channel", t)
			}
		} else {
			f, err := channelValue(obj, o.Channel)
			if err != nil {
				return drop("bad_payload", "%s: %v", t, err)
			}
			m.applyLocked(z, o.DeviceID, o.Channel, f)
		}
		z.devices[o.DeviceID] = now
		z.lastUpdate = now
		m.detectLocked(z, prev)
	case topic.KindOccupancy, topic.KindTracking:
		n, ok := personCount(obj)
		if !ok {
			return drop("bad_payload", "%s: no person_count, count or occupancy", t)
		}
		z := m.zoneLocked(o.Zone)
		prev := z.people
		z.vision, z.visionAt, z.lastUpdate = n, now, now
		m.detectLocked(z, prev)
	case topic.KindActivity:
		if o.DeviceID != "" {
			return drop("bad_topic", "%s: activity topic has no device segment", t)
		}
		z := m.zoneLocked(o.Zone)
		prev := z.people
		if n, ok := personCount(obj); ok {
			z.vision, z.visionAt = n, now
		}
		a := Activity{Class: "unknown", PostureStatus: "unknown", At: now}
		a.Level, _ = jsonnum.Float(obj["activity_level"], readingAccept)
		if c, ok := obj["activity_class"].(string); ok && c != "" {
			a.Class = c
		}
		a.PostureDuration, _ = jsonnum.Float(obj["posture_duration_sec"], readingAccept)
		if p, ok := obj["posture_status"].(string); ok && p != "" {
			a.PostureStatus = p
		}
		z.activity, z.lastUpdate = a, now
		m.detectLocked(z, prev)
	case topic.KindCamera:
		z := m.zoneLocked(o.Zone)
		z.lastUpdate = now
		switch {
		case o.Channel == "engagement_event":
			ev, _ := obj["event"].(string)
			if ev == "" {
				return drop("bad_payload", "%s: engagement_event without event", t)
			}
			data := map[string]any{"camera_id": o.DeviceID}
			for _, k := range []string{"track_key", "face_orientation", "attention", "posture", "gesture"} {
				if v, ok := obj[k]; ok {
					data[k] = v
				}
			}
			m.emitLocked(z.id, "engagement_"+ev, SeverityInfo, data, 0)
		case o.Channel == "engagement" || (len(o.Channel) > 10 && o.Channel[:10] == "engagement"):
			// Snapshot only; no event.
		default:
			n, ok := personCount(obj)
			if !ok {
				return drop("bad_payload", "%s: no person_count, count or occupancy", t)
			}
			prev := z.people
			z.vision, z.visionAt = n, now
			m.detectLocked(z, prev)
		}
	case topic.KindSpatial:
		if o.DeviceID == "" {
			return drop("bad_topic", "%s: spatial topic needs a camera id", t)
		}
		persons, _ := obj["persons"].([]any)
		sp := Spatial{Persons: len(persons), At: now}
		if objs, ok := obj["objects"].([]any); ok {
			for _, x := range objs {
				if m, ok := x.(map[string]any); ok {
					if c, ok := m["class_name"].(string); ok {
						sp.Objects = append(sp.Objects, c)
					}
				}
			}
		}
		z := m.zoneLocked(o.Zone)
		z.spatial[o.DeviceID], z.lastUpdate = sp, now
	case topic.KindSafety:
		// The original required a fifth segment and so never saw
		// office/{zone}/safety/fall; the fourth segment is the channel here.
		if o.DeviceID != "fall" {
			m.zoneLocked(o.Zone).lastUpdate = now
			return nil
		}
		z := m.zoneLocked(o.Zone)
		z.lastUpdate = now
		data := map[string]any{}
		for _, k := range []string{"confidence", "duration_sec", "bbox", "tracker_id", "camera_id"} {
			if v, ok := obj[k]; ok {
				data[k] = v
			}
		}
		m.emitLocked(z.id, EventFall, SeverityCritical, data, 0)
	case topic.KindAnomaly:
		z := m.zoneLocked(o.Zone)
		z.lastUpdate = now
		sev, _ := obj["severity"].(string)
		if sev != SeverityCritical && sev != SeverityInfo {
			sev = SeverityWarning
		}
		ch, _ := obj["channel"].(string)
		if ch == "" {
			ch = o.DeviceID
		}
		data := map[string]any{"channel": ch}
		for _, k := range []string{"score", "predicted", "actual", "source"} {
			if v, ok := obj[k]; ok {
				data[k] = v
			}
		}
		m.emitLocked(z.id, EventAnomaly, sev, data, 0)
	case topic.KindVLM:
		content, _ := obj["content"].(string)
		if r := []rune(content); len(r) > 200 {
			content = string(r[:200])
		}
		z := m.zoneLocked(o.Zone)
		z.lastVLM, z.lastVLMAt, z.lastUpdate = content, now, now
		trigger, _ := obj["trigger"].(string)
		m.emitLocked(z.id, EventVLM, SeverityInfo, map[string]any{"analysis_type": o.DeviceID, "trigger": trigger, "content": content}, 0)
	case topic.KindTaskReport:
		z := m.zoneLocked(o.Zone)
		z.lastUpdate = now
		data := map[string]any{"task_id": obj["task_id"]}
		if data["task_id"] == nil && o.DeviceID != "" {
			data["task_id"] = o.DeviceID
		}
		for _, k := range []string{"title", "report_status", "completion_note"} {
			s, _ := obj[k].(string)
			data[k] = s
		}
		m.emitLocked(z.id, EventTaskReport, SeverityInfo, data, 0)
	case topic.KindHVAC, topic.KindLight, topic.KindCoffeeMachine:
		if o.DeviceID == "" {
			return drop("bad_topic", "%s: actuator topic needs a device id", t)
		}
		power, _ := obj["power_state"].(string)
		if power == "" {
			power, _ = obj["state"].(string)
		}
		a := Actuator{Type: string(o.Kind), Power: power, At: now}
		if _, ok := obj["mode"]; ok {
			a.Specific = obj
		} else if _, ok := obj["target_temp"]; ok {
			a.Specific = obj
		}
		z := m.zoneLocked(o.Zone)
		z.actuators[o.DeviceID], z.lastUpdate = a, now
	default:
		// Recognised zone topics the brain does not act on (whiteboard,
		// wifi-pose, tasks): they only mark the zone as alive.
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
		var prev *sample
		if n := len(c.history); n > 0 {
			p := c.history[n-1]
			prev = &p
		}
		own, hadOwn := c.devices[device]
		c.add(device, v, now)
		if !m.checkTamperLocked(z, c, prev, now) && hadOwn {
			// Fusion dilutes one device's jump among its neighbours, so a
			// tampered sensor is also judged against its own last reading.
			m.checkDeviceTamperLocked(z, c.name, device, own, v, now)
		}
	case ch == "presence":
		z.presence[device+"/"+ch] = presence{on: v != 0, at: now}
	case ch == "motion" || ch == "vibration":
		if v != 0 {
			z.counters = append(z.counters, now)
		}
		if ch == "motion" {
			z.presence[device+"/"+ch] = presence{on: v != 0, at: now}
		}
	case ch == "motion_count":
		for i := 0; i < int(min(v, 1000)); i++ {
			z.counters = append(z.counters, now)
		}
	case ch == "door" || ch == "contact":
		open := v != 0
		if ch == "contact" {
			open = !open
		}
		d, ok := z.doors[device]
		if !ok {
			d = &Door{Open: open, Since: now}
			z.doors[device] = d
		} else if d.Open != open {
			d.Open, d.Since = open, now
			d.changes = append(d.changes, now)
		}
		d.trim(now)
		if ch == "door" {
			if z.lastDoor != nil && *z.lastDoor != open {
				typ := EventDoorClosed
				if open {
					typ = EventDoorOpened
				}
				m.emitLocked(z.id, typ, SeverityInfo, map[string]any{"device_id": device, "state": map[bool]string{true: "open", false: "closed"}[open]}, 0)
			}
			z.lastDoor = &open
		}
	default:
		z.extra[ch] = v
	}
}

// channelValue extracts a reading: the key named like the channel when present
// and non-zero (some nodes send {"co2": 812}), else "value".
func channelValue(obj map[string]any, ch string) (float64, error) {
	if v, ok := obj[ch]; ok {
		if f, ok := jsonnum.Float(v, readingAccept); ok && f != 0 {
			return f, nil
		}
	}
	v, ok := obj["value"]
	if !ok {
		return 0, fmt.Errorf("no %q or \"value\" key", ch)
	}
	f, ok := jsonnum.Float(v, readingAccept)
	if !ok {
		return 0, fmt.Errorf("value %v is not a number or boolean", v)
	}
	return f, nil
}

func personCount(obj map[string]any) (int, bool) {
	for _, k := range []string{"person_count", "count"} {
		if v, ok := obj[k]; ok {
			if f, ok := jsonnum.Float(v, readingAccept); ok && f >= 0 {
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

// readingAccept is what the world model takes for a reading: JSON numbers,
// booleans (true = 1) and numeric strings ("812"), as the original brain did;
// the backend's telemetry parser refuses the strings.
const readingAccept = jsonnum.Strings | jsonnum.Bools
