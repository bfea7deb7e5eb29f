package modelgen

import "fmt"

// Keypoints is the number of COCO keypoints a YOLO11 pose export predicts.
const Keypoints = 17

// Box aspects (w/h) of the figure finder's boxes on the virtual camera's
// figures: standing and walking 0.27–0.40, sitting 0.50–0.71, fallen
// 3.75–4.8. The pose head picks its skeleton template by these cuts.
const (
	sittingAspect = 0.45
	lyingAspect   = 1.2
)

// Skeleton templates: each COCO keypoint (nose, eyes, ears, shoulders,
// elbows, wrists, hips, knees, ankles; left before right) as a fraction of
// the box (u across from the left edge, v down from the top), measured on
// sim/camera's figures. The person's left is the image's right (facing the
// camera); the sitting figure faces right in profile; the fallen one lies
// with the head to the right.
var (
	standingU = [Keypoints]float32{.50, .58, .42, .69, .31, .83, .17, .86, .14, .88, .12, .66, .34, .66, .34, .67, .33}
	standingV = [Keypoints]float32{.08, .06, .06, .07, .07, .21, .21, .37, .37, .53, .53, .50, .50, .75, .75, .95, .95}
	sittingU  = [Keypoints]float32{.41, .39, .37, .31, .31, .39, .23, .52, .49, .65, .60, .33, .31, .81, .79, .84, .79}
	sittingV  = [Keypoints]float32{.085, .06, .06, .08, .08, .24, .24, .40, .40, .53, .55, .60, .58, .60, .58, .94, .94}
	lyingU    = [Keypoints]float32{.92, .94, .94, .93, .93, .80, .80, .63, .63, .47, .47, .51, .51, .26, .26, .06, .06}
	lyingV    = [Keypoints]float32{.47, .54, .41, .64, .31, .76, .19, .79, .16, .81, .14, .61, .33, .61, .33, .62, .32}
)

// keypointVisibility is the visibility every synthetic keypoint reports.
const keypointVisibility = 0.9

// PoseEstimator returns a model with the contract of an Ultralytics YOLO11
// pose export: input "images" [1,3,S,S], output "output0" [1,56,N] with, per
// anchor, cx, cy, w, h, the person score, then 17 keypoints as (x, y,
// visibility) in input pixels. Boxes and scores come from the same figure
// finder as PersonDetector; the keypoints are a skeleton template —
// standing, sitting or lying, chosen by the box's aspect — stretched over
// the box. Options.Classes is ignored (a pose model has one class).
func PoseEstimator(o Options) ([]byte, error) {
	if o.Size <= 0 || o.Size%32 != 0 {
		return nil, fmt.Errorf("modelgen: size %d is not a positive multiple of 32", o.Size)
	}
	S := int64(o.Size)
	G := S / stride
	cells := G * G
	extra := (S/16)*(S/16) + (S/32)*(S/32)
	const K = Keypoints

	b := &builder{}
	f := b.figures(S, o.BackboneGFLOPs)

	// one-hot template choice per cell from the box aspect
	ratio := b.op("Div", []string{f.w, b.op("Add", []string{f.h, b.scalar(1e-3)}, nil)}, nil)
	above := func(v float32) string {
		return b.op("Cast", []string{b.op("Greater", []string{ratio, b.scalar(v)}, nil)}, nodeAttrs(ai("to", typeFloat)))
	}
	notUpright, lying := above(sittingAspect), above(lyingAspect)
	standing := b.op("Sub", []string{b.scalar(1), notUpright}, nil)
	sitting := b.op("Sub", []string{notUpright, lying}, nil)
	tmpl := func(a [K]float32) string { return b.init(shape(1, K, 1, 1), a[:]) }
	blend := func(st, si, ly [K]float32) string { // [1,K,G,G]
		v := b.op("Mul", []string{standing, tmpl(st)}, nil)
		v = b.op("Add", []string{v, b.op("Mul", []string{sitting, tmpl(si)}, nil)}, nil)
		return b.op("Add", []string{v, b.op("Mul", []string{lying, tmpl(ly)}, nil)}, nil)
	}
	// x = cx + (u − ½)·w, y = cy + (v − ½)·h
	place := func(c, size, frac string) string {
		return b.op("Add", []string{c, b.op("Mul", []string{b.op("Sub", []string{frac, b.scalar(0.5)}, nil), size}, nil)}, nil)
	}
	kx := place(f.cx, f.w, blend(standingU, sittingU, lyingU))
	ky := place(f.cy, f.h, blend(standingV, sittingV, lyingV))
	kv := b.op("Add", []string{b.op("Mul", []string{kx, b.scalar(0)}, nil), b.scalar(keypointVisibility)}, nil)
	axis2 := b.initInt(shape(1), int64s(2))
	unsq := func(x string) string { return b.op("Unsqueeze", []string{x, axis2}, nil) } // [1,K,1,G,G]
	kps := b.op("Concat", []string{unsq(kx), unsq(ky), unsq(kv)}, nodeAttrs(ai("axis", 2)))
	kps = b.op("Reshape", []string{kps, b.initInt(shape(3), int64s(1, 3*K, cells))}, nil)

	five := b.op("Concat", []string{f.cx, f.cy, f.w, f.h, f.score}, nodeAttrs(ai("axis", 1)))
	five = b.op("Reshape", []string{five, b.initInt(shape(3), int64s(1, 5, cells))}, nil)
	head := b.op("Concat", []string{five, kps}, nodeAttrs(ai("axis", 1)))
	out := "output0"
	ch := int64(5 + 3*K)
	b.nodes = append(b.nodes, node{op: "Concat", name: "output", inputs: []string{head, b.zeros(int64s(1, ch, extra))}, outputs: []string{out}, attrs: nodeAttrs(ai("axis", 2))})

	meta := map[string]string{
		"task":      "pose",
		"imgsz":     fmt.Sprintf("[%d, %d]", S, S),
		"stride":    "32",
		"names":     "{0: 'person'}",
		"kpt_shape": "[17, 3]",
		"author":    "soms modelgen (synthetic pose estimator for the virtual camera)",
	}
	doc := "Synthetic YOLO11-pose-compatible person and keypoint model keyed to the SOMS virtual camera's figures; not a trained model."
	return model("soms_synthetic_pose", doc, 17, b.nodes, b.inits,
		valueInfo("images", shape(1, 3, S, S)), valueInfo(out, shape(1, ch, cells+extra)),
		meta, []string{"author", "task", "stride", "imgsz", "names", "kpt_shape"}), nil
}
