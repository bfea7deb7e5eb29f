// Package telemetrytest is the agreement table of the telemetry parser: each
// case is an office message and what both the brain and the backend make of
// it. Each service's tests feed the table through its own ingest path, so the
// two cannot drift apart again (docs/telemetry.md).
package telemetrytest

import "github.com/somsgo/soms/internal/telemetry"

// Case is one message and its one outcome.
type Case struct {
	Name    string
	Topic   string
	Payload string
	// Want are the readings of an accepted message, in payload order for a
	// bulk status message; an occupancy count is the reading "person_count".
	Want []telemetry.Reading
	// Reason is why the message is dropped; empty when it is accepted.
	Reason telemetry.Reason
}

func r(ch string, v float64) []telemetry.Reading { return []telemetry.Reading{{Channel: ch, Value: v}} }

const (
	co2  = "office/main/sensor/env_01/co2"
	temp = "office/main/sensor/env_01/temperature"
	hum  = "office/main/sensor/env_01/humidity"
	pir  = "office/main/sensor/pir_01/motion"
	bulk = "office/lab/sensor/node_01/status"
	occ  = "office/kitchen/occupancy"
)

// Cases are the decided outcomes. The original SOMS shapes come first: they
// must keep working with real ESP32 firmware.
var Cases = []Case{
	// The original wire protocol.
	{"value", temp, `{"value": 24.5}`, r("temperature", 24.5), ""},
	{"channel key", co2, `{"co2": 812}`, r("co2", 812), ""},
	{"swarm leaf", "office/main/sensor/hub_01.leaf_env_01/temperature", `{"value": 24.5}`, r("temperature", 24.5), ""},
	{"falsy channel key falls back to value", co2, `{"co2": 0, "value": 812}`, r("co2", 812), ""},
	{"boolean state", pir, `{"value": true}`, r("motion", 1), ""},
	{"state channel key zero", pir, `{"motion": 0}`, r("motion", 0), ""},
	{"door closed", "office/main/sensor/door_01/door", `{"door": false}`, r("door", 0), ""},
	{"bulk status", bulk, `{"temperature": 22.1, "humidity": 45.0, "gas": 12000, "firmware": "1.2"}`,
		[]telemetry.Reading{{Channel: "temperature", Value: 22.1}, {Channel: "humidity", Value: 45}, {Channel: "gas_resistance", Value: 12000}}, ""},
	{"occupancy", occ, `{"person_count": 3}`, r("person_count", 3), ""},
	{"occupancy count", occ, `{"count": 2}`, r("person_count", 2), ""},
	{"occupancy bool", occ, `{"occupancy": true}`, r("person_count", 1), ""},
	{"null count is absent", occ, `{"person_count": null, "count": 2}`, r("person_count", 2), ""},
	{"passthrough", "office/main/sensor/leak_01/water_leak", `{"value": 1}`, r("water_leak", 1), ""},
	{"barcode", "office/kitchen/sensor/shelf_01/barcode", `{"value": "4901234567890"}`, r("barcode", 4901234567890), ""},

	// Decided here (the two hand-written parsers disagreed).
	{"numeric string", co2, `{"value": "812"}`, r("co2", 812), ""},
	{"numeric string with spaces", temp, `{"value": " 21.5 "}`, r("temperature", 21.5), ""},
	{"zero ppm is a warming-up sensor", co2, `{"co2": 0}`, nil, telemetry.OutOfRange},
	{"negative person count", occ, `{"person_count": -3}`, nil, telemetry.OutOfRange},
	{"fractional person count", occ, `{"person_count": 2.5}`, nil, telemetry.OutOfRange},
	{"invalid count does not fall through", occ, `{"person_count": -1, "count": 2}`, nil, telemetry.OutOfRange},

	// Plausibility ranges and finite numbers.
	{"huge co2", co2, `{"value": 1e308}`, nil, telemetry.OutOfRange},
	{"huge passthrough", "office/main/sensor/x_01/weight", `{"value": 1e300}`, nil, telemetry.OutOfRange},
	{"humidity above 100", hum, `{"value": 101}`, nil, telemetry.OutOfRange},
	{"negative humidity", hum, `{"value": -3}`, nil, telemetry.OutOfRange},
	{"arctic office", temp, `{"value": -60}`, nil, telemetry.OutOfRange},
	{"huge person count", occ, `{"person_count": 1e6}`, nil, telemetry.OutOfRange},
	{"bulk with one implausible value", bulk, `{"temperature": 22.1, "co2": 0}`, nil, telemetry.OutOfRange},
	{"NaN string", co2, `{"value": "NaN"}`, nil, telemetry.NotANumber},
	{"Inf string", co2, `{"value": "-Inf"}`, nil, telemetry.NotANumber},
	{"word", co2, `{"value": "high"}`, nil, telemetry.NotANumber},
	{"boolean temperature", temp, `{"value": true}`, nil, telemetry.NotANumber},
	{"object value", temp, `{"value": {"c": 21}}`, nil, telemetry.NotANumber},
	{"bulk with a word", bulk, `{"temperature": "warm"}`, nil, telemetry.NotANumber},

	// Shape.
	{"no value", co2, `{"reading": 812}`, nil, telemetry.NoValue},
	{"null value", co2, `{"value": null}`, nil, telemetry.NoValue},
	{"bulk without known channels", bulk, `{"firmware": "1.2", "battery": 80}`, nil, telemetry.NoValue},
	{"occupancy without a count", occ, `{"occupied": true}`, nil, telemetry.NoValue},
	{"number beyond float64", co2, `{"value": 1e400}`, nil, telemetry.BadJSON},
	{"not an object", co2, `812`, nil, telemetry.BadJSON},
	{"not json", co2, `{"value": 8`, nil, telemetry.BadJSON},
	{"sensor topic without a channel", "office/main/sensor/env_01", `{"value": 1}`, nil, telemetry.BadTopic},
	// MQTT forbids NUL in topics (Mosquitto refuses them); stored as an id it
	// would fail the backend's whole batch (found by FuzzParse).
	{"NUL in the topic", "office/main/sensor/env\x00/co2", `{"value": 1}`, nil, telemetry.BadTopic},
}
