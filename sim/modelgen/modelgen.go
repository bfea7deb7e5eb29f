// Package modelgen writes a small ONNX model with the input/output contract of
// an Ultralytics YOLO11 detect export, so perception's whole path (RTSP,
// decode, letterbox, ONNX Runtime, output decoding, NMS, monitors) runs for
// real where no trained weights can be downloaded.
//
// The model is not trained: its weights are set by hand to find the virtual
// camera's people. sim/camera draws every person in colours where
// R+B−2G is large (magenta shirts, plum trousers, pink skin) and everything
// else (walls, floor, desks, whiteboard, letterbox grey) where it is not. The
// graph
//
//  1. scores that colour key per pixel (a 1×1 convolution) and pools it into
//     a grid of 8×8-pixel cells, giving a binary occupancy map;
//  2. smooths the map and keeps its local maxima as detection anchors, with a
//     confidence that grows with the local density of person pixels;
//  3. measures, for every cell, the contiguous run of occupied cells through
//     it horizontally (in a band of ±2 rows) and vertically (±2 columns) with
//     cumulative sums, which gives the figure's bounding box;
//  4. lays the result out as YOLO does: [1, 4+80, N] with cx, cy, w, h in input
//     pixels, then 80 class scores (class 0, person, is the only non-zero one),
//     N = (S/8)² + (S/16)² + (S/32)² anchors (8400 for 640).
//
// So its output depends on the pixels the way a detector's does: move a person
// and the box moves, lay them down and the box turns wide, remove them and the
// detection goes. Touching figures merge into one box, as occluded people
// often do for a real detector.
package modelgen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Options shape the generated model.
type Options struct {
	// Size is the square input size in pixels (multiple of 32); 640 like YOLO11.
	Size int
	// Classes is the number of class scores per anchor; 80 like COCO.
	Classes int
	// BackboneGFLOPs, when positive, adds a stack of 3×3 convolutions of
	// about that compute (YOLO11n ≈ 6.5, YOLO11s ≈ 21.5 at 640) whose result
	// is multiplied by zero: the detections stay the same, but inference
	// costs about what a real export costs, for benchmarks without weights.
	BackboneGFLOPs float64
}

// DefaultOptions match a default YOLO11 detect export (imgsz 640, COCO).
func DefaultOptions() Options { return Options{Size: 640, Classes: 80} }

// Tuning of the colour key and the detector. They pair with the palette in
// sim/camera (see its palette.go).
const (
	keyThreshold  = 0.25 // R+B−2G (0..1 channels) above which a pixel is a person's
	cellCover     = 0.3  // fraction of a cell's pixels that makes it occupied
	stride        = 8    // cell size in input pixels
	densityGain   = 2.5  // confidence = clip(density × gain, 0, maxConfidence)
	maxConfidence = 0.95
	peakWindow    = 7 // cells; one detection anchor per local maximum in this window
	bandHalf      = 2 // cells either side of the anchor used to measure extents
)

// PersonDetector returns the serialised ONNX model.
func PersonDetector(o Options) ([]byte, error) {
	if o.Size <= 0 || o.Size%32 != 0 {
		return nil, fmt.Errorf("modelgen: size %d is not a positive multiple of 32", o.Size)
	}
	if o.Classes < 1 {
		return nil, fmt.Errorf("modelgen: classes %d < 1", o.Classes)
	}
	S := int64(o.Size)
	G := S / stride
	cells := G * G
	extra := (S/16)*(S/16) + (S/32)*(S/32)
	C := int64(o.Classes)

	b := &builder{}
	f := b.figures(S, o.BackboneGFLOPs)

	// 4. YOLO layout.
	five := b.op("Concat", []string{f.cx, f.cy, f.w, f.h, f.score}, nodeAttrs(ai("axis", 1)))
	five = b.op("Reshape", []string{five, b.initInt(shape(3), int64s(1, 5, cells))}, nil)
	parts := []string{five}
	if C > 1 {
		parts = append(parts, b.zeros(int64s(1, C-1, cells)))
	}
	head := b.op("Concat", parts, nodeAttrs(ai("axis", 1)))
	out := "output0"
	b.nodes = append(b.nodes, node{op: "Concat", name: "output", inputs: []string{head, b.zeros(int64s(1, 4+C, extra))}, outputs: []string{out}, attrs: nodeAttrs(ai("axis", 2))})

	n := cells + extra
	meta := map[string]string{
		"task":   "detect",
		"imgsz":  fmt.Sprintf("[%d, %d]", S, S),
		"stride": "32",
		"names":  classNames(o.Classes),
		"author": "soms modelgen (synthetic person detector for the virtual camera)",
	}
	doc := "Synthetic YOLO11-compatible person detector keyed to the SOMS virtual camera's figures; not a trained model."
	return model("soms_synthetic_person", doc, 17, b.nodes, b.inits,
		valueInfo("images", shape(1, 3, S, S)), valueInfo(out, shape(1, 4+C, n)),
		meta, []string{"author", "task", "stride", "imgsz", "names"}), nil
}

