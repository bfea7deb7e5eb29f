package perception

import (
	"fmt"
	"slices"
)

// Box is an axis-aligned rectangle in pixels (x1,y1 top-left; x2,y2 bottom-right).
type Box struct{ X1, Y1, X2, Y2 float64 }

// W is the box width.
func (b Box) W() float64 { return b.X2 - b.X1 }

// H is the box height.
func (b Box) H() float64 { return b.Y2 - b.Y1 }

// Center is the box centre.
func (b Box) Center() (float64, float64) { return (b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2 }

// Area is the box area (0 for degenerate boxes).
func (b Box) Area() float64 { return max(0, b.W()) * max(0, b.H()) }

// IoU is the intersection over union of two boxes.
func IoU(a, b Box) float64 {
	iw := min(a.X2, b.X2) - max(a.X1, b.X1)
	ih := min(a.Y2, b.Y2) - max(a.Y1, b.Y1)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	u := a.Area() + b.Area() - inter
	if u <= 0 {
		return 0
	}
	return inter / u
}

// Detection is one object found in a frame.
type Detection struct {
	Class      int
	Confidence float64
	Box        Box // frame pixels after Unletterbox; model pixels straight from DecodeYOLO
	// Keypoints are the 17 COCO keypoints of a pose model's person (nil
	// from a detect model), in the same pixels as Box.
	Keypoints []Keypoint
}

// ClassPerson is COCO's class 0.
const ClassPerson = 0

// DecodeYOLO reads a YOLO11 (Ultralytics) detect head laid out
// [1, 4+C, N]: per anchor cx, cy, w, h in input pixels, then C class scores
// (no objectness, unlike YOLOv5's [1, N, 5+C]). Each anchor keeps its best
// class; anchors below minConf are dropped. keep, when non-nil, limits which
// classes are returned.
func DecodeYOLO(out []float32, shape []int64, minConf float64, keep func(class int) bool) ([]Detection, error) {
	if len(shape) != 3 || shape[0] != 1 {
		return nil, fmt.Errorf("model output shape %v: want [1, 4+classes, anchors]", shape)
	}
	ch, n := int(shape[1]), int(shape[2])
	if ch < 5 {
		return nil, fmt.Errorf("model output shape %v: fewer than 4 box values plus one class", shape)
	}
	if len(out) != ch*n {
		return nil, fmt.Errorf("model output has %d values, shape %v needs %d", len(out), shape, ch*n)
	}
	classes := ch - 4
	thr := float32(minConf)
	// Channel-major scan: find each anchor's best class with sequential reads.
	best := make([]float32, n)
	bestC := make([]int32, n)
	copy(best, out[4*n:5*n])
	for c := 1; c < classes; c++ {
		row := out[(4+c)*n : (5+c)*n]
		for i, v := range row {
			if v > best[i] {
				best[i], bestC[i] = v, int32(c)
			}
		}
	}
	var dets []Detection
	for i, s := range best {
		if s < thr || (keep != nil && !keep(int(bestC[i]))) {
			continue
		}
		dets = append(dets, makeDet(int(bestC[i]), s, out[i], out[n+i], out[2*n+i], out[3*n+i]))
	}
	return dets, nil
}

func makeDet(class int, score, cx, cy, w, h float32) Detection {
	return Detection{Class: class, Confidence: float64(score), Box: Box{
		X1: float64(cx - w/2), Y1: float64(cy - h/2), X2: float64(cx + w/2), Y2: float64(cy + h/2)}}
}

// NMS keeps, per class, the highest-scoring boxes and drops any box that
// overlaps a kept one by more than iou. The result is sorted by confidence.
func NMS(dets []Detection, iou float64) []Detection {
	sorted := slices.Clone(dets)
	slices.SortStableFunc(sorted, func(a, b Detection) int {
		switch {
		case a.Confidence > b.Confidence:
			return -1
		case a.Confidence < b.Confidence:
			return 1
		}
		return 0
	})
	kept := sorted[:0:0]
	for _, d := range sorted {
		ok := true
		for _, k := range kept {
			if k.Class == d.Class && IoU(k.Box, d.Box) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, d)
		}
	}
	return kept
}

// Unletterbox maps detections from model input pixels to frame pixels.
func Unletterbox(dets []Detection, l Letterbox) {
	for i := range dets {
		b := &dets[i].Box
		b.X1, b.Y1 = l.ToSource(b.X1, b.Y1)
		b.X2, b.Y2 = l.ToSource(b.X2, b.Y2)
		for k := range dets[i].Keypoints {
			kp := &dets[i].Keypoints[k]
			kp.X, kp.Y = l.ToSource(kp.X, kp.Y)
		}
	}
}
