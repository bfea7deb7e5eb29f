package telemetry_test

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/telemetry/telemetrytest"
	"github.com/somsgo/soms/internal/topic"
)

// parse is what a service makes of a telemetry message: sensor readings or
// an occupancy count.
func parse(t string, payload []byte) ([]telemetry.Reading, error) {
	m, err := telemetry.Decode(t, payload)
	if err != nil {
		return nil, err
	}
	if m.Office.Kind == topic.KindOccupancy {
		n, err := telemetry.OccupancyCount(m)
		if err != nil {
			return nil, err
		}
		return []telemetry.Reading{{Channel: "person_count", Value: float64(n)}}, nil
	}
	return telemetry.SensorReadings(m)
}

func reason(err error) telemetry.Reason {
	var r *telemetry.Reject
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func TestCases(t *testing.T) {
	for _, c := range telemetrytest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := parse(c.Topic, []byte(c.Payload))
			if reason(err) != c.Reason || (err != nil && c.Reason == "") {
				t.Fatalf("err = %v, want reason %q", err, c.Reason)
			}
			if !slices.Equal(got, c.Want) {
				t.Fatalf("readings %v, want %v", got, c.Want)
			}
		})
	}
}

func TestEveryReadingIsFiniteAndInRange(t *testing.T) {
	for ch, r := range telemetry.Channels() {
		for _, v := range []any{r.Min, r.Max, (r.Min + r.Max) / 2} {
			if _, err := telemetry.Value(ch, v); err != nil && !r.Whole {
				t.Errorf("%s: %v refused: %v", ch, v, err)
			}
		}
		for _, v := range []any{math.Nextafter(r.Min, math.Inf(-1)), math.Nextafter(r.Max, math.Inf(1)), "1e999", math.NaN(), math.Inf(1)} {
			if f, err := telemetry.Value(ch, v); err == nil {
				t.Errorf("%s: %v accepted as %v", ch, v, f)
			}
		}
	}
}

func TestTooLarge(t *testing.T) {
	big := []byte(`{"value": 1, "pad": "` + strings.Repeat("x", telemetry.MaxPayload) + `"}`)
	if _, err := telemetry.Decode("office/main/sensor/env_01/co2", big); reason(err) != telemetry.TooLarge {
		t.Fatalf("err = %v", err)
	}
	// System topics are not decoded, so their size does not matter here.
	if _, err := telemetry.Decode("office/tracking/persons", big); err != nil {
		t.Fatal(err)
	}
}

func TestHeartbeat(t *testing.T) {
	hb := func(id, payload string) (telemetry.Heartbeat, error) {
		m, err := telemetry.Decode(topic.Heartbeat("main", id), []byte(payload))
		if err != nil {
			return telemetry.Heartbeat{}, err
		}
		return telemetry.ParseHeartbeat(m)
	}
	got, err := hb("hub_01", `{"status":"online","uptime_sec":86400,"power_mode":"deep_sleep","battery_pct":"78",
		"label":"a\u0000b","capabilities":["temperature",3],"next_wake_sec":240,"hops_to_mqtt":1,
		"queue_status":{"queued_count":1,"targets":["ha_temp_01"]},
		"children":[{"device_id":"leaf_env_01","battery":15},{"device_id":"other.leaf","next_wake_sec":null}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got.DeviceID != "hub_01" || *got.UptimeSec != 86400 || got.PowerMode != "DEEP_SLEEP" || *got.BatteryPct != 78 ||
		got.Label != "a\uFFFDb" || !slices.Equal(got.Capabilities, []string{"temperature"}) || *got.NextWakeSec != 240 ||
		*got.HopsToMQTT != 1 || got.Queue.QueuedCount != 1 {
		t.Fatalf("heartbeat %+v", got)
	}
	devs := got.Devices()
	if len(devs) != 3 || devs[1].DeviceID != "hub_01.leaf_env_01" || devs[1].ParentID != "hub_01" || *devs[1].BatteryPct != 15 ||
		devs[2].DeviceID != "other.leaf" || !devs[2].HasNextWake || devs[2].NextWakeSec != nil || devs[0].Children != nil {
		t.Fatalf("devices %+v", devs)
	}
	// Out-of-range optional fields are ignored, not fatal.
	got, err = hb("env_01", `{"battery_pct":130,"uptime_sec":-5,"next_wake_sec":1e308,"hops_to_mqtt":"x"}`)
	if err != nil || got.BatteryPct != nil || !got.HasBattery || got.UptimeSec != nil || got.NextWakeSec != nil || got.HopsToMQTT != nil {
		t.Fatalf("%+v, %v", got, err)
	}
	many := `{"children":[` + strings.Repeat(`{"device_id":"x"},`, telemetry.MaxChildren) + `{"device_id":"y"}]}`
	for _, bad := range []string{`{"children":{"leaf":{}}}`, `{"children":[{"battery_pct":3}]}`, `{"children":["x"]}`,
		`{"children":[{"device_id":"a/b"}]}`, `{"children":[{"device_id":"a\u0000"}]}`, many} {
		if _, err := hb("hub", bad); reason(err) != telemetry.BadHeartbeat {
			t.Errorf("%.60s: %v", bad, err)
		}
	}
}

func TestDropsCountEveryDropAndLogOncePerMinute(t *testing.T) {
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dropped_total"}, []string{"reason"})
	var logs bytes.Buffer
	c := clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	d := telemetry.NewDrops(counter, slog.New(slog.NewTextHandler(&logs, nil)), c)
	for range 100 {
		_, err := parse("office/main/sensor/env_01/co2", []byte(`{"value":1e308}`))
		d.Drop("office/main/sensor/env_01/co2", err)
	}
	d.Drop("office/main/sensor/env_01/co2", errors.New("not a telemetry error"))
	c.Advance(telemetry.LogEvery)
	_, err := parse("office/main/sensor/env_01/co2", []byte(`{"value":"x"}`))
	d.Drop("office/main/sensor/env_01/co2", err)
	_, err = parse("office/main/sensor/env_01/co2", []byte(`{"value":-1}`))
	d.Drop("office/main/sensor/env_01/co2", err)
	if n := testutil.ToFloat64(counter.WithLabelValues("out_of_range")); n != 101 {
		t.Fatalf("out_of_range = %v", n)
	}
	if n := testutil.ToFloat64(counter.WithLabelValues("other")); n != 1 {
		t.Fatalf("other = %v", n)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "reason=out_of_range") || !strings.Contains(lines[3], "unlogged_since_last=99") {
		t.Fatalf("log:\n%s", logs.String())
	}
}

// TestDocumented: docs/telemetry.md lists every channel range and every reason.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/telemetry.md")
	if err != nil {
		t.Fatal(err)
	}
	for ch, r := range telemetry.Channels() {
		if !strings.Contains(string(doc), "| `"+ch+"` | "+r.String()+" |") {
			t.Errorf("docs/telemetry.md has no row \"| `%s` | %s |\"", ch, r)
		}
	}
	for _, r := range telemetry.Reasons {
		if !strings.Contains(string(doc), "`"+string(r)+"`") {
			t.Errorf("docs/telemetry.md does not explain %s", r)
		}
	}
}
