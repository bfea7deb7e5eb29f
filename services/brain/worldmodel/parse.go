package worldmodel

import (
	"fmt"
	"strings"

	"github.com/somsgo/soms/internal/jsonnum"
)

// The parse step of each message kind: a decoded message's fields to a typed
// update, or a *DropError. Parsers read no model state, so they run outside
// the lock.

// channelReading is one numeric channel value of a sensor message.
type channelReading struct {
	channel string
	value   float64
}

// sensorUpdate is office/{zone}/sensor/{device}/{channel}: one channel, the
// known channels of a bulk "status" payload, or a heartbeat.
type sensorUpdate struct {
	device string
	// heartbeat only marks the device present; heartbeats belong to the
	// device registry.
	heartbeat bool
	one       channelReading   // a single-channel message
	bulk      []channelReading // a bulk status message
}

// bulkChannels are the keys of a bulk office/{zone}/sensor/{device}/status
// payload that become channel updates, in the order they are applied.
var bulkChannels = []struct{ key, channel string }{
	{"temperature", "temperature"}, {"humidity", "humidity"}, {"co2", "co2"}, {"pressure", "pressure"},
	{"gas", "gas_resistance"}, {"gas_resistance", "gas_resistance"}, {"illuminance", "illuminance"},
	{"motion", "motion"}, {"door", "door"}, {"motion_count", "motion_count"}, {"presence", "presence"},
	{"contact", "contact"}, {"vibration", "vibration"}, {"soil_moisture", "soil_moisture"},
	{"soil_temperature", "soil_temperature"},
}

func parseSensor(msg Message) (sensorUpdate, error) {
	o := msg.Office
	if o.DeviceID == "" || o.Channel == "" {
		return sensorUpdate{}, drop("bad_topic", "%s: sensor topic needs device and channel", msg.Topic)
	}
	u := sensorUpdate{device: o.DeviceID}
	switch {
	case o.IsHeartbeat():
		u.heartbeat = true
	case o.Channel == "status":
		for _, b := range bulkChannels {
			if f, ok := jsonnum.Float(msg.Fields[b.key], readingAccept); ok {
				u.bulk = append(u.bulk, channelReading{b.channel, f})
			}
		}
		if len(u.bulk) == 0 {
			return sensorUpdate{}, drop("bad_payload", "%s: status payload has no known channel", msg.Topic)
		}
	default:
		f, err := readingValue(msg.Fields, o.Channel)
		if err != nil {
			return sensorUpdate{}, drop("bad_payload", "%s: %v", msg.Topic, err)
		}
		u.one = channelReading{o.Channel, f}
	}
	return u, nil
}

