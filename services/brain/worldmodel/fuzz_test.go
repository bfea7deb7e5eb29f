package worldmodel

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/telemetry/telemetrytest"
)

// FuzzIngest feeds a model a few messages (one per line: topic, a space, the
// payload), a simulated minute apart: it never panics, a rejected message
// adds nothing, and every snapshot stays within the bounds and encodes
// as JSON (no non-finite number can reach it).
func FuzzIngest(f *testing.F) {
	for _, c := range telemetrytest.Cases {
		f.Add([]byte(c.Topic + " " + c.Payload))
	}
	f.Add([]byte("office/main/sensor/env_01/temperature {\"value\":22}\noffice/main/sensor/env_02/temperature {\"value\":30}\n" +
		"office/main/activity {\"person_count\":2,\"posture_status\":\"static\",\"posture_duration_sec\":4000}\n" +
		"office/main/sensor/door_01/door {\"value\":1}\noffice/main/safety/fall {\"confidence\":0.9}\n" +
		"office/main/hvac/ac_01 {\"power_state\":\"on\",\"mode\":\"cool\"}\noffice/main/spatial/cam_01 {\"persons\":[{}],\"objects\":[{\"class_name\":\"chair\"}]}"))
	f.Fuzz(func(t *testing.T, script []byte) {
		c := clock.NewManual(t0)
		m := New(c)
		for _, line := range bytes.Split(script, []byte("\n")) {
			tp, payload, _ := bytes.Cut(line, []byte(" "))
			before := m.Ingested()
			zones := len(m.Zones())
			// (A rejected message may still come after a sweep that
			// forgot silent zones: only growth would be its doing.)
			if err := m.Ingest(string(tp), payload); err != nil && (m.Ingested() != before || len(m.Zones()) > zones) {
				t.Fatalf("rejected %q changed the model: %v", line, err)
			}
			c.Advance(time.Minute)
		}
		zs := m.Zones()
		if len(zs) > MaxZones {
			t.Fatalf("%d zones", len(zs))
		}
		for _, z := range zs {
			if len(z.Devices) > MaxZoneDevices || len(z.Extra) > MaxExtraChannels {
				t.Fatalf("zone %s: %d devices, %d extra channels", z.ID, len(z.Devices), len(z.Extra))
			}
			if _, err := json.Marshal(z); err != nil {
				t.Fatalf("snapshot of %s does not encode: %v", z.ID, err)
			}
			_ = z.Describe()
			_ = z.Alerts()
		}
		for _, e := range m.EventsSince(time.Time{}) {
			_ = e.Describe()
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("event %+v does not encode: %v", e, err)
			}
		}
	})
}
