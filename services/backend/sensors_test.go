package backend

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/telemetry/telemetrytest"
	"github.com/somsgo/soms/internal/topic"
)

// TestTelemetryAgreement feeds the shared table (the brain's world model is
// fed the same one) through the backend's parser: one reason per dropped
// message, the table's readings for an accepted one.
func TestTelemetryAgreement(t *testing.T) {
	for _, c := range telemetrytest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p, err := parseTelemetry(c.Topic, []byte(c.Payload), t0)
			if c.Reason != "" {
				var r *telemetry.Reject
				if !errors.As(err, &r) || r.Reason != c.Reason || p.Readings != nil {
					t.Fatalf("%+v, %v; want a %s drop", p, err, c.Reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []telemetry.Reading
			for _, r := range p.Readings {
				got = append(got, telemetry.Reading{Channel: r.Channel, Value: r.Value})
			}
			if !slices.Equal(got, c.Want) {
				t.Fatalf("readings %v, want %v", got, c.Want)
			}
		})
	}
}

func TestParseTelemetryIgnores(t *testing.T) {
	for _, tc := range []struct{ topic, payload string }{
		{"office/tracking/persons", `{"person_count": 3}`},     // system topic
		{"office/main/hvac/ac_01", `{"power_state":"on"}`},     // actuator state: the brain's
		{"office/main/vlm/scene", `not json`},                  // perception: not stored here
		{"office/main/occupancy/cam_01", `{"person_count":2}`}, // per-camera count: the zone's is stored
	} {
		if p, err := parseTelemetry(tc.topic, []byte(tc.payload), t0); err != nil || p.Readings != nil || p.Heartbeat != nil {
			t.Errorf("%s: %+v, %v; want nothing", tc.topic, p, err)
		}
	}
	p, err := parseTelemetry("office/main/sensor/hub_01/heartbeat", []byte(`{"status":"online","children":[{"device_id":"leaf"}]}`), t0)
	if err != nil || p.Heartbeat == nil || len(p.Heartbeat.Devices()) != 2 || p.Heartbeat.Children[0].DeviceID != "hub_01.leaf" {
		t.Fatalf("heartbeat %+v, %v", p.Heartbeat, err)
	}
}

