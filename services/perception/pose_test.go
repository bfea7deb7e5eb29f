package perception

import (
	"math"
	"strings"
	"testing"
)

// poseOutput builds a [1,56,n] pose head with the given anchors filled in.
func poseOutput(n int, anchors map[int]poseAnchor) []float32 {
	out := make([]float32, PoseChannels*n)
	for i, a := range anchors {
		out[i], out[n+i], out[2*n+i], out[3*n+i], out[4*n+i] = a.cx, a.cy, a.w, a.h, a.score
		for k := range NumKeypoints {
			base := (5 + 3*k) * n
			out[base+i], out[base+n+i], out[base+2*n+i] = a.cx+float32(k), a.cy-float32(k), 0.8
		}
	}
	return out
}

type poseAnchor struct{ cx, cy, w, h, score float32 }

func TestDecodeYOLOPose(t *testing.T) {
	const n = 6
	tests := []struct {
		name    string
		out     []float32
		shape   []int64
		minConf float64
		want    int    // detections before NMS
		wantErr string // substring
	}{
		{"empty", poseOutput(n, nil), []int64{1, 56, n}, 0.5, 0, ""},
		{"one above threshold", poseOutput(n, map[int]poseAnchor{2: {100, 200, 40, 120, 0.9}}), []int64{1, 56, n}, 0.5, 1, ""},
		{"below threshold dropped", poseOutput(n, map[int]poseAnchor{2: {100, 200, 40, 120, 0.4}}), []int64{1, 56, n}, 0.5, 0, ""},
		{"two people", poseOutput(n, map[int]poseAnchor{0: {100, 200, 40, 120, 0.9}, 5: {400, 200, 40, 120, 0.7}}), []int64{1, 56, n}, 0.5, 2, ""},
		{"detect shape refused", make([]float32, 84*n), []int64{1, 84, n}, 0.5, 0, "want [1, 56"},
		{"short data", make([]float32, 10), []int64{1, 56, n}, 0.5, 0, "needs"},
		{"batch of two refused", make([]float32, 2*56*n), []int64{2, 56, n}, 0.5, 0, "want [1, 56"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dets, err := DecodeYOLOPose(tt.out, tt.shape, tt.minConf)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) != tt.want {
				t.Fatalf("%d detections, want %d", len(dets), tt.want)
			}
			for _, d := range dets {
				if d.Class != ClassPerson || len(d.Keypoints) != NumKeypoints {
					t.Fatalf("class %d with %d keypoints", d.Class, len(d.Keypoints))
				}
				cx, cy := d.Box.Center()
				for k, kp := range d.Keypoints { // keypoint k sits at (cx+k, cy−k)
					if kp.X != cx+float64(k) || kp.Y != cy-float64(k) || math.Abs(kp.Conf-0.8) > 1e-6 {
						t.Fatalf("keypoint %d = %+v for box centre (%g,%g)", k, kp, cx, cy)
					}
				}
			}
		})
	}
}

// TestPoseNMSAndLetterbox checks keypoints travel with their box through NMS
// and are mapped back to frame pixels like the box.
func TestPoseNMSAndLetterbox(t *testing.T) {
	const n = 4
	out := poseOutput(n, map[int]poseAnchor{
		0: {320, 300, 60, 180, 0.9},  // kept
		1: {324, 302, 60, 180, 0.8},  // overlaps 0: dropped
		3: {500, 300, 60, 180, 0.75}, // separate: kept
	})
	dets, err := DecodeYOLOPose(out, []int64{1, 56, n}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	dets = NMS(dets, 0.45)
	if len(dets) != 2 || dets[0].Confidence != float64(float32(0.9)) {
		t.Fatalf("after NMS: %+v", dets)
	}
	if dets[0].Keypoints[0].X != 320 || dets[1].Keypoints[0].X != 500 {
		t.Fatalf("keypoints did not stay with their boxes: %+v / %+v", dets[0].Keypoints[0], dets[1].Keypoints[0])
	}
	l := NewLetterbox(1280, 720, 640) // scale 0.5, 140 px of padding above
	Unletterbox(dets, l)
	kp := dets[0].Keypoints[2] // model (322, 298)
	if kp.X != 644 || kp.Y != 316 {
		t.Errorf("keypoint 2 maps to (%g,%g), want (644,316)", kp.X, kp.Y)
	}
	if dets[0].Box.X1 != 580 || dets[0].Box.Y1 != 140 {
		t.Errorf("box maps to %+v", dets[0].Box)
	}
}

func TestResolveKind(t *testing.T) {
	pose, det := []int64{1, 56, 8400}, []int64{1, 84, 8400}
	tests := []struct {
		configured, task string
		shape            []int64
		want, err        string
	}{
		{"auto", "", det, KindDetect, ""},
		{"auto", "", pose, KindPose, ""},
		{"auto", "pose", pose, KindPose, ""},
		{"auto", "detect", pose, KindDetect, ""}, // a 52-class detect model
		{"auto", "pose", det, "", "task=pose"},
		{"", "", det, KindDetect, ""},
		{"detect", "pose", pose, KindDetect, ""},
		{"pose", "", pose, KindPose, ""},
		{"pose", "", det, "", "PERCEPTION_MODEL_KIND=pose"},
		{"segment", "", det, "", "want auto"},
	}
	for _, tt := range tests {
		got, err := ResolveKind(tt.configured, tt.task, tt.shape)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q/%q/%v: error %v, want %q", tt.configured, tt.task, tt.shape, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q/%q/%v: %q, %v; want %q", tt.configured, tt.task, tt.shape, got, err, tt.want)
		}
	}
}

