package perception

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// Timings split one frame's processing into the pipeline's stages.
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

	mu     sync.Mutex
	planes []float32
}

// NewDetector wraps a loaded engine.
func NewDetector(e *Engine, minConf, iou float64) *Detector {
	return &Detector{engine: e, minConf: minConf, iou: iou, wall: clock.Wall{}}
}

// DetectJPEG decodes a JPEG frame and detects in it.
func (d *Detector) DetectJPEG(j []byte) (Result, error) {
	t0 := d.wall.Now()
	img, err := jpeg.Decode(bytes.NewReader(j))
	if err != nil {
		return Result{}, fmt.Errorf("decoding frame: %w", err)
	}
	r, err := d.Detect(img)
	r.Timings.Decode = d.wall.Now().Sub(t0) - r.Timings.Preprocess - r.Timings.Inference - r.Timings.Postprocess
	return r, err
}

// Detect runs the model on a decoded frame.
func (d *Detector) Detect(img image.Image) (Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := img.Bounds()
	res := Result{Width: b.Dx(), Height: b.Dy()}
	t0 := d.wall.Now()
	lb := NewLetterbox(b.Dx(), b.Dy(), d.engine.Size)
	d.planes = lb.Fill(img, d.engine.Input(), d.planes)
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