// readingValue extracts a reading: the key named like the channel when
// present and non-zero (some nodes send {"co2": 812}), else "value".
func readingValue(obj map[string]any, ch string) (float64, error) {
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

// parseOccupancy reads office/{zone}/occupancy and office/{zone}/tracking/...:
// a person count.
func parseOccupancy(msg Message) (int, error) {
	n, ok := personCount(msg.Fields)
	if !ok {
		return 0, drop("bad_payload", "%s: no person_count, count or occupancy", msg.Topic)
	}
	return n, nil
}

// activityUpdate is office/{zone}/activity: the perception's activity
// summary, with a person count when it has one.
type activityUpdate struct {
	activity Activity // At is set when applied
	count    int
	hasCount bool
}

func parseActivity(msg Message) (activityUpdate, error) {
	if msg.Office.DeviceID != "" {
		return activityUpdate{}, drop("bad_topic", "%s: activity topic has no device segment", msg.Topic)
	}
	obj := msg.Fields
	u := activityUpdate{activity: Activity{Class: "unknown", PostureStatus: "unknown"}}
	u.count, u.hasCount = personCount(obj)
	u.activity.Level, _ = jsonnum.Float(obj["activity_level"], readingAccept)
	if c, ok := obj["activity_class"].(string); ok && c != "" {
		u.activity.Class = c
	}
	u.activity.PostureDuration, _ = jsonnum.Float(obj["posture_duration_sec"], readingAccept)
	if p, ok := obj["posture_status"].(string); ok && p != "" {
		u.activity.PostureStatus = p
	}
	return u, nil
}

// cameraUpdate is office/{zone}/camera/{camera}/{channel}: an engagement event,
// an engagement snapshot (nothing but a sign of life) or a person count.
type cameraUpdate struct {
	event    string // engagement event type, without the "engagement_" prefix
	data     map[string]any
	count    int
	hasCount bool
}

func parseCamera(msg Message) (cameraUpdate, error) {
	o, obj := msg.Office, msg.Fields
	switch {
	case o.Channel == "engagement_event":
		ev, _ := obj["event"].(string)
		if ev == "" {
			return cameraUpdate{}, drop("bad_payload", "%s: engagement_event without event", msg.Topic)
		}
		data := map[string]any{"camera_id": o.DeviceID}
		copyKeys(data, obj, "track_key", "face_orientation", "attention", "posture", "gesture")
		return cameraUpdate{event: ev, data: data}, nil
	case strings.HasPrefix(o.Channel, "engagement"):
		return cameraUpdate{}, nil // snapshot only; no event
	}
	n, ok := personCount(obj)
	if !ok {
		return cameraUpdate{}, drop("bad_payload", "%s: no person_count, count or occupancy", msg.Topic)
	}
	return cameraUpdate{count: n, hasCount: true}, nil
}

// spatialUpdate is office/{zone}/spatial/{camera}: a detection summary.
type spatialUpdate struct {
	camera  string
	spatial Spatial // At is set when applied
}

func parseSpatial(msg Message) (spatialUpdate, error) {
	if msg.Office.DeviceID == "" {
		return spatialUpdate{}, drop("bad_topic", "%s: spatial topic needs a camera id", msg.Topic)
	}
	persons, _ := msg.Fields["persons"].([]any)
	u := spatialUpdate{camera: msg.Office.DeviceID, spatial: Spatial{Persons: len(persons)}}
	objs, _ := msg.Fields["objects"].([]any)
	for _, x := range objs {
		if obj, ok := x.(map[string]any); ok {
			if c, ok := obj["class_name"].(string); ok {
				u.spatial.Objects = append(u.spatial.Objects, c)
			}
		}
	}
	return u, nil
}

// zoneEvent is a message that raises one event in its zone; an empty typ only
// marks the zone as alive.
type zoneEvent struct {
	typ, severity string
	data          map[string]any
}

// parseSafety reads office/{zone}/safety/{channel}; only "fall" is an event.
// The original required a fifth segment and so never saw
// office/{zone}/safety/fall: the fourth segment is the channel here.
func parseSafety(msg Message) (zoneEvent, error) {
	if msg.Office.DeviceID != "fall" {
		return zoneEvent{}, nil
	}
	data := map[string]any{}
	copyKeys(data, msg.Fields, "confidence", "duration_sec", "bbox", "tracker_id", "camera_id")
	return zoneEvent{EventFall, SeverityCritical, data}, nil
}

// parseAnomaly reads office/{zone}/anomaly/{channel}.
func parseAnomaly(msg Message) (zoneEvent, error) {
	obj := msg.Fields
	sev, _ := obj["severity"].(string)
	if sev != SeverityCritical && sev != SeverityInfo {
		sev = SeverityWarning
	}
	ch, _ := obj["channel"].(string)
	if ch == "" {
		ch = msg.Office.DeviceID
	}
	data := map[string]any{"channel": ch}
	copyKeys(data, obj, "score", "predicted", "actual", "source")
	return zoneEvent{EventAnomaly, sev, data}, nil
}

// parseTaskReport reads office/{zone}/task_report/{task id}.
func parseTaskReport(msg Message) (zoneEvent, error) {
	obj := msg.Fields
	data := map[string]any{"task_id": obj["task_id"]}
	if data["task_id"] == nil && msg.Office.DeviceID != "" {
		data["task_id"] = msg.Office.DeviceID
	}
	for _, k := range []string{"title", "report_status", "completion_note"} {
		s, _ := obj[k].(string)
		data[k] = s
	}
	return zoneEvent{EventTaskReport, SeverityInfo, data}, nil
}

// vlmUpdate is office/{zone}/vlm/{analysis type}: a scene description.
type vlmUpdate struct {
	content string // at most vlmMaxRunes
	event   map[string]any
}

const vlmMaxRunes = 200

func parseVLM(msg Message) (vlmUpdate, error) {
	content, _ := msg.Fields["content"].(string)
	if r := []rune(content); len(r) > vlmMaxRunes {
		content = string(r[:vlmMaxRunes])
	}
	trigger, _ := msg.Fields["trigger"].(string)
	return vlmUpdate{content, map[string]any{"analysis_type": msg.Office.DeviceID, "trigger": trigger, "content": content}}, nil
}

// actuatorUpdate is office/{zone}/{hvac|light|coffee_machine}/{device}: the
// actuator's reported state.
type actuatorUpdate struct {
	device string
	state  Actuator // At is set when applied
}

func parseActuator(msg Message) (actuatorUpdate, error) {
	o, obj := msg.Office, msg.Fields
	if o.DeviceID == "" {
		return actuatorUpdate{}, drop("bad_topic", "%s: actuator topic needs a device id", msg.Topic)
	}
	power, _ := obj["power_state"].(string)
	if power == "" {
		power, _ = obj["state"].(string)
	}
	a := Actuator{Type: string(o.Kind), Power: power}
	_, hasMode := obj["mode"]
	_, hasTarget := obj["target_temp"]
	if hasMode || hasTarget {
		a.Specific = obj
	}
	return actuatorUpdate{o.DeviceID, a}, nil
}

// parseNothing accepts any fields: the message only marks its zone as alive.
func parseNothing(Message) (struct{}, error) { return struct{}{}, nil }

// copyKeys copies the keys of src present in it to dst.
func copyKeys(dst, src map[string]any, keys ...string) {
	for _, k := range keys {
		if v, ok := src[k]; ok {
			dst[k] = v
		}
	}
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