// TestTelemetryOverMQTT publishes real telemetry to the broker and reads it
// back through the sensor and device endpoints.
func TestTelemetryOverMQTT(t *testing.T) {
	e := newEnvWith(t, envOpts{mqtt: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, stop := e.api.Hub().Subscribe(1024)
	defer stop()
	if err := e.api.Subscribe(ctx, e.bus); err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.api.IngestLoop(ctx) }()
	z := uniq("room")
	// Devices publish as the legacy device class; occupancy comes from
	// perception, the only account the broker lets write it.
	edge := connectBus(t, mqttacl.UserLegacy, "edge")
	perception := connectBus(t, mqttacl.UserPerception, "perception")
	publishAs := func(c *bus.Client, tp string, v any) {
		t.Helper()
		if err := c.PublishJSON(ctx, tp, 1, false, v); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(tp string, v any) { t.Helper(); publishAs(edge, tp, v) }
	awaitReading := func(channel string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case ev := <-evs:
				var r Reading
				if ev.Type == EventSensorUpdated && json.Unmarshal(ev.Data, &r) == nil && r.Zone == z && r.Channel == channel {
					return
				}
			case <-deadline:
				t.Fatalf("no %s reading stored for %s", channel, z)
			}
		}
	}
	publish(topic.Heartbeat(z, "hub_01"), map[string]any{"status": "online", "uptime_sec": 60, "device_type": "swarm_hub",
		"battery_pct": 78, "children": []map[string]any{{"device_id": "leaf_env_01"}}})
	publish(topic.Sensor(z, "env_01", "co2"), map[string]any{"value": 800})
	awaitReading("co2")
	e.clock.Advance(time.Minute)
	publish(topic.Sensor(z, "env_01", "co2"), map[string]any{"value": 1000})
	awaitReading("co2")
	publish(topic.Sensor(z, "env_02", "co2"), map[string]any{"value": 1200})
	awaitReading("co2")
	publishAs(perception, topic.Occupancy(z), map[string]any{"person_count": 2})
	awaitReading("person_count")

	var latest []Reading
	if err := getJSON(e.srv.URL+"/sensors/latest?zone="+z, &latest); err != nil || len(latest) != 3 {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	if latest[0].DeviceID != "env_01" || latest[0].Value != 1000 {
		t.Fatalf("latest env_01 = %+v", latest[0])
	}
	var zones []ZoneSummary
	if err := getJSON(e.srv.URL+"/sensors/zones", &zones); err != nil {
		t.Fatal(err)
	}
	var mine *ZoneSummary
	for i := range zones {
		if zones[i].Zone == z {
			mine = &zones[i]
		}
	}
	if mine == nil || mine.Channels["co2"] != 1100 || mine.PersonCount == nil || *mine.PersonCount != 2 || mine.Devices != 2 {
		t.Fatalf("zone summary = %+v", mine)
	}
	var s Series
	q := url.Values{"zone": {z}, "channel": {"co2"}, "since": {t0.Add(-time.Minute).Format(time.RFC3339)}, "bucket": {"1m"}}
	if err := getJSON(e.srv.URL+"/sensors/time-series?"+q.Encode(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Points) != 2 || s.Points[0].Value != 800 || s.Points[1].Value != 1100 || s.Points[1].Count != 2 || s.BucketSeconds != 60 {
		t.Fatalf("series = %+v", s)
	}
	// The original's shapes: timestamp beside at; zone and channel optional;
	// window=raw|1h; points with timestamp and avg.
	var raw []map[string]any
	if err := getJSON(e.srv.URL+"/sensors/latest?zone="+z, &raw); err != nil || raw[0]["timestamp"] == nil || raw[0]["timestamp"] != raw[0]["at"] {
		t.Fatalf("latest (raw) = %+v, %v", raw, err)
	}
	if err := getJSON(e.srv.URL+"/sensors/time-series?window=raw&zone="+z, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Points) != 4 || s.Window != "raw" || s.Channel != nil || s.Points[0].Avg != 800 || s.Points[0].Count != 1 ||
		!s.Points[0].Timestamp.Equal(t0) || s.Points[3].Channel != "person_count" {
		t.Fatalf("raw series = %+v", s)
	}
	if err := getJSON(e.srv.URL+"/sensors/time-series?window=1h&channel=co2&zone="+z, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Points) != 1 || s.Points[0].Avg != 1000 || s.Points[0].Count != 3 || s.BucketSeconds != 3600 || !s.Points[0].Timestamp.Equal(t0) {
		t.Fatalf("hourly series = %+v", s)
	}

	var ds DevicesStatus
	if err := getJSON(e.srv.URL+"/devices/status?zone="+z, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Devices) != 2 || ds.Devices[0].DeviceID != "hub_01" || ds.Devices[1].DeviceID != "hub_01.leaf_env_01" ||
		ds.Devices[0].State != "online" || *ds.Devices[0].BatteryPct != 78 || ds.Summary["online"] != 2 {
		t.Fatalf("devices = %+v", ds)
	}
	e.clock.Advance(10 * time.Minute) // 11 min since the heartbeat
	if err := getJSON(e.srv.URL+"/devices/status?zone="+z, &ds); err != nil || ds.Devices[0].State != "stale" {
		t.Fatalf("after 11 min: %+v, %v", ds, err)
	}
	e.clock.Advance(10 * time.Minute)
	if err := getJSON(e.srv.URL+"/devices/status?zone="+z, &ds); err != nil || ds.Summary["offline"] != 2 {
		t.Fatalf("after 21 min: %+v, %v", ds, err)
	}
	// Pruning drops history but keeps the latest values.
	if n, err := e.api.sensors.prune(ctx, t0.Add(30*time.Second)); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if err := getJSON(e.srv.URL+"/sensors/latest?zone="+z, &latest); err != nil || len(latest) != 3 {
		t.Fatalf("latest after prune = %+v, %v", latest, err)
	}
}

func TestTimeSeriesValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		query string
		field string
	}{
		{"window=2h", "window"},
		{"window=1h&bucket=5m", "bucket"},
		{"window=raw&limit=0", "limit"},
		{"zone=main&channel=co2&since=yesterday", "since"},
		{"start=yesterday", "start"},
		{"zone=main&channel=co2&bucket=1ms", "bucket"},
		{"zone=main&channel=co2&since=24h&bucket=1s", "bucket"},
		{"zone=main&channel=co2&since=2026-11-23T10:00:00Z", "since"},
	}
	for _, tc := range tests {
		resp, err := http.Get(e.srv.URL + "/sensors/time-series?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Fields map[string]string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || body.Fields[tc.field] == "" {
			t.Errorf("%s: %d %v, want 422 naming %s", tc.query, resp.StatusCode, body.Fields, tc.field)
		}
	}
}

