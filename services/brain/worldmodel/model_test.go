package worldmodel

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/telemetry"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestIngestForms(t *testing.T) {
	tests := []struct {
		name    string
		topic   string
		payload string
		zone    string
		channel string
		want    float64
	}{
		{"value key", "office/main/sensor/env_01/temperature", `{"value":24.5}`, "main", "temperature", 24.5},
		{"channel key", "office/main/sensor/env_01/co2", `{"co2":812}`, "main", "co2", 812},
		{"zero channel key falls back to value", "office/main/sensor/env_01/co2", `{"co2":0,"value":640}`, "main", "co2", 640},
		{"dotted swarm id", "office/main/sensor/swarm_hub_01.leaf_env_01/humidity", `{"value":51}`, "main", "humidity", 51},
		{"bulk status", "office/lab/sensor/bme_01/status", `{"temperature":22.1,"humidity":45,"gas":12000}`, "lab", "temperature", 22.1},
		{"numeric string", "office/main/sensor/env_01/illuminance", `{"value":"320"}`, "main", "illuminance", 320},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(clock.NewManual(t0))
			if err := m.Ingest(tc.topic, []byte(tc.payload)); err != nil {
				t.Fatal(err)
			}
			z, ok := m.Zone(tc.zone)
			if !ok {
				t.Fatalf("zone %s not created", tc.zone)
			}
			got, ok := z.Value(tc.channel)
			if !ok || math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("%s = %v (present %v), want %v", tc.channel, got, ok, tc.want)
			}
		})
	}
}

func TestIngestDropsMalformed(t *testing.T) {
	tests := []struct {
		name, topic, payload, reason string
	}{
		{"not json", "office/main/sensor/env_01/co2", `co2=900`, "bad_json"},
		{"json array", "office/main/sensor/env_01/co2", `[900]`, "bad_json"},
		{"no value", "office/main/sensor/env_01/co2", `{"unit":"ppm"}`, "no_value"},
		{"value not a number", "office/main/sensor/env_01/co2", `{"value":"high"}`, "not_a_number"},
		{"nan string", "office/main/sensor/env_01/co2", `{"value":"NaN"}`, "not_a_number"},
		{"sensor without channel", "office/main/sensor/env_01", `{"value":1}`, "bad_topic"},
		{"occupancy without count", "office/main/occupancy", `{"people":"many"}`, "no_value"},
		{"empty status", "office/main/sensor/env_01/status", `{"foo":1}`, "no_value"},
		{"activity with a device", "office/main/activity/cam_01", `{"person_count":1}`, "bad_topic"},
		{"engagement event without event", "office/main/camera/cam_01/engagement_event", `{"track_key":"t1"}`, "no_value"},
		{"camera without count", "office/main/camera/cam_01/status", `{"fps":15}`, "no_value"},
		{"spatial without camera", "office/main/spatial", `{"persons":[]}`, "bad_topic"},
		{"actuator without device", "office/main/hvac", `{"power_state":"on"}`, "bad_topic"},
		{"not an office topic", "hydro/main/status", `{"ph":7}`, "bad_topic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(clock.NewManual(t0))
			err := m.Ingest(tc.topic, []byte(tc.payload))
			var de *telemetry.Reject
			if !errors.As(err, &de) || string(de.Reason) != tc.reason {
				t.Fatalf("err = %v, want drop %s", err, tc.reason)
			}
			if zs := m.Zones(); len(zs) != 0 || m.Ingested() != 0 {
				t.Fatalf("a dropped message changed the model: zones %+v, %d ingested", zs, m.Ingested())
			}
		})
	}
}

func TestIngestedCountsAppliedMessages(t *testing.T) {
	m := New(clock.NewManual(t0))
	for _, in := range []struct{ topic, payload string }{
		{"office/main/sensor/env_01/co2", `{"value":700}`},         // applied
		{"office/main/sensor/env_01/heartbeat", `{"status":"ok"}`}, // applied: marks the device present
		{"office/main/whiteboard/wb_01", `{"strokes":3}`},          // applied: marks the zone alive
		{"office/main/sensor/env_01/co2", `{"unit":"ppm"}`},        // dropped
		{"office/tracking/persons", `{"person_count":2}`},          // system topic, ignored
	} {
		_ = m.Ingest(in.topic, []byte(in.payload))
	}
	if n := m.Ingested(); n != 3 {
		t.Fatalf("Ingested() = %d, want 3", n)
	}
}

func TestDecodeThenApplyIsIngest(t *testing.T) {
	msg, err := Decode("office/main/sensor/env_01/status", []byte(`{"temperature":22.5,"humidity":41,"gas":9000}`))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Office.Zone != "main" || msg.Office.Channel != "status" || msg.Fields["humidity"] != 41.0 {
		t.Fatalf("decoded %+v", msg)
	}
	m := New(clock.NewManual(t0))
	if err := m.Apply(msg); err != nil {
		t.Fatal(err)
	}
	z, _ := m.Zone("main")
	if v, _ := z.Value("temperature"); v != 22.5 {
		t.Fatalf("temperature %v after Apply", v)
	}
	if v, ok := z.Value("gas_resistance"); !ok || v != 9000 {
		t.Fatalf("bulk key gas did not become gas_resistance: %v %v", v, ok)
	}
}

