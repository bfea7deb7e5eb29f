package perception

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/somsgo/soms/sim/modelgen"

	"github.com/somsgo/soms/sim/scene"
)

// BenchmarkPipeline runs one camera frame (640×480 JPEG from the virtual
// camera, three people) through the whole per-frame pipeline — JPEG decode,
// letterbox, inference (generated model, ONNX Runtime CPU, 2 threads),
// decoding + NMS + mapping back — and reports each stage's mean time, the
// frames per second one camera can sustain, and the time spent outside
// inference as a percentage of inference time.
//
// Models: "synthetic" is the generated detector alone (a light graph, so the
// ratio is pessimistic); "yolo11n-compute" and "yolo11s-compute" add a
// convolution stack with about the compute of YOLO11n (6.5 GFLOPs) and of
// YOLO11s (21.5 GFLOPs, the original SOMS's model), what real exports cost.
func BenchmarkPipeline(b *testing.B) {
	b.Run("synthetic", func(b *testing.B) { benchPipeline(b, syntheticDetector(b)) })
	b.Run("synthetic-pose", func(b *testing.B) { benchPipeline(b, syntheticPoseDetector(b)) })
	b.Run("yolo11n-compute", func(b *testing.B) { benchBackbone(b, 6.5) })
	b.Run("yolo11s-compute", func(b *testing.B) { benchBackbone(b, 21.5) })
}

func benchBackbone(b *testing.B, gflops float64) {
	{
		syntheticDetector(b) // runtime loaded
		data, err := modelgen.PersonDetector(modelgen.Options{Size: 640, Classes: 80, BackboneGFLOPs: gflops})
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "backbone.onnx")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		e, err := NewEngine(EngineConfig{Library: FindRuntimeLibrary(""), Model: path, Provider: benchProvider(), Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		benchPipeline(b, NewDetector(e, 0.5, 0.45))
	}
}

// benchProvider lets a GPU host run the benchmark on CUDA:
// SOMS_BENCH_PROVIDER=cuda go test -bench Pipeline ./services/perception/
func benchProvider() string {
	if p := os.Getenv("SOMS_BENCH_PROVIDER"); p != "" {
		return p
	}
	return "cpu"
}

func benchPipeline(b *testing.B, d *Detector) {
	j := cameraJPEG(b, scene.Zone{Zone: "z", People: []scene.Person{
		{ID: "a", X: 0.15, Y: 0.5, Posture: scene.Standing},
		{ID: "b", X: 0.5, Y: 0.8, Posture: scene.Sitting},
		{ID: "c", X: 0.85, Y: 0.3, Posture: scene.Walking, Motion: 0.5},
	}})
	var sum Timings
	b.ResetTimer()
	for b.Loop() {
		r, err := d.DetectJPEG(j)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Persons) != 3 {
			b.Fatalf("%d persons", len(r.Persons))
		}
		sum.Decode += r.Timings.Decode
		sum.Preprocess += r.Timings.Preprocess
		sum.Inference += r.Timings.Inference
		sum.Postprocess += r.Timings.Postprocess
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / n / 1e6 }
	b.ReportMetric(ms(sum.Decode), "decode-ms")
	b.ReportMetric(ms(sum.Preprocess), "preprocess-ms")
	b.ReportMetric(ms(sum.Inference), "inference-ms")
	b.ReportMetric(ms(sum.Postprocess), "postprocess-ms")
	total := sum.Decode + sum.Preprocess + sum.Inference + sum.Postprocess
	b.ReportMetric(n/total.Seconds(), "frames/s")
	if sum.Inference > 0 {
		b.ReportMetric(100*float64(total-sum.Inference)/float64(sum.Inference), "overhead-%")
	}
}
