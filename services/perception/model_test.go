package perception

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/camera"
	"github.com/somsgo/soms/sim/modelgen"
	"github.com/somsgo/soms/sim/scene"
)

var (
	testDetOnce sync.Once
	testDet     *Detector
	testDetErr  error
)

// syntheticDetector loads the generated model once per test binary. A
// missing ONNX Runtime library fails the test with the reason.
func syntheticDetector(t testing.TB) *Detector {
	t.Helper()
	testDetOnce.Do(func() {
		var e *Engine
		e, testDetErr = NewEngine(EngineConfig{Library: FindRuntimeLibrary(""), Model: BuiltinSynthetic, Builtin: modelgen.Builtin, Threads: 2})
		if testDetErr == nil {
			testDet = NewDetector(e, 0.5, 0.45)
		}
	})
	if testDetErr != nil {
		t.Fatalf("perception tests need ONNX Runtime (infra/scripts/onnxruntime.sh, run by make deps): %v", testDetErr)
	}
	return testDet
}

func cameraJPEG(t testing.TB, z scene.Zone) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, camera.Frame(z, 640, 480, 1, 1500*time.Millisecond), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSyntheticModelSeesFigures checks that the generated model responds to
// what the virtual camera draws: one box per figure, boxes where the figures
// are, wide boxes for fallen people, nothing in an empty room.
func TestSyntheticModelSeesFigures(t *testing.T) {
	d := syntheticDetector(t)
	p := func(id string, x, y float64, post scene.Posture) scene.Person {
		return scene.Person{ID: id, X: x, Y: y, Posture: post, Motion: 0.3}
	}
	tests := []struct {
		name   string
		people []scene.Person
		fallen int // boxes wider than tall
	}{
		{"empty room", nil, 0},
		{"one standing", []scene.Person{p("a", 0.5, 0.5, scene.Standing)}, 0},
		{"one sitting near", []scene.Person{p("a", 0.3, 0.9, scene.Sitting)}, 0},
		{"one walking far", []scene.Person{p("a", 0.7, 0.05, scene.Walking)}, 0},
		{"one fallen", []scene.Person{p("a", 0.5, 0.7, scene.Fallen)}, 1},
		{"three mixed", []scene.Person{p("a", 0.15, 0.5, scene.Standing), p("b", 0.5, 0.8, scene.Sitting), p("c", 0.85, 0.3, scene.Walking)}, 0},
		{"five with a fall", []scene.Person{p("a", 0.1, 0.2, scene.Standing), p("b", 0.3, 0.9, scene.Sitting), p("c", 0.5, 0.4, scene.Walking),
			p("d", 0.7, 0.95, scene.Fallen), p("e", 0.9, 0.1, scene.Sitting)}, 1},
		{"two on the same spot are drawn apart", []scene.Person{p("a", 0.5, 0.5, scene.Sitting), p("b", 0.51, 0.5, scene.Sitting)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := detectJPEG(d, cameraJPEG(t, scene.Zone{Zone: "z", People: tt.people}))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Persons) != len(tt.people) {
				t.Fatalf("%d persons %+v, want %d", len(r.Persons), r.Persons, len(tt.people))
			}
			fallen := 0
			for _, det := range r.Persons {
				if det.Box.W() > det.Box.H() {
					fallen++
				}
				if det.Box.H() < 20 || det.Box.W() < 15 || det.Confidence < 0.5 {
					t.Errorf("implausible person %+v", det)
				}
			}
			if fallen != tt.fallen {
				t.Errorf("%d wide boxes, want %d: %+v", fallen, tt.fallen, r.Persons)
			}
		})
	}
}

// TestSyntheticModelFollowsPosition moves one person across the room and
// checks the box follows.
func TestSyntheticModelFollowsPosition(t *testing.T) {
	d := syntheticDetector(t)
	for _, x := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
		r, err := detectJPEG(d, cameraJPEG(t, scene.Zone{Zone: "z", People: []scene.Person{{ID: "a", X: x, Y: 0.6, Posture: scene.Standing}}}))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Persons) != 1 {
			t.Fatalf("x=%g: %d persons", x, len(r.Persons))
		}
		cx, _ := r.Persons[0].Box.Center()
		if want := x * 640; cx < want-20 || cx > want+20 {
			t.Errorf("x=%g: box centre %g, want about %g", x, cx, want)
		}
	}
}

// TestModelFile checks the generator writes a loadable file with YOLO11's
// contract, as `go run ./sim/modelgen/cmd/modelgen` does.
func TestModelFile(t *testing.T) {
	syntheticDetector(t) // runtime loaded
	data, err := modelgen.PersonDetector(modelgen.Options{Size: 320, Classes: 80})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "synthetic.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(EngineConfig{Library: FindRuntimeLibrary(""), Model: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	n := int64(40*40 + 20*20 + 10*10)
	if e.Size != 320 || len(e.OutShape) != 3 || e.OutShape[1] != 84 || e.OutShape[2] != n {
		t.Fatalf("size %d, output %v; want 320 and [1 84 %d]", e.Size, e.OutShape, n)
	}
	if _, err := modelgen.PersonDetector(modelgen.Options{Size: 300, Classes: 80}); err == nil {
		t.Error("size 300 accepted")
	}
}

func TestEngineErrors(t *testing.T) {
	syntheticDetector(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	_ = os.WriteFile(garbage, []byte("not a model"), 0o644)
	for _, tt := range []struct {
		name string
		cfg  EngineConfig
	}{
		{"missing model", EngineConfig{Library: FindRuntimeLibrary(""), Model: filepath.Join(dir, "nope.onnx")}},
		{"not a model", EngineConfig{Library: FindRuntimeLibrary(""), Model: garbage}},
		{"unknown provider", EngineConfig{Library: FindRuntimeLibrary(""), Model: BuiltinSynthetic, Builtin: modelgen.Builtin, Provider: "tpu"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if e, err := NewEngine(tt.cfg); err == nil {
				e.Close()
				t.Fatal("no error")
			}
		})
	}
}