// figureOutputs are the per-cell maps [1,1,G,G] of the figure finder: box
// centre and size in input pixels, and the detection score (non-zero only at
// a figure's anchor cell).
type figureOutputs struct{ cx, cy, w, h, score string }

// figures builds steps 1–3 (colour key, anchors, extents) shared by the
// detect and pose models.
func (b *builder) figures(S int64, backboneGFLOPs float64) figureOutputs {
	G := S / stride
	cells := G * G
	// 1. colour key → occupied cells.
	key := b.op("Conv", []string{"images", b.init(shape(1, 3, 1, 1), floats(1, -2, 1)), b.init(shape(1), floats(-keyThreshold))}, nil)
	key = b.op("Mul", []string{key, b.scalar(20)}, nil)
	key = b.op("Clip", []string{key, b.scalar(0), b.scalar(1)}, nil)
	cover := b.op("AveragePool", []string{key}, nodeAttrs(ais("kernel_shape", stride, stride), ais("strides", stride, stride)))
	occ := b.op("Cast", []string{b.op("Greater", []string{cover, b.scalar(cellCover)}, nil)}, nodeAttrs(ai("to", typeFloat)))

	// 2. density, local maxima, confidence.
	smooth := nodeAttrs(ais("kernel_shape", 5, 5), ais("pads", 2, 2, 2, 2), ais("strides", 1, 1), ai("count_include_pad", 1))
	dens := b.op("AveragePool", []string{b.op("AveragePool", []string{occ}, smooth)}, smooth)
	ramp := make([]float32, cells) // breaks ties on plateaus so each blob has one maximum
	for i := range ramp {
		ramp[i] = 1e-4 * float32(i) / float32(cells)
	}
	densT := b.op("Add", []string{dens, b.init(shape(1, 1, G, G), ramp)}, nil)
	pw := int64(peakWindow)
	maxed := b.op("MaxPool", []string{densT}, nodeAttrs(ais("kernel_shape", pw, pw), ais("pads", pw/2, pw/2, pw/2, pw/2), ais("strides", 1, 1)))
	peak := b.op("Cast", []string{b.op("Equal", []string{densT, maxed}, nil)}, nodeAttrs(ai("to", typeFloat)))
	conf := b.op("Clip", []string{b.op("Mul", []string{dens, b.scalar(densityGain)}, nil), b.scalar(0), b.scalar(maxConfidence)}, nil)

	// 3. extents: horizontal run in a band of rows, vertical run in a band of columns.
	bh := int64(2*bandHalf + 1)
	hband := b.op("MaxPool", []string{occ}, nodeAttrs(ais("kernel_shape", bh, 1), ais("pads", bandHalf, 0, bandHalf, 0), ais("strides", 1, 1)))
	vband := b.op("MaxPool", []string{occ}, nodeAttrs(ais("kernel_shape", 1, bh), ais("pads", 0, bandHalf, 0, bandHalf), ais("strides", 1, 1)))
	left, right := b.runs(hband, G, 3)
	up, down := b.runs(vband, G, 2)

	score := b.op("Mul", []string{b.op("Mul", []string{b.op("Mul", []string{peak, conf}, nil), hband}, nil), vband}, nil)
	if backboneGFLOPs > 0 {
		score = b.op("Add", []string{score, b.backbone(S, backboneGFLOPs)}, nil)
	}

	xs := make([]float32, cells)
	ys := make([]float32, cells)
	for i := range xs {
		xs[i] = float32(int64(i) % G)
		ys[i] = float32(int64(i) / G)
	}
	gx := b.init(shape(1, 1, G, G), xs)
	gy := b.init(shape(1, 1, G, G), ys)
	half := float32(stride) / 2
	// cx = (2·x0 + 1 − left + right)·s/2, w = (left + right − 1)·s
	center := func(g, lo, hi string) string {
		v := b.op("Add", []string{b.op("Mul", []string{g, b.scalar(2)}, nil), b.scalar(1)}, nil)
		v = b.op("Add", []string{b.op("Sub", []string{v, lo}, nil), hi}, nil)
		return b.op("Mul", []string{v, b.scalar(half)}, nil)
	}
	extent := func(lo, hi string) string {
		v := b.op("Sub", []string{b.op("Add", []string{lo, hi}, nil), b.scalar(1)}, nil)
		return b.op("Mul", []string{b.op("Relu", []string{v}, nil), b.scalar(stride)}, nil)
	}
	return figureOutputs{
		cx: center(gx, left, right), cy: center(gy, up, down),
		w: extent(left, right), h: extent(up, down), score: score,
	}
}

