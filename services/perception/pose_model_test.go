package perception

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/somsgo/soms/sim/modelgen"
	"github.com/somsgo/soms/sim/scene"
)

var (
	testPoseOnce sync.Once
	testPose     *Detector
	testPoseErr  error
)

// syntheticPoseDetector loads the generated pose model once per test binary.
func syntheticPoseDetector(t testing.TB) *Detector {
	t.Helper()
	syntheticDetector(t) // the runtime, loaded once
	testPoseOnce.Do(func() {
		var e *Engine
		e, testPoseErr = NewEngine(EngineConfig{Library: FindRuntimeLibrary(""), Model: BuiltinSyntheticPose, Builtin: modelgen.Builtin, Threads: 2})
		if testPoseErr == nil {
			testPose = NewDetector(e, 0.5, 0.45)
		}
	})
	if testPoseErr != nil {
		t.Fatalf("loading %s: %v", BuiltinSyntheticPose, testPoseErr)
	}
	return testPose
}

func TestSyntheticPoseModelContract(t *testing.T) {
	d := syntheticPoseDetector(t)
	if d.engine.Kind != KindPose || d.engine.Size != 640 || len(d.engine.OutShape) != 3 || d.engine.OutShape[1] != PoseChannels || d.engine.OutShape[2] != 8400 {
		t.Fatalf("kind %q size %d output %v; want pose, 640, [1 56 8400]", d.engine.Kind, d.engine.Size, d.engine.OutShape)
	}
	// the detect model is still read as detect (its metadata says so)
	if det := syntheticDetector(t); det.engine.Kind != KindDetect {
		t.Fatalf("synthetic detect model read as %q", det.engine.Kind)
	}
}

// TestSyntheticPoseClassifies renders the virtual camera's figures and checks
// that the pose model's keypoints, decoded and mapped back to the frame, give
// the posture the scene asked for, lie inside their box, and that only the
// fallen figures have a horizontal torso.
func TestSyntheticPoseClassifies(t *testing.T) {
	d := syntheticPoseDetector(t)
	p := func(id string, x, y float64, post scene.Posture) scene.Person {
		return scene.Person{ID: id, X: x, Y: y, Posture: post, Motion: 0.3}
	}
	want := map[scene.Posture]string{scene.Standing: PostureStanding, scene.Walking: PostureStanding,
		scene.Sitting: PostureSitting, scene.Fallen: PostureLying}
	tests := []struct {
		name   string
		people []scene.Person
	}{
		{"standing near", []scene.Person{p("a", 0.5, 0.9, scene.Standing)}},
		{"standing far", []scene.Person{p("a", 0.3, 0.05, scene.Standing)}},
		{"walking", []scene.Person{p("a", 0.7, 0.5, scene.Walking)}},
		{"sitting", []scene.Person{p("a", 0.4, 0.6, scene.Sitting)}},
		{"sitting far", []scene.Person{p("a", 0.6, 0.1, scene.Sitting)}},
		{"fallen", []scene.Person{p("a", 0.5, 0.7, scene.Fallen)}},
		{"fallen far", []scene.Person{p("a", 0.4, 0.1, scene.Fallen)}},
		{"one of each", []scene.Person{p("a", 0.12, 0.5, scene.Standing), p("b", 0.4, 0.8, scene.Sitting), p("c", 0.75, 0.6, scene.Fallen)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := detectJPEG(d, cameraJPEG(t, scene.Zone{Zone: "z", People: tt.people}))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Persons) != len(tt.people) {
				t.Fatalf("%d persons, want %d: %+v", len(r.Persons), len(tt.people), r.Persons)
			}
			got := map[string]int{}
			for _, det := range r.Persons {
				if len(det.Keypoints) != NumKeypoints {
					t.Fatalf("%d keypoints", len(det.Keypoints))
				}
				for k, kp := range det.Keypoints {
					if kp.X < det.Box.X1-1 || kp.X > det.Box.X2+1 || kp.Y < det.Box.Y1-1 || kp.Y > det.Box.Y2+1 {
						t.Errorf("keypoint %d (%g,%g) outside its box %+v", k, kp.X, kp.Y, det.Box)
					}
				}
				post, ok := Posture(det.Keypoints)
				if !ok {
					t.Fatalf("no posture from %+v", det.Keypoints)
				}
				got[post]++
				angle, _ := TorsoAngle(det.Keypoints)
				if (post == PostureLying) != (angle > 60) {
					t.Errorf("%s with torso at %.0f°", post, angle)
				}
				// a fall candidate from the keypoints alone: only lying figures
				score, _ := PoseFallScore(det.Box, det.Keypoints, nil, false)
				if (post == PostureLying) != (score >= 0.5) {
					t.Errorf("%s scores %g as a fall", post, score)
				}
			}
			wantN := map[string]int{}
			for _, pp := range tt.people {
				wantN[want[pp.Posture]]++
			}
			for k, n := range wantN {
				if got[k] != n {
					t.Errorf("postures %v, want %v", got, wantN)
					break
				}
			}
		})
	}
}

// TestPoseModelFile loads the pose model from a file, as a mounted
// yolo11s-pose export is: auto reads its metadata task, an explicit kind
// overrides it, and asking for pose from a detect model is refused.
func TestPoseModelFile(t *testing.T) {
	syntheticDetector(t) // runtime loaded
	dir := t.TempDir()
	write := func(name string, gen func(modelgen.Options) ([]byte, error)) string {
		data, err := gen(modelgen.Options{Size: 320, Classes: 80})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	posePath, detPath := write("pose.onnx", modelgen.PoseEstimator), write("detect.onnx", modelgen.PersonDetector)
	n := int64(40*40 + 20*20 + 10*10)
	tests := []struct {
		name, model, kind, want string
		channels                int64
	}{
		{"pose, auto", posePath, KindAuto, KindPose, PoseChannels},
		{"pose, explicit", posePath, KindPose, KindPose, PoseChannels},
		{"detect, auto", detPath, "", KindDetect, 84},
		{"detect read as pose", detPath, KindPose, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEngine(EngineConfig{Library: FindRuntimeLibrary(""), Model: tt.model, Kind: tt.kind, Builtin: modelgen.Builtin})
			if tt.want == "" {
				if err == nil {
					e.Close()
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if e.Kind != tt.want || e.Size != 320 || e.OutShape[1] != tt.channels || e.OutShape[2] != n {
				t.Fatalf("kind %q size %d output %v", e.Kind, e.Size, e.OutShape)
			}
		})
	}
}
