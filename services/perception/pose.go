package perception

import (
	"fmt"
	"math"
)

// Pose models. An Ultralytics YOLO11 pose export (yolo11s-pose) has one class,
// person, and lays its head out [1, 4+1+17·3 = 56, N]: per anchor cx, cy, w,
// h, the person score, then 17 COCO keypoints as (x, y, visibility), all in
// input pixels and visibility already a probability.

// Keypoint is one body keypoint in pixels with its visibility (0..1).
type Keypoint struct{ X, Y, Conf float64 }

// COCO keypoint indices (the order of a YOLO pose head).
const (
	KpNose = iota
	KpLeftEye
	KpRightEye
	KpLeftEar
	KpRightEar
	KpLeftShoulder
	KpRightShoulder
	KpLeftElbow
	KpRightElbow
	KpLeftWrist
	KpRightWrist
	KpLeftHip
	KpRightHip
	KpLeftKnee
	KpRightKnee
	KpLeftAnkle
	KpRightAnkle
	NumKeypoints
)

// PoseChannels is the channel count of a YOLO11 pose head: 4 box values, one
// person score and 17 × (x, y, visibility).
const PoseChannels = 4 + 1 + NumKeypoints*3

// Model kinds (PERCEPTION_MODEL_KIND).
const (
	KindAuto   = "auto"
	KindDetect = "detect"
	KindPose   = "pose"
)

// ResolveKind decides how to read a model's output: an explicit kind wins;
// auto takes the export's metadata task (Ultralytics writes "detect" or
// "pose"), then the output shape (56 channels is the pose head).
func ResolveKind(configured, metaTask string, outShape []int64) (string, error) {
	isPoseShape := len(outShape) == 3 && outShape[1] == PoseChannels
	switch configured {
	case KindPose:
		if !isPoseShape {
			return "", fmt.Errorf("PERCEPTION_MODEL_KIND=pose but the output shape is %v; a YOLO11 pose export has [1, %d, anchors]", outShape, PoseChannels)
		}
		return KindPose, nil
	case KindDetect:
		return KindDetect, nil
	case KindAuto, "":
		switch metaTask {
		case KindPose:
			if !isPoseShape {
				return "", fmt.Errorf("model says task=pose but its output shape is %v; want [1, %d, anchors] (17 keypoints)", outShape, PoseChannels)
			}
			return KindPose, nil
		case KindDetect:
			return KindDetect, nil
		}
		if isPoseShape {
			return KindPose, nil
		}
		return KindDetect, nil
	}
	return "", fmt.Errorf("model kind %q: want auto, detect or pose", configured)
}

// DecodeYOLOPose reads a YOLO11 pose head [1, 56, N]. Anchors whose person
// score is below minConf are dropped; each detection carries its 17
// keypoints, so NMS and Unletterbox keep them with the box.
func DecodeYOLOPose(out []float32, shape []int64, minConf float64) ([]Detection, error) {
	if len(shape) != 3 || shape[0] != 1 || shape[1] != PoseChannels {
		return nil, fmt.Errorf("pose model output shape %v: want [1, %d, anchors]", shape, PoseChannels)
	}
	n := int(shape[2])
	if len(out) != PoseChannels*n {
		return nil, fmt.Errorf("model output has %d values, shape %v needs %d", len(out), shape, PoseChannels*n)
	}
	thr := float32(minConf)
	scores := out[4*n : 5*n]
	var dets []Detection
	for i, s := range scores {
		if s < thr {
			continue
		}
		d := makeDet(ClassPerson, s, out[i], out[n+i], out[2*n+i], out[3*n+i])
		d.Keypoints = make([]Keypoint, NumKeypoints)
		for k := range d.Keypoints {
			base := (5 + 3*k) * n
			d.Keypoints[k] = Keypoint{X: float64(out[base+i]), Y: float64(out[base+n+i]), Conf: float64(out[base+2*n+i])}
		}
		dets = append(dets, d)
	}
	return dets, nil
}

// Postures read from keypoints.
const (
	PostureStanding = "standing"
	PostureSitting  = "sitting"
	PostureLying    = "lying"
)