// classNames is the Ultralytics metadata dict literal: {0: 'person', 1: 'class1', ...}.
func classNames(n int) string {
	s := "{"
	for i := range n {
		if i > 0 {
			s += ", "
		}
		name := "class" + strconv.Itoa(i)
		if i == 0 {
			name = "person"
		}
		s += strconv.Itoa(i) + ": '" + name + "'"
	}
	return s + "}"
}

// backbone is the compute-only stack: strided convolutions down to S/8, then
// as many 64→64 channel convolutions there as the budget allows, reduced to
// one number times zero.
func (b *builder) backbone(S int64, gflops float64) string {
	rng := uint64(0x9E3779B97F4A7C15)
	weights := func(out, in int64) string {
		w := make([]float32, out*in*9)
		scale := float32(1 / math.Sqrt(float64(in*9)))
		for i := range w {
			rng = rng*6364136223846793005 + 1442695040888963407
			w[i] = (float32(rng>>40)/float32(1<<24) - 0.5) * 2 * scale
		}
		return b.init(shape(out, in, 3, 3), w)
	}
	conv := func(x string, in, out, stride int64) string {
		y := b.op("Conv", []string{x, weights(out, in)}, nodeAttrs(ais("kernel_shape", 3, 3), ais("pads", 1, 1, 1, 1), ais("strides", stride, stride)))
		return b.op("Relu", []string{y}, nil)
	}
	x := conv("images", 3, 16, 2)
	x = conv(x, 16, 32, 2)
	x = conv(x, 32, 64, 2)
	cell := float64(S/8) * float64(S/8)
	stem := 2 * 9 * (3*16*cell*16 + 16*32*cell*4 + 32*64*cell) // FLOPs of the three strided convolutions
	per := 2 * 9 * 64 * 64 * cell
	for range max(0, int(math.Round((gflops*1e9-stem)/per))) {
		x = conv(x, 64, 64, 1)
	}
	m := b.op("ReduceMean", []string{x}, nodeAttrs(ai("keepdims", 1)))
	return b.op("Mul", []string{m, b.scalar(0)}, nil)
}

type builder struct {
	nodes []node
	inits []*tensor
	seq   int
}

func (b *builder) name(prefix string) string {
	b.seq++
	return prefix + "_" + strconv.Itoa(b.seq)
}

func (b *builder) op(op string, inputs []string, attrs []attr) string {
	out := b.name(op)
	b.nodes = append(b.nodes, node{op: op, name: out, inputs: inputs, outputs: []string{out}, attrs: attrs})
	return out
}

func (b *builder) init(dims []int64, data []float32) string {
	t := &tensor{name: b.name("w"), dims: dims, f: data}
	b.inits = append(b.inits, t)
	return t.name
}

func (b *builder) initInt(dims []int64, data []int64) string {
	t := &tensor{name: b.name("i"), dims: dims, i: data}
	b.inits = append(b.inits, t)
	return t.name
}

func (b *builder) scalar(v float32) string { return b.init(nil, floats(v)) }

// zeros is a float tensor of the given shape made at run time, so the model
// file does not carry megabytes of zeros.
func (b *builder) zeros(dims []int64) string {
	return b.op("ConstantOfShape", []string{b.initInt(shape(int64(len(dims))), dims)},
		nodeAttrs(at("value", &tensor{dims: shape(1), f: floats(0)})))
}

