package worldmodel

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

type msg struct {
	after   time.Duration // advance the clock before publishing
	topic   string
	payload string
}

func TestEventDetection(t *testing.T) {
	tests := []struct {
		name string
		msgs []msg
		want []string // event types, in order
	}{
		{"temp spike beyond 3 °C", []msg{
			{0, "office/main/sensor/env_01/temperature", `{"value":22}`},
			{60 * time.Second, "office/main/sensor/env_01/temperature", `{"value":26}`},
		}, []string{EventTempSpike}},
		{"temp change of 3 °C is no spike", []msg{
			{0, "office/main/sensor/env_01/temperature", `{"value":22}`},
			{60 * time.Second, "office/main/sensor/env_01/temperature", `{"value":25}`},
		}, nil},
		{"tamper: 6 °C jump within 30 s", []msg{
			{0, "office/main/sensor/env_01/temperature", `{"value":22}`},
			{10 * time.Second, "office/main/sensor/env_01/temperature", `{"value":28}`},
		}, []string{EventTamper, EventTempSpike}},
		{"no tamper when one sensor's readings are 31 s apart (the reference gap is 30 s)", []msg{
			{0, "office/main/sensor/env_01/humidity", `{"value":40}`},
			{31 * time.Second, "office/main/sensor/env_01/humidity", `{"value":65}`},
		}, nil},
		{"tamper when one sensor's readings are exactly 30 s apart (its report interval)", []msg{
			{0, "office/main/sensor/env_01/humidity", `{"value":40}`},
			{30 * time.Second, "office/main/sensor/env_01/humidity", `{"value":65}`},
		}, []string{EventTamper}},
		{"no tamper when readings are 6 min apart", []msg{
			{0, "office/main/sensor/env_01/humidity", `{"value":40}`},
			{6 * time.Minute, "office/main/sensor/env_01/humidity", `{"value":65}`},
		}, nil},
		{"one of two sensors tampered", []msg{
			{0, "office/main/sensor/env_01/temperature", `{"value":22}`},
			{0, "office/main/sensor/leaf_env/temperature", `{"value":22}`},
			{20 * time.Second, "office/main/sensor/leaf_env/temperature", `{"value":22}`},
			{time.Second, "office/main/sensor/env_01/temperature", `{"value":30}`},
		}, []string{EventTamper, EventTempSpike}},
		{"humidity tamper at exactly 20 %", []msg{
			{0, "office/main/sensor/env_01/humidity", `{"value":40}`},
			{5 * time.Second, "office/main/sensor/env_01/humidity", `{"value":60}`},
		}, []string{EventTamper}},
		{"tamper reported at once, at the instant of the periodic report", []msg{
			{0, "office/main/sensor/env_01/humidity", `{"value":40}`},
			{0, "office/main/sensor/env_01/humidity", `{"value":65}`},
		}, []string{EventTamper}},
		{"sedentary after 30 static minutes", []msg{
			{0, "office/main/activity", `{"person_count":2,"activity_class":"idle","posture_status":"static","posture_duration_sec":1800}`},
			{time.Minute, "office/main/activity", `{"person_count":2,"posture_status":"static","posture_duration_sec":1860}`},
		}, []string{EventSedentary, EventPersonEntered}},
		{"not sedentary at 29 minutes", []msg{
			{0, "office/main/activity", `{"person_count":1,"posture_status":"static","posture_duration_sec":1799}`},
		}, []string{EventPersonEntered}},
		{"door opened then closed", []msg{
			{0, "office/main/sensor/door_01/door", `{"value":false}`},
			{time.Second, "office/main/sensor/door_01/door", `{"value":true}`},
			{time.Second, "office/main/sensor/door_01/door", `{"value":false}`},
		}, []string{EventDoorOpened, EventDoorClosed}},
		{"fall on the 4-segment topic", []msg{
			{0, "office/main/safety/fall", `{"confidence":0.87,"duration_sec":6.2}`},
		}, []string{EventFall}},
		{"anomaly channel from payload", []msg{
			{0, "office/main/anomaly/co2", `{"score":4.2,"channel":"co2","severity":"critical"}`},
		}, []string{EventAnomaly}},
		{"task report", []msg{
			{0, "office/main/task_report/42", `{"task_id":42,"title":"換気","report_status":"needs_followup","completion_note":"窓が壊れている"}`},
		}, []string{EventTaskReport}},
		{"engagement event", []msg{
			{0, "office/main/camera/cam_01/engagement_event", `{"event":"waved","track_key":"t1"}`},
		}, []string{"engagement_waved"}},
		{"vlm analysis", []msg{
			{0, "office/main/vlm/scene", `{"content":"二人が会議中","trigger":"periodic"}`},
		}, []string{EventVLM}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewManual(t0)
			m := New(c)
			for _, x := range tc.msgs {
				c.Advance(x.after)
				if err := m.Ingest(x.topic, []byte(x.payload)); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, e := range m.EventsSince(time.Time{}) {
				got = append(got, e.Type)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("events = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFallEventData(t *testing.T) {
	m := New(clock.NewManual(t0))
	if err := m.Ingest("office/kitchen/safety/fall", []byte(`{"confidence":0.9,"tracker_id":3}`)); err != nil {
		t.Fatal(err)
	}
	evs := m.EventsSince(time.Time{})
	if len(evs) != 1 || evs[0].Severity != SeverityCritical || evs[0].Zone != "kitchen" || evs[0].Data["confidence"] != 0.9 {
		t.Fatalf("events = %+v", evs)
	}
}

func TestEventCapKeepsTriggering(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	for i := range 120 {
		c.Advance(time.Second)
		_ = m.Ingest("office/main/sensor/door_01/door", fmt.Appendf(nil, `{"value":%v}`, i%2 == 0))
	}
	if n := len(m.EventsSince(time.Time{})); n != maxEventsPerZone {
		t.Fatalf("kept %d events, want %d", n, maxEventsPerZone)
	}
	before := m.Seq()
	_ = m.Ingest("office/main/sensor/door_01/door", []byte(`{"value":true}`))
	_ = m.Ingest("office/main/sensor/door_01/door", []byte(`{"value":false}`))
	if m.Seq() <= before {
		t.Fatal("sequence did not advance once the zone's event list was full")
	}
}

func TestSuppression(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	_ = m.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":1400}`))
	_ = m.Ingest("office/meeting_room/sensor/env_02/temperature", []byte(`{"value":29}`))
	if got := m.SuppressForTask("meeting_room", "会議室の換気をしてください environment"); !slices.Equal(got, []string{AlertHighCO2}) {
		t.Fatalf("suppressed %v", got)
	}
	z, _ := m.Zone("meeting_room")
	for _, a := range z.Alerts() {
		if a.Suppressed != (a.Kind == AlertHighCO2) {
			t.Errorf("alert %s suppressed=%v", a.Kind, a.Suppressed)
		}
	}
	if !m.Suppressed("meeting_room", AlertHighCO2) || m.Suppressed("meeting_room", AlertHighTemp) || m.Suppressed("main", AlertHighCO2) {
		t.Fatal("suppression not scoped to the zone and kind")
	}
	if !m.AnySuppressed("meeting_room") || m.AnySuppressed("main") {
		t.Fatal("any-suppression not scoped to the zone")
	}
	// No keyword: whatever is out of band is suppressed.
	if got := m.SuppressForTask("meeting_room", "様子を見てください"); !slices.Equal(got, []string{AlertHighCO2, AlertHighTemp}) {
		t.Fatalf("fallback suppressed %v", got)
	}
	// CO2 back below 1000 clears high_co2; the temperature one stays.
	c.Advance(2 * time.Minute)
	_ = m.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":700}`))
	z, _ = m.Zone("meeting_room")
	if !slices.Equal(z.Suppressed, []string{AlertHighTemp}) {
		t.Fatalf("after CO2 recovered suppressed = %v", z.Suppressed)
	}
	// Suppression expires: high_temp lasts 30 minutes.
	c.Advance(29 * time.Minute)
	if m.AnySuppressed("meeting_room") || m.Suppressed("meeting_room", AlertHighTemp) {
		t.Fatal("suppression outlived its 30 minutes")
	}
}

func TestActuatorAndDescribe(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	_ = m.Ingest("office/main/hvac/hvac_01", []byte(`{"power_state":"on","mode":"cool","target_temp":24}`))
	_ = m.Ingest("office/main/sensor/door_01/contact", []byte(`{"value":false}`))
	_ = m.Ingest("office/main/sensor/pir_01/motion_count", []byte(`{"value":3}`))
	_ = m.Ingest("office/main/sensor/leak_01/water_leak", []byte(`{"value":true}`))
	z, _ := m.Zone("main")
	if z.Actuators["hvac_01"].Power != "on" || z.Actuators["hvac_01"].Specific["mode"] != "cool" {
		t.Fatalf("actuator = %+v", z.Actuators)
	}
	if !z.Doors["door_01"].Open || z.MotionCount != 3 || z.Extra["water_leak"] != 1 {
		t.Fatalf("snapshot = %+v", z)
	}
	d := z.Describe()
	for _, want := range []string{"ドア door_01: 開", "動き検知: 3回/5分", "water_leak: 1", "機器 hvac_01 (hvac): on"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe misses %q:\n%s", want, d)
		}
	}
}
