package perception

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// posePerson is a pose model's person: a box with a skeleton.
func posePerson(b Box, joints map[int][2]float64) Detection {
	d := person(b)
	d.Keypoints = skeleton(joints)
	return d
}

var (
	standingBox = Box{80, 240, 120, 400}
	sittingBox  = Box{90, 275, 150, 400}
	lyingBox    = Box{60, 370, 250, 400}
)

func TestPoseFallScore(t *testing.T) {
	couch := Box{40, 350, 260, 420}
	tests := []struct {
		name       string
		b          Box
		joints     map[int][2]float64
		furniture  []Box
		wasUpright bool
		min, max   float64
		ok         bool
	}{
		{"standing", standingBox, standingJoints, nil, false, 0, 0, true},
		{"sitting", sittingBox, sittingJoints, nil, true, 0, 0, true},
		{"lying on the floor", lyingBox, lyingJoints, nil, false, 0.85, 0.85, true},
		{"just fell", lyingBox, lyingJoints, nil, true, 1, 1, true},
		// the box alone says upright (w/h 0.9); the torso says lying
		{"lying, box not wide", Box{60, 200, 250, 410}, lyingJoints, nil, false, 0.7, 0.7, true},
		// arms spread make the box wide; the torso says standing
		{"standing, wide box", Box{0, 240, 200, 400}, standingJoints, nil, false, 0.15, 0.15, true},
		{"lying on a couch", lyingBox, lyingJoints, []Box{couch}, false, 0, 0.49, true},
		{"no torso: box score instead", lyingBox, map[int][2]float64{KpNose: {240, 385}}, nil, false, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PoseFallScore(tt.b, skeleton(tt.joints), tt.furniture, tt.wasUpright)
			if ok != tt.ok || got < tt.min || got > tt.max {
				t.Errorf("score %g, %v; want %g..%g, %v", got, ok, tt.min, tt.max, tt.ok)
			}
		})
	}
}

// TestFallDetectorKeypoints: a fall the box cannot show (the lying person's
// box stays taller than wide) alerts from the keypoints; a standing person
// with a wide box does not.
func TestFallDetectorKeypoints(t *testing.T) {
	cfg := Config{FallThreshold: 0.5, FallConfirm: 5 * time.Second, FallRecovery: 10 * time.Second, FallCooldown: 120 * time.Second}
	tallLying := posePerson(Box{60, 200, 250, 410}, lyingJoints)
	wideStanding := posePerson(Box{0, 240, 200, 400}, standingJoints)
	for _, tt := range []struct {
		name   string
		det    Detection
		alerts int
	}{{"lying with a tall box", tallLying, 1}, {"standing with a wide box", wideStanding, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			d := newFallDetector("z", cfg)
			n := 0
			for i := range 5 {
				r := frame()
				r.Persons = []Detection{tt.det}
				n += len(d.observe(r, t0.Add(time.Duration(i)*3*time.Second)))
			}
			if n != tt.alerts {
				t.Fatalf("%d alerts, want %d", n, tt.alerts)
			}
		})
	}
}

func TestSpatialKeypoints(t *testing.T) {
	r := frame()
	r.Persons = []Detection{posePerson(sittingBox, sittingJoints)}
	b, _ := json.Marshal(Spatial("z", "c", r, false, t0))
	for _, part := range []string{`"keypoints":[[105,285],`, `"keypoint_conf":[0.9,`, `"posture":"sitting"`, `"bbox_px":[90,275,150,400]`} {
		if !strings.Contains(string(b), part) {
			t.Errorf("spatial %s lacks %s", b, part)
		}
	}
	// a detect model's payload stays the original's
	b, _ = json.Marshal(Spatial("z", "c", frame(sittingBox), false, t0))
	for _, absent := range []string{"keypoints", "keypoint_conf", "posture"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("detect payload %s has %s", b, absent)
		}
	}
}

// TestActivityWithKeypoints: the posture duration follows the keypoint
// signature (steady while the skeleton keeps its shape, even when the box
// jitters; reset when the person sits down), and the activity level follows
// keypoint movement.
func TestActivityWithKeypoints(t *testing.T) {
	m := &activityMonitor{zone: "z"}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 3 * time.Second) }
	var msg ActivityMsg
	for i := range 240 { // 12 minutes standing still
		b := standingBox
		b.X2 += float64(i % 3) // the box jitters; the skeleton does not
		r := frame()
		r.Persons = []Detection{posePerson(b, standingJoints)}
		msg = m.observe(r, at(i))
	}
	if msg.PostureStatus != PostureMostlyStatic || msg.PostureDurationSec < 600 || msg.ActivityClass != ClassIdle {
		t.Fatalf("after 12 min standing: %s %gs %s", msg.PostureStatus, msg.PostureDurationSec, msg.ActivityClass)
	}
	r := frame()
	r.Persons = []Detection{posePerson(sittingBox, sittingJoints)}
	msg = m.observe(r, at(240))
	if msg.PostureStatus != PostureChanging || msg.PostureDurationSec != 0 {
		t.Fatalf("after sitting down: %s %gs", msg.PostureStatus, msg.PostureDurationSec)
	}
	// walking: the skeleton moves 60 px per 3 s
	w := &activityMonitor{zone: "z"}
	for i := range 10 {
		moved := map[int][2]float64{}
		for k, p := range standingJoints {
			moved[k] = [2]float64{p[0] + 60*float64(i%2), p[1]}
		}
		r := frame()
		r.Persons = []Detection{posePerson(standingBox, moved)} // the box (wrongly) stays put
		msg = w.observe(r, at(i))
	}
	if msg.ActivityClass != ClassModerate {
		t.Errorf("walking skeleton: level %g (%s), want moderate", msg.ActivityLevel, msg.ActivityClass)
	}
}