func TestNoPhantomZones(t *testing.T) {
	m := New(clock.NewManual(t0))
	for _, tp := range []string{"office/tracking/persons", "office/perception/discovery", "office/shopping/added"} {
		if err := m.Ingest(tp, []byte(`{"person_count":2}`)); err != nil {
			t.Fatalf("%s: %v", tp, err)
		}
	}
	if zs := m.Zones(); len(zs) != 0 {
		t.Fatalf("system topics created zones: %+v", zs)
	}
}

func TestCO2EventCooldown(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	send := func(v string) {
		t.Helper()
		if err := m.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":`+v+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	send("900")
	if m.Seq() != 0 {
		t.Fatal("event below threshold")
	}
	send("1400")
	if m.Seq() != 1 {
		t.Fatalf("seq = %d after crossing the threshold", m.Seq())
	}
	c.Advance(5 * time.Minute)
	send("1450")
	if m.Seq() != 1 {
		t.Fatal("second CO2 event inside the 600 s cooldown")
	}
	c.Advance(5*time.Minute + time.Second)
	send("1500")
	if m.Seq() != 2 {
		t.Fatalf("seq = %d, want a new event after the cooldown", m.Seq())
	}
	evs := m.EventsSince(time.Time{})
	if evs[1].Type != EventCO2Exceeded || evs[1].Zone != "meeting_room" || evs[1].Severity != SeverityWarning {
		t.Fatalf("event = %+v", evs[1])
	}
	select {
	case <-m.Changed():
	default:
		t.Fatal("Changed not signalled")
	}
}

func TestReadingsExpire(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	if err := m.Ingest("office/main/sensor/env_01/temperature", []byte(`{"value":22}`)); err != nil {
		t.Fatal(err)
	}
	c.Advance(Retention - time.Second)
	if z, _ := m.Zone("main"); !has(z, "temperature") {
		t.Fatal("reading expired early")
	}
	c.Advance(2 * time.Second)
	if z, _ := m.Zone("main"); has(z, "temperature") {
		t.Fatal("a reading older than the retention is still reported")
	}
}

func has(s Snapshot, ch string) bool { _, ok := s.Value(ch); return ok }

func TestFusionWeightsRecentReadings(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	_ = m.Ingest("office/main/sensor/a/co2", []byte(`{"value":800}`))
	c.Advance(120 * time.Second)
	_ = m.Ingest("office/main/sensor/b/co2", []byte(`{"value":1200}`))
	z, _ := m.Zone("main")
	v, _ := z.Value("co2")
	// weights: a = e^-2, b = 1 (τ co2 = 60 s)
	want := (800*math.Exp(-2) + 1200) / (math.Exp(-2) + 1)
	if math.Abs(v-want) > 0.01 {
		t.Fatalf("fused = %.2f, want %.2f", v, want)
	}
}

func TestPresenceUnlatches(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	_ = m.Ingest("office/meeting_room/sensor/pir_02/presence", []byte(`{"value":true}`))
	if z, _ := m.Zone("meeting_room"); z.PersonCount != 1 {
		t.Fatalf("person_count = %d with presence", z.PersonCount)
	}
	c.Advance(presenceHold + time.Second)
	if z, _ := m.Zone("meeting_room"); z.PersonCount != 0 {
		t.Fatal("presence latched after the hold time")
	}
	_ = m.Ingest("office/meeting_room/sensor/pir_02/presence", []byte(`{"value":true}`))
	_ = m.Ingest("office/meeting_room/sensor/pir_02/presence", []byte(`{"value":false}`))
	if z, _ := m.Zone("meeting_room"); z.PersonCount != 0 {
		t.Fatal("presence false did not clear occupancy")
	}
}

func TestOccupancyEvents(t *testing.T) {
	m := New(clock.NewManual(t0))
	_ = m.Ingest("office/main/occupancy", []byte(`{"person_count":3}`))
	_ = m.Ingest("office/main/occupancy", []byte(`{"count":1}`))
	evs := m.EventsSince(time.Time{})
	if len(evs) != 2 || evs[0].Type != EventPersonEntered || evs[1].Type != EventPersonExited {
		t.Fatalf("events = %+v", evs)
	}
}

func TestTrend(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	for i := range 11 {
		_ = m.Ingest("office/main/sensor/env_01/co2", []byte(`{"value":`+strconv.Itoa(700+i*20)+`}`))
		c.Advance(30 * time.Second)
	}
	z, _ := m.Zone("main")
	if got := z.Channels["co2"].Trend; got != TrendRising {
		t.Fatalf("trend = %s, want rising", got)
	}
}

func TestAlertsAndDescribe(t *testing.T) {
	m := New(clock.NewManual(t0))
	m.SetZoneName("meeting_room", "会議室")
	_ = m.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":1400}`))
	_ = m.Ingest("office/meeting_room/sensor/env_02/temperature", []byte(`{"value":27.5}`))
	z, _ := m.Zone("meeting_room")
	alerts := z.Alerts()
	if len(alerts) != 2 || alerts[0].Kind != "high_co2" || alerts[1].Kind != "high_temp" {
		t.Fatalf("alerts = %+v", alerts)
	}
	d := z.Describe()
	for _, want := range []string{`"会議室" (meeting_room)`, "CO2: 1400ppm", "要換気", "27.5℃", "暑い"} {
		if !strings.Contains(d, want) {
			t.Fatalf("description misses %q:\n%s", want, d)
		}
	}
}