// runs measures, for every cell of the binary map m [1,1,G,G], how many
// occupied cells the contiguous run through it extends backwards (lo, itself
// included) and forwards (hi, itself included) along axis (3: x, 2: y). Both
// are 0 where the cell itself is empty.
//
// With Z = cumsum(1−m) along the axis, cells a and b lie in one run exactly
// when both are occupied and Z(a) = Z(b); counting the occupied cells with
// equal Z before and after each cell is a G×G comparison per line.
func (b *builder) runs(m string, G int64, axis int64) (lo, hi string) {
	inv := b.op("Sub", []string{b.scalar(1), m}, nil)
	z := b.op("CumSum", []string{inv, b.initInt(nil, int64s(axis))}, nil)
	// Pair axes: the anchor position p along one new axis, the other cell q along another.
	var zp, zq, mq string
	var reduce int64
	if axis == 3 {
		zp = b.op("Unsqueeze", []string{z, b.initInt(shape(1), int64s(4))}, nil) // [1,1,G,G(p),1]
		zq = b.op("Unsqueeze", []string{z, b.initInt(shape(1), int64s(3))}, nil) // [1,1,G,1,G(q)]
		mq = b.op("Unsqueeze", []string{m, b.initInt(shape(1), int64s(3))}, nil)
		reduce = 4
	} else {
		zp = b.op("Unsqueeze", []string{z, b.initInt(shape(1), int64s(3))}, nil) // [1,1,G(p),1,G]
		zq = b.op("Unsqueeze", []string{z, b.initInt(shape(1), int64s(2))}, nil) // [1,1,1,G(q),G]
		mq = b.op("Unsqueeze", []string{m, b.initInt(shape(1), int64s(2))}, nil)
		reduce = 3
	}
	same := b.op("Mul", []string{b.op("Cast", []string{b.op("Equal", []string{zp, zq}, nil)}, nodeAttrs(ai("to", typeFloat))), mq}, nil)
	lower := make([]float32, G*G)
	upper := make([]float32, G*G)
	for p := range G {
		for q := range G {
			if q <= p {
				lower[p*G+q] = 1
			}
			if q >= p {
				upper[p*G+q] = 1
			}
		}
	}
	triShape := shape(G, G) // [p, q] broadcasts over the trailing two axes for x
	if axis == 2 {
		triShape = shape(G, G, 1) // [p, q, 1] for y: axes (p, q, x)
	}
	axes := b.initInt(shape(1), int64s(reduce))
	keep := nodeAttrs(ai("keepdims", 0))
	lo = b.op("ReduceSum", []string{b.op("Mul", []string{same, b.init(triShape, lower)}, nil), axes}, keep)
	hi = b.op("ReduceSum", []string{b.op("Mul", []string{same, b.init(triShape, upper)}, nil), axes}, keep)
	lo = b.op("Mul", []string{lo, m}, nil)
	hi = b.op("Mul", []string{hi, m}, nil)
	return lo, hi
}

// Builtin names the generated models the simulator offers instead of model
// files (PERCEPTION_MODEL=builtin:…).
const (
	BuiltinDetect = "builtin:synthetic"      // PersonDetector, YOLO11 detect contract
	BuiltinPose   = "builtin:synthetic-pose" // PoseEstimator, YOLO11 pose contract
)

// Builtin returns the serialised model a builtin name stands for.
func Builtin(name string) ([]byte, error) {
	switch name {
	case BuiltinDetect:
		return PersonDetector(DefaultOptions())
	case BuiltinPose:
		return PoseEstimator(DefaultOptions())
	}
	return nil, fmt.Errorf("no built-in model %q (have %s and %s)", name, BuiltinDetect, BuiltinPose)
}

// Command is `soms modelgen [-pose] [-size N] [-classes N] FILE`: it writes a
// generated model to FILE, for perception runs (and the edge-mock compose) that
// load a model file as production does.
func Command(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("modelgen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	size := fs.Int("size", 640, "input size (multiple of 32)")
	classes := fs.Int("classes", 80, "class scores per anchor (detect model)")
	pose := fs.Bool("pose", false, "write the pose model (YOLO11 pose contract, output [1,56,N]) instead of the detect model")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: soms modelgen [-pose] [-size N] [-classes N] FILE")
	}
	out := fs.Arg(0)
	gen := PersonDetector
	if *pose {
		gen = PoseEstimator
	}
	data, err := gen(Options{Size: *size, Classes: *classes})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes, input [1,3,%d,%d])\n", out, len(data), *size, *size)
	return nil
}
