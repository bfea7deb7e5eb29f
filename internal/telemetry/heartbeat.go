package telemetry

import (
	"strings"
	"unicode/utf8"

	"github.com/somsgo/soms/internal/jsonnum"
)

// MaxChildren bounds the children of one hub heartbeat. A SensorSwarm hub has
// a few dozen leaves; a heartbeat with more children than this is refused
// whole (BadHeartbeat), so that one message cannot register thousands of
// devices at once.
const MaxChildren = 500

// Optional heartbeat fields outside these bounds are ignored (the heartbeat
// itself still counts: the device is alive); text is cut to maxText bytes
// with NUL (which PostgreSQL refuses in text) replaced by U+FFFD.
const (
	maxUptimeSec    = 100 * 365 * 24 * 3600
	maxWakeSec      = 7 * 24 * 3600
	maxHops         = 255
	maxText         = 200
	maxCapabilities = 64
	// MaxDeviceID bounds a child's device id, which later names MQTT topics.
	MaxDeviceID = 128
)

// Heartbeat is a device's periodic "I am alive" message in the original
// firmware's shape (office/{zone}/sensor/{device}/heartbeat), with its
// children (a hub's leaves) flattened. Optional fields that are missing or of
// the wrong type are zero (nil for the pointers and Capabilities).
type Heartbeat struct {
	DeviceID   string // the topic's device for the parent; parent.child for children
	ParentID   string // children only
	Status     string
	DeviceType string
	PowerMode  string // upper case: ALWAYS_ON, LIGHT_SLEEP, DEEP_SLEEP, ULTRA_LOW
	Label      string
	UptimeSec  *int64
	// BatteryPct is battery_pct, or battery (Zigbee bridges), within 0…100;
	// HasBattery is true when either key is present (null: no battery).
	BatteryPct *int
	HasBattery bool
	HopsToMQTT *int
	// Capabilities is nil when the payload has none (an empty list is a
	// device that reports none).
	Capabilities []string
	// NextWakeSec is set for a positive next_wake_sec; HasNextWake is true
	// when the key is present at all (0 or null clears a previous wake time).
	NextWakeSec *int
	HasNextWake bool
	Queue       *QueueStatus
	Children    []Heartbeat
}

// QueueStatus is a hub's pending commands for sleeping children.
type QueueStatus struct {
	QueuedCount int      `json:"queued_count"`
	Targets     []string `json:"targets,omitempty"`
}

// ParseHeartbeat reads a heartbeat message. Children must be a list of
// objects, each with a device_id; a child id is prefixed with the parent's
// ("hub.leaf") unless either already holds a dot.
func ParseHeartbeat(m Message) (Heartbeat, error) {
	o := m.Office
	if !o.IsHeartbeat() || o.DeviceID == "" {
		return Heartbeat{}, Rejectf(BadTopic, "%s: not a heartbeat topic", m.Topic)
	}
	hb := heartbeatFields(o.DeviceID, m.Fields)
	raw, ok := m.Fields["children"]
	if !ok || raw == nil {
		return hb, nil
	}
	children, ok := raw.([]any)
	if !ok {
		return Heartbeat{}, Rejectf(BadHeartbeat, "%s: children must be a list of objects", m.Topic)
	}
	if len(children) > MaxChildren {
		return Heartbeat{}, Rejectf(BadHeartbeat, "%s: %d children (at most %d)", m.Topic, len(children), MaxChildren)
	}
	hb.Children = make([]Heartbeat, 0, len(children))
	for i, c := range children {
		child, ok := c.(map[string]any)
		if !ok {
			return Heartbeat{}, Rejectf(BadHeartbeat, "%s: children[%d] is not an object", m.Topic, i)
		}
		id, _ := child["device_id"].(string)
		if !validID(id) {
			return Heartbeat{}, Rejectf(BadHeartbeat, "%s: children[%d] has no usable device_id (1 to %d bytes, none of NUL / + #)", m.Topic, i, MaxDeviceID)
		}
		if !strings.Contains(id, ".") && !strings.Contains(o.DeviceID, ".") {
			id = o.DeviceID + "." + id
		}
		ch := heartbeatFields(id, child)
		ch.ParentID = o.DeviceID
		hb.Children = append(hb.Children, ch)
	}
	return hb, nil
}

// Devices is the heartbeat's device followed by its children.
func (hb Heartbeat) Devices() []Heartbeat {
	out := make([]Heartbeat, 0, 1+len(hb.Children))
	self := hb
	self.Children = nil
	return append(append(out, self), hb.Children...)
}

func heartbeatFields(id string, f map[string]any) Heartbeat {
	hb := Heartbeat{DeviceID: id, Status: text(f["status"]), DeviceType: text(f["device_type"]), Label: text(f["label"]),
		PowerMode: strings.ToUpper(text(f["power_mode"]))}
	if n, ok := whole(f["uptime_sec"], 0, maxUptimeSec); ok {
		u := int64(n)
		hb.UptimeSec = &u
	}
	battery, ok := f["battery_pct"]
	if !ok {
		battery, ok = f["battery"]
	}
	hb.BatteryPct, hb.HasBattery = intIn(battery, 0, 100), ok
	hb.HopsToMQTT = intIn(f["hops_to_mqtt"], 0, maxHops)
	if caps, ok := f["capabilities"].([]any); ok {
		hb.Capabilities = make([]string, 0, min(len(caps), maxCapabilities))
		for _, c := range caps[:min(len(caps), maxCapabilities)] {
			if s, ok := c.(string); ok {
				hb.Capabilities = append(hb.Capabilities, text(s))
			}
		}
	}
	if v, ok := f["next_wake_sec"]; ok {
		hb.HasNextWake = true
		if n := intIn(v, 1, maxWakeSec); n != nil {
			hb.NextWakeSec = n
		}
	}
	if q, ok := f["queue_status"].(map[string]any); ok {
		qs := &QueueStatus{}
		if n := intIn(q["queued_count"], 0, MaxChildren); n != nil {
			qs.QueuedCount = *n
		}
		if ts, ok := q["targets"].([]any); ok {
			for _, t := range ts[:min(len(ts), MaxChildren)] {
				if s, ok := t.(string); ok {
					qs.Targets = append(qs.Targets, text(s))
				}
			}
		}
		hb.Queue = qs
	}
	return hb
}

// whole reads a number within [lo, hi], truncated to a whole number.
func whole(v any, lo, hi float64) (float64, bool) {
	f, ok := jsonnum.Float(v, jsonnum.Strings)
	if !ok || f < lo || f > hi {
		return 0, false
	}
	return float64(int64(f)), true
}

// intIn is whole as an *int; nil when absent or out of bounds.
func intIn(v any, lo, hi float64) *int {
	f, ok := whole(v, lo, hi)
	if !ok {
		return nil
	}
	n := int(f)
	return &n
}

// text reads a string field: NUL replaced, cut to maxText bytes at a rune
// boundary; "" when v is not a string.
func text(v any) string {
	s, _ := v.(string)
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// validID reports whether a child's device id can name a device (and a
// topic segment): 1 to MaxDeviceID bytes, no NUL, '/', '+' or '#'.
func validID(id string) bool {
	return id != "" && len(id) <= MaxDeviceID && !strings.ContainsAny(id, "\x00/+#")
}
