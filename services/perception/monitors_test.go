package perception

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func person(b Box) Detection { return Detection{Class: ClassPerson, Confidence: 0.9, Box: b} }

func frame(boxes ...Box) Result {
	r := Result{Width: 640, Height: 480}
	for _, b := range boxes {
		r.Persons = append(r.Persons, person(b))
	}
	return r
}

func TestOccupancyAndSpatialPayloads(t *testing.T) {
	r := frame(Box{10, 20, 50, 140}, Box{300, 100, 340, 220})
	r.Objects = []Detection{{Class: 56, Confidence: 0.77, Box: Box{0, 0, 10, 10}}}
	o := Occupancy("meeting_room", r, t0)
	b, _ := json.Marshal(o)
	want := `{"zone":"meeting_room","occupied":true,"person_count":2,"timestamp":1795424400}`
	if string(b) != want {
		t.Errorf("occupancy = %s\nwant        %s", b, want)
	}
	if e := Occupancy("z", frame(), t0); e.Occupied || e.PersonCount != 0 {
		t.Errorf("empty room = %+v", e)
	}
	s := Spatial("meeting_room", "cam1", r, true, t0)
	b, _ = json.Marshal(s)
	for _, part := range []string{`"camera_id":"cam1"`, `"image_size":[640,480]`, `"center_px":[30,80]`, `"bbox_px":[10,20,50,140]`, `"class_name":"chair"`} {
		if !strings.Contains(string(b), part) {
			t.Errorf("spatial %s lacks %s", b, part)
		}
	}
	if s := Spatial("z", "c", r, false, t0); s.Objects != nil {
		t.Errorf("occupancy's spatial message carries objects: %+v", s.Objects)
	}
}

func TestActivityClass(t *testing.T) {
	for _, tt := range []struct {
		level float64
		want  string
	}{{0, ClassIdle}, {0.0019, ClassIdle}, {0.002, ClassLow}, {0.0099, ClassLow}, {0.01, ClassModerate}, {0.039, ClassModerate}, {0.04, ClassHigh}, {1, ClassHigh}} {
		if got := ActivityClass(tt.level); got != tt.want {
			t.Errorf("ActivityClass(%g) = %s, want %s", tt.level, got, tt.want)
		}
	}
}

func TestActivityLevel(t *testing.T) {
	still := Box{100, 100, 150, 250}
	tests := []struct {
		name  string
		step  float64 // pixels moved per 3 s frame
		class string
	}{
		{"sitting still", 0, ClassIdle},
		{"fidgeting", 8, ClassLow},
		{"walking", 60, ClassModerate},
		{"running", 140, ClassHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &activityMonitor{zone: "z"}
			var msg ActivityMsg
			for i := range 10 {
				b := still
				dx := tt.step * float64(i%2) // back and forth
				b.X1 += dx
				b.X2 += dx
				msg = m.observe(frame(b), t0.Add(time.Duration(i)*3*time.Second))
			}
			if msg.ActivityClass != tt.class {
				t.Errorf("level %g class %s, want %s", msg.ActivityLevel, msg.ActivityClass, tt.class)
			}
			if msg.PersonCount != 1 || msg.Zone != "z" {
				t.Errorf("msg = %+v", msg)
			}
		})
	}
}

func TestPostureDuration(t *testing.T) {
	sit := Box{100, 200, 180, 320}
	stand := Box{100, 100, 150, 320}
	tests := []struct {
		name   string
		frames func(i int) Result // frame every 3 s
		n      int
		status string
		minDur float64
		maxDur float64
	}{
		{"nobody", func(int) Result { return frame() }, 20, PostureUnknown, 0, 0},
		{"just sat down", func(int) Result { return frame(sit) }, 20, PostureChanging, 55, 60},
		{"sat for 15 minutes", func(int) Result { return frame(sit) }, 301, PostureMostlyStatic, 890, 900},
		{"sat for 25 minutes", func(int) Result { return frame(sit) }, 501, PostureStatic, 1490, 1500},
		{"stood up after 25 minutes", func(i int) Result {
			if i >= 495 {
				return frame(stand)
			}
			return frame(sit)
		}, 501, PostureChanging, 15, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &activityMonitor{zone: "z"}
			var msg ActivityMsg
			for i := range tt.n {
				msg = m.observe(tt.frames(i), t0.Add(time.Duration(i)*3*time.Second))
			}
			if msg.PostureStatus != tt.status || msg.PostureDurationSec < tt.minDur || msg.PostureDurationSec > tt.maxDur {
				t.Errorf("posture %s for %gs, want %s for %g..%gs", msg.PostureStatus, msg.PostureDurationSec, tt.status, tt.minDur, tt.maxDur)
			}
		})
	}
}

