package telemetry_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/telemetry/telemetrytest"
)

// FuzzParse: whatever arrives, the parser returns readings that are finite
// and within their channel's range, or one known reason; heartbeats keep
// their bounds. Seeds: the agreement table and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, c := range telemetrytest.Cases {
		f.Add(c.Topic, []byte(c.Payload))
	}
	f.Add("office/main/sensor/hub/heartbeat", []byte(`{"children":[{"device_id":"a","battery_pct":"50","next_wake_sec":1e300}]}`))
	f.Fuzz(func(t *testing.T, tp string, payload []byte) {
		m, err := telemetry.Decode(tp, payload)
		if err != nil {
			known(t, err)
			return
		}
		if m.Fields == nil {
			return // a system topic
		}
		// Zone and device ids are stored as text: PostgreSQL refuses NUL.
		if strings.IndexByte(m.Office.Zone, 0) >= 0 || strings.IndexByte(m.Office.DeviceID, 0) >= 0 || strings.IndexByte(m.Office.Channel, 0) >= 0 {
			t.Fatalf("topic %q accepted", tp)
		}
		if rs, err := telemetry.SensorReadings(m); err != nil {
			known(t, err)
		} else {
			for _, r := range rs {
				rg := telemetry.ChannelRange(r.Channel)
				if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || r.Value < rg.Min || r.Value > rg.Max {
					t.Fatalf("reading %+v outside %s", r, rg)
				}
			}
		}
		if n, err := telemetry.OccupancyCount(m); err != nil {
			known(t, err)
		} else if n < 0 || n > telemetry.MaxPersons {
			t.Fatalf("count %d", n)
		}
		hb, err := telemetry.ParseHeartbeat(m)
		if err != nil {
			known(t, err)
			return
		}
		if len(hb.Children) > telemetry.MaxChildren {
			t.Fatalf("%d children", len(hb.Children))
		}
		for i, d := range hb.Devices() {
			if d.BatteryPct != nil && (*d.BatteryPct < 0 || *d.BatteryPct > 100) || d.NextWakeSec != nil && *d.NextWakeSec <= 0 ||
				len(d.Capabilities) > 64 || !utf8.ValidString(d.Label) {
				t.Fatalf("heartbeat device %+v", d)
			}
			for _, s := range append([]string{d.Status, d.DeviceType, d.PowerMode, d.Label}, d.Capabilities...) {
				if len(s) > 200 || strings.IndexByte(s, 0) >= 0 {
					t.Fatalf("heartbeat text %q", s)
				}
			}
			// Ids are stored as text: PostgreSQL refuses NUL.
			if d.DeviceID == "" || strings.IndexByte(d.DeviceID, 0) >= 0 || strings.IndexByte(d.ParentID, 0) >= 0 {
				t.Fatalf("device id %q (parent %q)", d.DeviceID, d.ParentID)
			}
			if i > 0 && d.ParentID != hb.DeviceID {
				t.Fatalf("child %+v of %s", d, hb.DeviceID)
			}
		}
	})
}

func known(t *testing.T, err error) {
	t.Helper()
	var r *telemetry.Reject
	if !errors.As(err, &r) || !slices.Contains(telemetry.Reasons, r.Reason) {
		t.Fatalf("error %v is not a known rejection", err)
	}
}