func TestVoiceEventsAndChitchat(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	evs, stop := e.api.Hub().Subscribe(16)
	defer stop()
	assertStatus(t, e.anon.PostVoiceEvent(ctx, backendapi.VoiceEvent{Message: "hi"}), http.StatusUnauthorized)
	assertStatus(t, e.svc.PostVoiceEvent(ctx, backendapi.VoiceEvent{Message: " "}), http.StatusUnprocessableEntity)
	if err := e.svc.PostVoiceEvent(ctx, backendapi.VoiceEvent{Message: "換気しましょう", AudioURL: "/audio/a.wav", Zone: "main", Tone: "caring"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if err := e.svc.PostVoiceEvent(ctx, backendapi.VoiceEvent{Message: "全体へ"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if err := e.svc.PostVoiceEvent(ctx, backendapi.VoiceEvent{Message: "キッチンへ", Zone: "kitchen"}); err != nil {
		t.Fatal(err)
	}
	ev := awaitEvent(t, evs, EventVoiceCreated)
	var first backendapi.VoiceEvent
	if json.Unmarshal(ev.Data, &first) != nil || first.Message != "換気しましょう" {
		t.Fatalf("live event = %s", ev.Data)
	}
	recent, err := e.anon.RecentVoiceEvents(ctx)
	if err != nil || len(recent) != 3 || recent[0].Message != "キッチンへ" || recent[2].Tone != "caring" || !recent[2].CreatedAt.Equal(t0) {
		t.Fatalf("recent = %+v, %v", recent, err)
	}
	var mainOnly []backendapi.VoiceEvent
	if err := getJSON(e.srv.URL+"/voice-events/recent?zone=main", &mainOnly); err != nil || len(mainOnly) != 2 {
		t.Fatalf("zone main (with broadcasts) = %+v, %v", mainOnly, err)
	}

	if n, err := e.anon.ChitchatStockStatus(ctx); err != nil || n != 0 {
		t.Fatalf("empty stock = %d, %v", n, err)
	}
	_, err = e.anon.RandomChitchat(ctx)
	assertStatus(t, err, http.StatusNotFound)
	assertStatus(t, e.anon.AddChitchat(ctx, backendapi.Chitchat{Message: "x"}), http.StatusUnauthorized)
	for _, m := range []string{"いい天気ですね", "お茶はいかが"} {
		if err := e.svc.AddChitchat(ctx, backendapi.Chitchat{Message: m, AudioURL: "/audio/" + m + ".wav"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := e.anon.ChitchatStockStatus(ctx); n != 2 {
		t.Fatalf("stock = %d", n)
	}
	a, err := e.anon.RandomChitchat(ctx)
	if err != nil || a.Message == "" || a.Tone != "neutral" {
		t.Fatalf("random = %+v, %v", a, err)
	}
	b, _ := e.anon.RandomChitchat(ctx)
	if a.Message == b.Message {
		t.Fatal("a phrase was served twice")
	}
	if n, _ := e.anon.ChitchatStockStatus(ctx); n != 0 {
		t.Fatalf("stock after taking two = %d", n)
	}
}

// Without a brain the event feed and LLM activity say so (503), and bad
// parameters are refused before the brain is asked.
func TestBrainRoutesWithoutBrain(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]int{
		"/sensors/events": 503, "/sensors/llm-activity": 503, "/sensors/llm-timeline": 503,
		"/sensors/events?limit=201": 422, "/sensors/llm-activity?hours=0": 422,
	} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// Topics no SOMS part interprets — the original's demo devices outside
// office/, an unknown office kind — are counted by prefix, not silently lost.
func TestUnknownTopicsCounted(t *testing.T) {
	e := newEnvWith(t, envOpts{mqtt: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := e.api.Subscribe(ctx, e.bus); err != nil {
		t.Fatal(err)
	}
	device := connectBus(t, mqttacl.UserSim, "esp32") // sim: the broker refuses unknown office kinds from devices
	z := uniq("room")
	for _, tp := range []string{"hydro/" + z + "/status", "hydro/" + z + "/status", "aqua/" + z + "/status", "office/" + z + "/scale/s1/weight"} {
		if err := device.PublishJSON(ctx, tp, 1, false, map[string]any{"ph": 7.5}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(label string) float64 {
		return testutil.ToFloat64(e.api.metrics.unknownTopics.WithLabelValues(label))
	}
	waitFor(t, "unknown topics counted", func() bool { return count("hydro") >= 2 && count("aqua") >= 1 && count("office") >= 1 })
}
