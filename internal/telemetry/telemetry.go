// Package telemetry is the one parser of office telemetry in SOMS: the brain's
// world model and the backend both read sensor readings, person counts and
// heartbeats through it, so that one message has one meaning and one fate in
// both. A message is either accepted whole or rejected with exactly one
// Reason; readings are finite numbers inside their channel's plausible range
// (ranges.go, documented in docs/telemetry.md).
package telemetry

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/somsgo/soms/internal/topic"
)

// Reason is why a message was dropped: a short, low-cardinality label for the
// services' drop counters.
type Reason string

// The reasons a message is rejected.
const (
	// BadTopic: not an office topic, or a sensor topic without device or channel.
	BadTopic Reason = "bad_topic"
	// TooLarge: the payload is longer than MaxPayload.
	TooLarge Reason = "too_large"
	// BadJSON: the payload is not one JSON object (numbers beyond float64,
	// such as 1e400, are refused by the decoder and land here too).
	BadJSON Reason = "bad_json"
	// NoValue: no reading where one is expected (no channel key or "value",
	// a bulk status with no known channel, an occupancy without a count).
	NoValue Reason = "no_value"
	// NotANumber: the reading is not a finite number the channel takes
	// (a word, NaN, Inf, an object, a boolean for a measured quantity).
	NotANumber Reason = "not_a_number"
	// OutOfRange: a number outside the channel's plausible range.
	OutOfRange Reason = "out_of_range"
	// BadHeartbeat: children that are not objects with a device id, or more
	// of them than MaxChildren.
	BadHeartbeat Reason = "bad_heartbeat"
	// DeviceLimit: a device id new to a service that already holds as many
	// devices as it keeps (the brain's world model and registry, the
	// backend's device table); known devices are unaffected.
	DeviceLimit Reason = "device_limit"
	// ZoneLimit: a zone new to the brain's world model beyond its zone cap.
	ZoneLimit Reason = "zone_limit"
	// ChannelLimit: a channel new to a device (the backend) or a zone's
	// passthrough channels (the brain) beyond their cap.
	ChannelLimit Reason = "channel_limit"
)

// Reasons lists every Reason, for documentation and tests.
var Reasons = []Reason{BadTopic, TooLarge, BadJSON, NoValue, NotANumber, OutOfRange, BadHeartbeat, DeviceLimit, ZoneLimit, ChannelLimit}

// MaxPayload bounds the payload the parser reads. The broker refuses larger
// packets already (infra/mosquitto: max_packet_size); this keeps a service
// that is reached another way just as safe.
const MaxPayload = 256 << 10

// Reject is a rejected message: one Reason and the detail for the log.
type Reject struct {
	Reason Reason
	Detail string
}

func (e *Reject) Error() string { return string(e.Reason) + ": " + e.Detail }