// skeleton builds keypoints from a few named joints; the rest are unseen.
func skeleton(j map[int][2]float64) []Keypoint {
	kps := make([]Keypoint, NumKeypoints)
	for i, p := range j {
		kps[i] = Keypoint{X: p[0], Y: p[1], Conf: 0.9}
	}
	return kps
}

// Joints of a person about 160 px tall, feet at y=400.
var (
	standingJoints = map[int][2]float64{KpNose: {100, 250}, KpLeftShoulder: {115, 275}, KpRightShoulder: {85, 275},
		KpLeftHip: {110, 330}, KpRightHip: {90, 330}, KpLeftKnee: {110, 365}, KpRightKnee: {90, 365},
		KpLeftAnkle: {110, 398}, KpRightAnkle: {90, 398}}
	sittingJoints = map[int][2]float64{KpNose: {105, 285}, KpLeftShoulder: {108, 305}, KpRightShoulder: {96, 305},
		KpLeftHip: {100, 355}, KpRightHip: {102, 357}, KpLeftKnee: {140, 355}, KpRightKnee: {142, 357},
		KpLeftAnkle: {140, 398}, KpRightAnkle: {144, 398}}
	lyingJoints = map[int][2]float64{KpNose: {240, 385}, KpLeftShoulder: {210, 392}, KpRightShoulder: {210, 378},
		KpLeftHip: {150, 390}, KpRightHip: {150, 380}, KpLeftKnee: {110, 390}, KpRightKnee: {110, 380},
		KpLeftAnkle: {70, 390}, KpRightAnkle: {70, 380}}
)

func TestPosture(t *testing.T) {
	noKnees := skeleton(standingJoints)
	noKnees[KpLeftKnee].Conf, noKnees[KpRightKnee].Conf = 0.1, 0.1
	noHip := skeleton(standingJoints)
	noHip[KpLeftHip].Conf = 0.2
	bending := skeleton(map[int][2]float64{KpLeftShoulder: {150, 300}, KpRightShoulder: {140, 290},
		KpLeftHip: {110, 330}, KpRightHip: {90, 330}, KpLeftKnee: {110, 365}, KpRightKnee: {90, 365}}) // ~45°
	tests := []struct {
		name   string
		kps    []Keypoint
		want   string
		wantOK bool
		angle  [2]float64 // expected torso angle range
	}{
		{"standing", skeleton(standingJoints), PostureStanding, true, [2]float64{0, 5}},
		{"sitting", skeleton(sittingJoints), PostureSitting, true, [2]float64{0, 10}},
		{"lying", skeleton(lyingJoints), PostureLying, true, [2]float64{85, 90}},
		{"bending forward stays upright", bending, PostureStanding, true, [2]float64{35, 55}},
		{"knees unseen: standing", noKnees, PostureStanding, true, [2]float64{0, 5}},
		{"a hip unseen: unknown", noHip, "", false, [2]float64{}},
		{"no keypoints", nil, "", false, [2]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Posture(tt.kps)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("Posture = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
			if a, ok := TorsoAngle(tt.kps); ok && (a < tt.angle[0] || a > tt.angle[1]) {
				t.Errorf("torso angle %g, want %v", a, tt.angle)
			}
		})
	}
}

func TestPoseSignature(t *testing.T) {
	st := skeleton(standingJoints)
	a, ok := PoseSignature(st)
	if !ok || len(a) != 2*NumKeypoints {
		t.Fatalf("signature %v, %v", a, ok)
	}
	// hip midpoint is (100,330), shoulder width 30: the nose at (100,250) is (0, −80/30)
	if math.Abs(a[0]) > 1e-9 || math.Abs(a[1]+80.0/30) > 1e-9 {
		t.Errorf("nose signature (%g,%g)", a[0], a[1])
	}
	// the same pose elsewhere and at another scale has the same signature
	moved := skeleton(standingJoints)
	for i := range moved {
		moved[i].X, moved[i].Y = 2*moved[i].X+300, 2*moved[i].Y-100
	}
	b, _ := PoseSignature(moved)
	if d := poseSigDistance(a, b); d > 1e-9 {
		t.Errorf("moved and scaled: distance %g", d)
	}
	c, _ := PoseSignature(skeleton(sittingJoints))
	if d := poseSigDistance(a, c); d < 0.05 {
		t.Errorf("standing vs sitting: distance %g, want ≥ 0.05", d)
	}
	if _, ok := PoseSignature(skeleton(map[int][2]float64{KpNose: {1, 1}})); ok {
		t.Error("signature without a torso")
	}
}

func TestModelKindValidation(t *testing.T) {
	var base Config
	loadDefaults(t, &base, map[string]string{})
	if base.ModelKind != KindAuto {
		t.Fatalf("default PERCEPTION_MODEL_KIND %q, want auto", base.ModelKind)
	}
	for _, tt := range []struct {
		kind string
		ok   bool
	}{{KindAuto, true}, {KindDetect, true}, {KindPose, true}, {"segment", false}, {"", false}} {
		c := base
		c.ModelKind = tt.kind
		if err := c.validate(); (err == nil) != tt.ok {
			t.Errorf("kind %q: validate() = %v", tt.kind, err)
		}
	}
}