// Keypoints below this visibility are treated as unseen (the original's 0.3).
const kpMinConf = 0.3

func visible(kps []Keypoint, i int) bool { return i < len(kps) && kps[i].Conf > kpMinConf }

func mid(a, b Keypoint) (float64, float64) { return (a.X + b.X) / 2, (a.Y + b.Y) / 2 }

// torso is the hip-midpoint → shoulder-midpoint vector and whether both
// shoulders and hips are visible.
func torso(kps []Keypoint) (hx, hy, sx, sy float64, ok bool) {
	if !visible(kps, KpLeftShoulder) || !visible(kps, KpRightShoulder) || !visible(kps, KpLeftHip) || !visible(kps, KpRightHip) {
		return 0, 0, 0, 0, false
	}
	hx, hy = mid(kps[KpLeftHip], kps[KpRightHip])
	sx, sy = mid(kps[KpLeftShoulder], kps[KpRightShoulder])
	return hx, hy, sx, sy, math.Hypot(sx-hx, sy-hy) > 0
}

// TorsoAngle is the torso's angle from vertical in degrees (0 upright, 90
// horizontal); ok is false without both shoulders and hips.
func TorsoAngle(kps []Keypoint) (float64, bool) {
	hx, hy, sx, sy, ok := torso(kps)
	if !ok {
		return 0, false
	}
	return math.Atan2(math.Abs(sx-hx), math.Abs(sy-hy)) * 180 / math.Pi, true
}

// Posture classifies a skeleton: lying when the torso is more than 60° from
// vertical (the original's fall threshold); else sitting when the thighs run
// sideways — the knees less than half a torso length below the hips — or
// standing. Without a visible torso it says nothing (ok false); without
// visible knees an upright torso counts as standing.
func Posture(kps []Keypoint) (string, bool) {
	angle, ok := TorsoAngle(kps)
	if !ok {
		return "", false
	}
	if angle > 60 {
		return PostureLying, true
	}
	hx, hy, sx, sy, _ := torso(kps)
	torsoLen := math.Hypot(sx-hx, sy-hy)
	var drop float64
	n := 0
	for _, k := range [][2]int{{KpLeftHip, KpLeftKnee}, {KpRightHip, KpRightKnee}} {
		if visible(kps, k[1]) {
			drop += kps[k[1]].Y - kps[k[0]].Y
			n++
		}
	}
	if n > 0 && drop/float64(n) < 0.5*torsoLen {
		return PostureSitting, true
	}
	return PostureStanding, true
}

// PoseSignature is the original's posture signature: every keypoint minus the
// hip midpoint, over the shoulder width, invisible keypoints as (0, 0). ok is
// false without both shoulders and hips or with (nearly) coincident shoulders.
func PoseSignature(kps []Keypoint) ([]float64, bool) {
	hx, hy, _, _, ok := torso(kps)
	if !ok || len(kps) != NumKeypoints {
		return nil, false
	}
	sw := math.Hypot(kps[KpLeftShoulder].X-kps[KpRightShoulder].X, kps[KpLeftShoulder].Y-kps[KpRightShoulder].Y)
	if sw < 1 { // under a pixel: a side view; the ratio would explode
		return nil, false
	}
	sig := make([]float64, 2*NumKeypoints)
	for i, k := range kps {
		if k.Conf > kpMinConf {
			sig[2*i], sig[2*i+1] = (k.X-hx)/sw, (k.Y-hy)/sw
		}
	}
	return sig, true
}

// poseSigDistance is the original's distance: the mean squared difference
// over keypoints non-zero in both signatures (1 — "different" — when none are).
func poseSigDistance(a, b []float64) float64 {
	var s float64
	n := 0
	for i := 0; i+1 < len(a) && i+1 < len(b); i += 2 {
		if (a[i] == 0 && a[i+1] == 0) || (b[i] == 0 && b[i+1] == 0) {
			continue
		}
		s += (a[i]-b[i])*(a[i]-b[i]) + (a[i+1]-b[i+1])*(a[i+1]-b[i+1])
		n++
	}
	if n == 0 {
		return 1
	}
	return s / float64(2*n)
}