// Rejectf builds a *Reject.
func Rejectf(reason Reason, format string, args ...any) error {
	return &Reject{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Within prefixes a rejection's detail with where it happened, keeping its
// reason.
func Within(where string, err error) error {
	var r *Reject
	if errors.As(err, &r) {
		return &Reject{Reason: r.Reason, Detail: where + ": " + r.Detail}
	}
	return err
}

// Message is an office message as the services take it: the parsed topic and
// the payload's JSON object. Fields is nil for system topics
// (office/tracking/persons, office/perception/...), which name no zone.
type Message struct {
	Topic  string // as received, for drop details
	Office topic.Office
	Fields map[string]any
}

// Decode parses an office topic and its payload, once, for every consumer of
// the message. System topics are returned without decoding the payload.
func Decode(t string, payload []byte) (Message, error) {
	o, ok := topic.ParseOffice(t)
	if !ok {
		return Message{}, Rejectf(BadTopic, "%q is not an office topic", t)
	}
	if !o.ZoneScoped {
		return Message{Topic: t, Office: o}, nil
	}
	if len(payload) > MaxPayload {
		return Message{}, Rejectf(TooLarge, "%s: %d bytes (at most %d)", t, len(payload), MaxPayload)
	}
	var fields map[string]any
	if err := json.Unmarshal(payload, &fields); err != nil || fields == nil {
		return Message{}, Rejectf(BadJSON, "%s: payload is not a JSON object", t)
	}
	return Message{Topic: t, Office: o, Fields: fields}, nil
}

// Reading is one channel value.
type Reading struct {
	Channel string  `json:"channel"`
	Value   float64 `json:"value"`
}

// BulkChannels are the keys of a bulk office/{zone}/sensor/{device}/status
// payload that become readings, in the order they are applied, and the
// channel each becomes (gas is gas_resistance). Other keys are ignored.
var BulkChannels = []struct{ Key, Channel string }{
	{"temperature", "temperature"}, {"humidity", "humidity"}, {"co2", "co2"}, {"pressure", "pressure"},
	{"gas", "gas_resistance"}, {"gas_resistance", "gas_resistance"}, {"illuminance", "illuminance"},
	{"motion", "motion"}, {"door", "door"}, {"motion_count", "motion_count"}, {"presence", "presence"},
	{"contact", "contact"}, {"vibration", "vibration"}, {"soil_moisture", "soil_moisture"},
	{"soil_temperature", "soil_temperature"},
}

// SensorReadings reads office/{zone}/sensor/{device}/{channel} (not a
// heartbeat): the one reading of a channel message, or every known channel of
// a bulk "status" message. A channel message's reading is its channel key
// when that holds a truthy value ({"co2": 812}), else "value", else the
// channel key's falsy value ({"motion": 0}) — the original's
// `payload.get(channel) or payload.get("value")`, with an explicit zero kept.
// A bulk message with any implausible known value is rejected whole.
func SensorReadings(m Message) ([]Reading, error) {
	o := m.Office
	if o.Kind != topic.KindSensor || o.DeviceID == "" || o.Channel == "" {
		return nil, Rejectf(BadTopic, "%s: a sensor topic needs a device and a channel", m.Topic)
	}
	if o.Channel == "status" {
		var out []Reading
		for _, b := range BulkChannels {
			v, ok := m.Fields[b.Key]
			if !ok || v == nil {
				continue
			}
			f, err := Value(b.Channel, v)
			if err != nil {
				return nil, Within(m.Topic+": "+b.Key, err)
			}
			out = append(out, Reading{b.Channel, f})
		}
		if len(out) == 0 {
			return nil, Rejectf(NoValue, "%s: status payload has no known channel", m.Topic)
		}
		return out, nil
	}
	v := pick(m.Fields, o.Channel)
	if v == nil {
		return nil, Rejectf(NoValue, "%s: no %q or \"value\" key", m.Topic, o.Channel)
	}
	f, err := Value(o.Channel, v)
	if err != nil {
		return nil, Within(m.Topic, err)
	}
	return []Reading{{o.Channel, f}}, nil
}

// pick chooses a channel message's raw reading (see SensorReadings); nil
// when there is none.
func pick(fields map[string]any, ch string) any {
	own, hasOwn := fields[ch]
	if hasOwn && truthy(own) {
		return own
	}
	if v := fields["value"]; v != nil {
		return v
	}
	return own
}

// truthy is Python's truth of a decoded JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// PersonCount reads a person count from an occupancy, tracking, camera or
// activity payload: "person_count", else "count" (numbers or numeric
// strings), else "occupancy" (a boolean: 1 or 0). The first key present
// decides: an invalid person_count is rejected, not passed over for count.
// ok is false when the payload has none of the keys.
func PersonCount(fields map[string]any) (n int, ok bool, err error) {
	for _, k := range []string{"person_count", "count"} {
		if v := fields[k]; v != nil {
			f, err := Value("person_count", v)
			if err != nil {
				return 0, true, err
			}
			return int(f), true, nil
		}
	}
	if v := fields["occupancy"]; v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return 0, true, Rejectf(NotANumber, "occupancy %v is not a boolean", v)
		}
		if b {
			return 1, true, nil
		}
		return 0, true, nil
	}
	return 0, false, nil
}

// OccupancyCount reads office/{zone}/occupancy (and the tracking and camera
// topics that carry the same count): a payload without a count is rejected.
func OccupancyCount(m Message) (int, error) {
	n, ok, err := PersonCount(m.Fields)
	switch {
	case err != nil:
		return 0, Within(m.Topic, err)
	case !ok:
		return 0, Rejectf(NoValue, "%s: no person_count, count or occupancy", m.Topic)
	}
	return n, nil
}
