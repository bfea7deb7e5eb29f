package worldmodel

import (
	"time"

	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/topic"
)

// Message is an office message as the model takes it (internal/telemetry):
// the parsed topic and the payload's JSON object. Fields is nil for system
// topics, which the model ignores.
type Message = telemetry.Message

// Decode parses an office topic and its JSON object payload without touching
// a model, so that a caller can decode once and hand the same message to the
// model and to others (the brain's device registry and decision log).
// Rejections are *telemetry.Reject.
func Decode(t string, payload []byte) (Message, error) { return telemetry.Decode(t, payload) }

// Ingest decodes and applies one MQTT message. Topics outside office/ zones
// are ignored (nil); malformed payloads return a *telemetry.Reject and change
// nothing.
func (m *Model) Ingest(t string, payload []byte) error {
	msg, err := Decode(t, payload)
	if err != nil {
		return err
	}
	return m.Apply(msg)
}

// Apply applies a decoded message: its kind's parse step checks the fields
// and builds an update, which is then applied under the model's lock.
func (m *Model) Apply(msg Message) error {
	if !msg.Office.ZoneScoped {
		return nil
	}
	in, ok := ingesters[msg.Office.Kind]
	if !ok {
		// Recognised zone topics the brain does not act on (whiteboard,
		// wifi-pose, tasks): they only mark the zone as alive.
		in = ingestTouch
	}
	if err := in(m, msg); err != nil {
		return err
	}
	m.ingested.Add(1)
	return nil
}

// ingester applies one kind of message to the model.
type ingester func(*Model, Message) error

// ingesters dispatch by topic kind. Each pairs a parse step (parse.go: fields
// to a typed update, no model state) with an apply step (apply.go: the update
// into the zone, under the lock).
var ingesters = map[topic.Kind]ingester{
	topic.KindSensor:        kind(parseSensor, (*Model).applySensor),
	topic.KindOccupancy:     kind(parseOccupancy, (*Model).applyOccupancy),
	topic.KindTracking:      kind(parseOccupancy, (*Model).applyOccupancy),
	topic.KindActivity:      kind(parseActivity, (*Model).applyActivity),
	topic.KindCamera:        kind(parseCamera, (*Model).applyCamera),
	topic.KindSpatial:       kind(parseSpatial, (*Model).applySpatial),
	topic.KindSafety:        kind(parseSafety, (*Model).applyEvent),
	topic.KindAnomaly:       kind(parseAnomaly, (*Model).applyEvent),
	topic.KindVLM:           kind(parseVLM, (*Model).applyVLM),
	topic.KindTaskReport:    kind(parseTaskReport, (*Model).applyEvent),
	topic.KindHVAC:          kind(parseActuator, (*Model).applyActuator),
	topic.KindLight:         kind(parseActuator, (*Model).applyActuator),
	topic.KindCoffeeMachine: kind(parseActuator, (*Model).applyActuator),
}

var ingestTouch = kind(parseNothing, (*Model).applyTouch)

// kind builds the ingester of one message kind: parse outside the lock (a
// rejected message changes nothing), then, under the lock, sweep expired
// state, admit the message's zone and device within the model's bounds
// (bounds.go) and apply.
func kind[U any](parse func(Message) (U, error), apply func(*Model, *zone, U, time.Time)) ingester {
	return func(m *Model, msg Message) error {
		u, err := parse(msg)
		if err != nil {
			return err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		now := m.clock.Now()
		m.sweepLocked(now)
		z, err := m.admitLocked(msg, u, now)
		if err != nil {
			return err
		}
		apply(m, z, u, now)
		return nil
	}
}
