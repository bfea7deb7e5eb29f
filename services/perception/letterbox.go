package perception

import (
	"math"
	"runtime"
	"sync"
)

// Letterbox is the mapping between a camera frame and the model's square
// input: the frame is scaled by Scale (keeping its aspect ratio) and centred,
// with PadX/PadY pixels of grey (114, as Ultralytics pads) around it.
type Letterbox struct {
	Size       int // model input side
	SrcW, SrcH int
	Scale      float64
	PadX, PadY float64
}

// NewLetterbox computes the mapping of a srcW×srcH frame into size×size.
func NewLetterbox(srcW, srcH, size int) Letterbox {
	r := math.Min(float64(size)/float64(srcW), float64(size)/float64(srcH))
	w, h := math.Round(float64(srcW)*r), math.Round(float64(srcH)*r)
	return Letterbox{Size: size, SrcW: srcW, SrcH: srcH, Scale: r,
		PadX: math.Floor((float64(size) - w) / 2), PadY: math.Floor((float64(size) - h) / 2)}
}

// ToSource maps a point from model input pixels back to frame pixels,
// clamped to the frame.
func (l Letterbox) ToSource(x, y float64) (float64, float64) {
	sx := (x - l.PadX) / l.Scale
	sy := (y - l.PadY) / l.Scale
	return math.Max(0, math.Min(float64(l.SrcW), sx)), math.Max(0, math.Min(float64(l.SrcH), sy))
}

// unit maps a byte to 0..1.
var unit [256]float32

func init() {
	for i := range unit {
		unit[i] = float32(i) / 255
	}
}

// FillRGB converts a size×size rgb24 frame (FFmpeg's output, letterbox
// included) into the model's input: planar RGB floats in 0..1, the
// [1,3,size,size] "images" tensor of a YOLO export.
func FillRGB(pix []byte, size int, dst []float32) {
	n := size * size
	R, G, B := dst[:n], dst[n:2*n], dst[2*n:3*n]
	parallelRows(size, func(y0, y1 int) {
		for i := y0 * size; i < y1*size; i++ {
			p := pix[3*i : 3*i+3 : 3*i+3]
			R[i], G[i], B[i] = unit[p[0]], unit[p[1]], unit[p[2]]
		}
	})
}

// parallelRows splits rows [0,h) across the available cores.
func parallelRows(h int, f func(y0, y1 int)) {
	k := min(runtime.GOMAXPROCS(0), 8, max(1, h/32))
	if k <= 1 {
		f(0, h)
		return
	}
	var wg sync.WaitGroup
	for i := range k {
		y0, y1 := h*i/k, h*(i+1)/k
		wg.Go(func() { f(y0, y1) })
	}
	wg.Wait()
}
