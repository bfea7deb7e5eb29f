package worldmodel

import (
	"strings"

	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/telemetry"
)

// The parse step of each message kind: a decoded message's fields to a typed
// update, or a *DropError. Parsers read no model state, so they run outside
// the lock.

// sensorUpdate is office/{zone}/sensor/{device}/{channel}: the readings of a
// channel or bulk "status" message (internal/telemetry), or a heartbeat.
type sensorUpdate struct {
	device string
	// heartbeat only marks the device present; heartbeats belong to the
	// device registry.
	heartbeat bool
	readings  []telemetry.Reading
}

func parseSensor(msg Message) (sensorUpdate, error) {
	o := msg.Office
	if o.DeviceID == "" || o.Channel == "" {
		return sensorUpdate{}, telemetry.Rejectf(telemetry.BadTopic, "%s: sensor topic needs device and channel", msg.Topic)
	}
	if o.IsHeartbeat() {
		return sensorUpdate{device: o.DeviceID, heartbeat: true}, nil
	}
	rs, err := telemetry.SensorReadings(msg)
	if err != nil {
		return sensorUpdate{}, err
	}
	return sensorUpdate{device: o.DeviceID, readings: rs}, nil
}

// parseOccupancy reads office/{zone}/occupancy and office/{zone}/tracking/...:
// a person count.
func parseOccupancy(msg Message) (int, error) { return telemetry.OccupancyCount(msg) }

// activityUpdate is office/{zone}/activity: the perception's activity
// summary, with a person count when it has one.
type activityUpdate struct {
	activity Activity // At is set when applied
	count    int
	hasCount bool
}

func parseActivity(msg Message) (activityUpdate, error) {
	if msg.Office.DeviceID != "" {
		return activityUpdate{}, telemetry.Rejectf(telemetry.BadTopic, "%s: activity topic has no device segment", msg.Topic)
	}
	obj := msg.Fields
	u := activityUpdate{activity: Activity{Class: "unknown", PostureStatus: "unknown"}}
	var err error
	if u.count, u.hasCount, err = telemetry.PersonCount(obj); err != nil {
		return activityUpdate{}, telemetry.Within(msg.Topic, err)
	}
	u.activity.Level, _ = jsonnum.Float(obj["activity_level"], jsonnum.Strings)
	if c, ok := obj["activity_class"].(string); ok && c != "" {
		u.activity.Class = c
	}
	u.activity.PostureDuration, _ = jsonnum.Float(obj["posture_duration_sec"], jsonnum.Strings)
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
			return cameraUpdate{}, telemetry.Rejectf(telemetry.NoValue, "%s: engagement_event without event", msg.Topic)
		}
		data := map[string]any{"camera_id": o.DeviceID}
		copyKeys(data, obj, "track_key", "face_orientation", "attention", "posture", "gesture")
		return cameraUpdate{event: ev, data: data}, nil
	case strings.HasPrefix(o.Channel, "engagement"):
		return cameraUpdate{}, nil // snapshot only; no event
	}
	n, err := telemetry.OccupancyCount(msg)
	if err != nil {
		return cameraUpdate{}, err
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
		return spatialUpdate{}, telemetry.Rejectf(telemetry.BadTopic, "%s: spatial topic needs a camera id", msg.Topic)
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
		return actuatorUpdate{}, telemetry.Rejectf(telemetry.BadTopic, "%s: actuator topic needs a device id", msg.Topic)
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
