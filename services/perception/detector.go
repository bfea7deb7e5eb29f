package perception

import (
	"fmt"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// Timings split one frame's processing into the pipeline's stages. Decode
// is zero for camera frames: FFmpeg decoded and scaled them in its own
// process (benchmarks that decode JPEG in Go fill it in).
type Timings struct {
	Decode, Preprocess, Inference, Postprocess time.Duration
}

// Result is what the model saw in one frame.
type Result struct {
	Persons []Detection // class 0, frame pixels, after NMS
	Objects []Detection // every other class kept after NMS
	Width   int
	Height  int
	Timings Timings
}

// Detector runs frames through an Engine. It is safe for concurrent use;
// frames are processed one at a time (the engine's tensors are shared, and
// ONNX Runtime already uses every core for one frame).
type Detector struct {
	engine  *Engine
	minConf float64
	iou     float64
	wall    clock.Clock // stage timings are wall time

	mu sync.Mutex
}

// NewDetector wraps a loaded engine.
func NewDetector(e *Engine, minConf, iou float64) *Detector {
	return &Detector{engine: e, minConf: minConf, iou: iou, wall: clock.Wall{}}
}

// DetectFrame runs the model on a camera frame that FFmpeg already scaled and
// letterboxed to the model's input (rgb24, Size×Size).
func (d *Detector) DetectFrame(f Frame) (Result, error) {
	if f.Box.Size != d.engine.Size || len(f.Pixels) != 3*d.engine.Size*d.engine.Size {
		return Result{}, fmt.Errorf("frame is %d pixels square (%d bytes), the model's input %d", f.Box.Size, len(f.Pixels), d.engine.Size)
	}
	return d.detect(f.Box, func(dst []float32) { FillRGB(f.Pixels, d.engine.Size, dst) })
}

// detect fills the model's input with fill, runs the model and maps what it
// found back to the camera's pixels through lb.
func (d *Detector) detect(lb Letterbox, fill func(dst []float32)) (Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	res := Result{Width: lb.SrcW, Height: lb.SrcH}
	t0 := d.wall.Now()
	fill(d.engine.Input())
	t1 := d.wall.Now()
	out, err := d.engine.Run()
	if err != nil {
		return res, err
	}
	t2 := d.wall.Now()
	var dets []Detection
	if d.engine.Kind == KindPose {
		dets, err = DecodeYOLOPose(out, d.engine.OutShape, d.minConf)
	} else {
		dets, err = DecodeYOLO(out, d.engine.OutShape, d.minConf, nil)
	}
	if err != nil {
		return res, err
	}
	dets = NMS(dets, d.iou)
	Unletterbox(dets, lb)
	for _, det := range dets {
		if det.Box.Area() <= 0 {
			continue
		}
		if det.Class == ClassPerson {
			res.Persons = append(res.Persons, det)
		} else {
			res.Objects = append(res.Objects, det)
		}
	}
	t3 := d.wall.Now()
	res.Timings = Timings{Preprocess: t1.Sub(t0), Inference: t2.Sub(t1), Postprocess: t3.Sub(t2)}
	return res, nil
}
