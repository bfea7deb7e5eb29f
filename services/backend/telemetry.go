package backend

import (
	"encoding/json"
	"time"

	"github.com/somsgo/soms/internal/telemetry"
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

// occupancyDevice is the device id the zone's person count is stored under.
const occupancyDevice = "occupancy"

// MarshalJSON adds timestamp, the original SOMS's name of at.
func (r Reading) MarshalJSON() ([]byte, error) {
	type plain Reading
	return json.Marshal(struct {
		plain
		Timestamp time.Time `json:"timestamp"`
	}{plain(r), r.At})
}

// parsed is what one MQTT message means to the backend.
type parsed struct {
	Readings  []Reading
	Heartbeat *telemetry.Heartbeat
	Zone      string
}

// parseTelemetry interprets an office/# message received at now through the
// platform's telemetry parser (internal/telemetry), which the brain uses too.
// Topics the backend does not store (system topics, perception, actuators,
// occupancy with a device segment) yield nothing and no error; telemetry it
// does store is accepted whole or rejected with a *telemetry.Reject.
func parseTelemetry(t string, payload []byte, now time.Time) (parsed, error) {
	o, ok := topic.ParseOffice(t)
	switch {
	case !ok:
		return parsed{}, telemetry.Rejectf(telemetry.BadTopic, "%q is not an office topic", t)
	case !o.ZoneScoped, o.Kind != topic.KindSensor && o.Kind != topic.KindOccupancy,
		o.Kind == topic.KindOccupancy && o.DeviceID != "":
		return parsed{}, nil
	}
	msg, err := telemetry.Decode(t, payload)
	if err != nil {
		return parsed{}, err
	}
	out := parsed{Zone: o.Zone}
	switch {
	case o.Kind == topic.KindOccupancy:
		n, err := telemetry.OccupancyCount(msg)
		if err != nil {
			return parsed{}, err
		}
		out.Readings = []Reading{{Zone: o.Zone, DeviceID: occupancyDevice, Channel: "person_count", Value: float64(n), At: now}}
	case o.IsHeartbeat():
		hb, err := telemetry.ParseHeartbeat(msg)
		if err != nil {
			return parsed{}, err
		}
		out.Heartbeat = &hb
	default:
		rs, err := telemetry.SensorReadings(msg)
		if err != nil {
			return parsed{}, err
		}
		for _, r := range rs {
			out.Readings = append(out.Readings, Reading{Zone: o.Zone, DeviceID: o.DeviceID, Channel: r.Channel, Value: r.Value, At: now})
		}
	}
	return out, nil
}