// TestPostureFollowsOnePerson: two people of one size sit still at their
// desks while noise (breathing, compression) makes one or the other a cell
// taller now and then. The posture duration follows one of them and keeps
// growing; it is not reset each time the other is momentarily the larger.
func TestPostureFollowsOnePerson(t *testing.T) {
	a, b := Box{112, 232, 176, 360}, Box{304, 232, 368, 360}
	taller := func(x Box) Box { x.Y1 -= 8; return x }
	m := &activityMonitor{zone: "z"}
	var msg ActivityMsg
	for i := range 301 { // 15 minutes, a frame every 3 s
		var r Result
		switch i % 4 {
		case 1:
			r = frame(taller(a), b)
		case 3:
			r = frame(a, taller(b))
		default:
			r = frame(a, b)
		}
		msg = m.observe(r, t0.Add(time.Duration(i)*3*time.Second))
	}
	if msg.PostureStatus != PostureMostlyStatic || msg.PostureDurationSec < 890 {
		t.Errorf("posture %s for %gs, want mostly_static for about 900 s", msg.PostureStatus, msg.PostureDurationSec)
	}
	// The one followed leaves: the other is the main person from then on, a
	// new posture.
	for i := 301; i < 311; i++ {
		msg = m.observe(frame(b), t0.Add(time.Duration(i)*3*time.Second))
	}
	if msg.PostureDurationSec > 30 {
		t.Errorf("after the main person left: %s for %gs, want a new posture (≤ 30 s)", msg.PostureStatus, msg.PostureDurationSec)
	}
}

func TestPostureBufferTiers(t *testing.T) {
	m := &activityMonitor{zone: "z"}
	var msg ActivityMsg
	// 5 hours at one frame per 3 s
	for i := range 5 * 1200 {
		msg = m.observe(frame(Box{0, 0, 10, 20}), t0.Add(time.Duration(i)*3*time.Second))
	}
	d := msg.BufferDepth
	// raw 60 s / 3 s; tier1 10 min of 10 s buckets (12 s at this frame rate);
	// tier2 1 h of 60 s buckets; tier3 4 h of 300 s buckets: ~180 entries.
	if d.Raw != 21 || d.Tier1 != 50 || d.Tier2 != 60 || d.Tier3 != 48 {
		t.Errorf("buffer depth = %+v", d)
	}
	if msg.PostureStatus != PostureStatic || msg.PostureDurationSec < 4*3600-600 {
		t.Errorf("posture %s %gs, want static for over 4 h", msg.PostureStatus, msg.PostureDurationSec)
	}
}

func TestFallScore(t *testing.T) {
	chair := Box{90, 150, 230, 260}
	tests := []struct {
		name       string
		b          Box
		furniture  []Box
		wasUpright bool
		min, max   float64
	}{
		{"standing", Box{100, 100, 150, 300}, nil, false, 0, 0},
		{"sitting", Box{100, 150, 180, 260}, nil, false, 0, 0},
		{"lying on the floor", Box{100, 300, 300, 350}, nil, false, 0.85, 0.85},
		{"just fell", Box{100, 300, 300, 350}, nil, true, 1, 1},
		{"slightly wide", Box{100, 100, 210, 200}, nil, false, 0.15, 0.3},
		{"lying on a couch", Box{100, 200, 220, 250}, []Box{chair}, false, 0, 0.49},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FallScore(tt.b, tt.furniture, tt.wasUpright); got < tt.min || got > tt.max {
				t.Errorf("score %g, want %g..%g", got, tt.min, tt.max)
			}
		})
	}
}

func TestFallDetector(t *testing.T) {
	cfg := Config{FallThreshold: 0.5, FallConfirm: 5 * time.Second, FallRecovery: 10 * time.Second, FallCooldown: 120 * time.Second}
	standing := Box{300, 100, 350, 300}
	lying := Box{250, 280, 450, 330}
	type step struct {
		at     time.Duration
		box    *Box
		alerts int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one alert after the confirm time", []step{
			{0, &standing, 0}, {1 * time.Second, &lying, 0}, {3 * time.Second, &lying, 0},
			{6 * time.Second, &lying, 1}, {9 * time.Second, &lying, 0}, {30 * time.Second, &lying, 0}}},
		{"getting up quickly is no fall", []step{
			{0, &lying, 0}, {3 * time.Second, &lying, 0}, {4 * time.Second, &standing, 0}, {8 * time.Second, &lying, 0}, {12 * time.Second, &lying, 0}}},
		{"cooldown holds a second fall back", []step{
			{0, &lying, 0}, {5 * time.Second, &lying, 1},
			{6 * time.Second, &standing, 0}, {20 * time.Second, &standing, 0}, // recovered
			{21 * time.Second, &lying, 0}, {30 * time.Second, &lying, 0}, // confirmed again within 120 s
			{60 * time.Second, &lying, 0}, {90 * time.Second, &lying, 0}, {120 * time.Second, &lying, 0},
			{130 * time.Second, &lying, 1}}}, // 125 s after the first alert
		{"a person who leaves is forgotten", []step{
			{0, &lying, 0}, {3 * time.Second, nil, 0}, {40 * time.Second, &lying, 0}, {44 * time.Second, &lying, 0}, {45 * time.Second, &lying, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFallDetector("z", cfg)
			for _, s := range tt.steps {
				r := frame()
				if s.box != nil {
					r = frame(*s.box)
				}
				alerts := d.observe(r, t0.Add(s.at))
				if len(alerts) != s.alerts {
					t.Fatalf("at %s: %d alerts %+v, want %d", s.at, len(alerts), alerts, s.alerts)
				}
				for _, a := range alerts {
					if a.Zone != "z" || a.TrackerID == "" || a.Confidence < 0.5 || a.BBox != bbox(*s.box) || a.DurationSec < 5 {
						t.Errorf("alert = %+v", a)
					}
				}
			}
		})
	}
}
