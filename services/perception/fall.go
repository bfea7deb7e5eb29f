package perception

import (
	"math"
	"strconv"
	"time"
)

// Fall detection follows the original's state machine per tracked person:
// normal → suspicious (score ≥ threshold) → confirmed once the score has held
// for the confirm time → one alert → recovering when the score drops, back to
// normal after the recovery time below it; at most one alert per person per
// cooldown; tracks unseen for 30 s are dropped.
//
// The original scores keypoints (torso angle, head below hips, ankle/shoulder
// ratio) plus the box and furniture. From a detect model's boxes the score is
//
//	0.60 · lying   (box aspect w/h from 1.0 → 1.8 maps 0 → 1; stands in for the
//	                torso angle and head-below-hips terms)
//	0.15 · wide    (box wider than tall, the original's aspect term)
//	0.15 · sudden  (the same person was upright, w/h < 0.8, within the last
//	                two observations or 2 s)
//	0.10 · lying   (ankle/shoulder proxy)
//	− 0.40 if the box centre lies inside a chair, couch, bed or bench
//	− 0.25 · IoU with that furniture
//
// so a person lying on the floor scores 0.85–1.0, one sitting or standing 0.
//
// A pose model's person with a visible torso (both shoulders and hips) is
// scored with the original's keypoint terms instead (PoseFallScore), and is
// "upright" when the torso is within 30° of vertical rather than by box aspect.

// FallState is a tracked person's fall state.
type FallState string

// Fall states.
const (
	FallNormal     FallState = "normal"
	FallSuspicious FallState = "suspicious"
	FallConfirmed  FallState = "fall_confirmed"
	FallAlertSent  FallState = "alert_sent"
	FallRecovering FallState = "recovering"
)

const staleTrack = 30 * time.Second

// FallScore scores one person box against the furniture in view; wasUpright
// says the same person stood upright moments ago.
func FallScore(b Box, furniture []Box, wasUpright bool) float64 {
	if b.H() <= 0 || b.W() <= 0 {
		return 0
	}
	r := b.W() / b.H()
	lying := math.Max(0, math.Min(1, (r-1.0)/0.8))
	score := 0.6*lying + 0.1*lying
	if r > 1 {
		score += 0.15
	}
	if wasUpright && lying > 0 {
		score += 0.15
	}
	cx, cy := b.Center()
	for _, f := range furniture {
		if cx >= f.X1 && cx <= f.X2 && cy >= f.Y1 && cy <= f.Y2 {
			score -= 0.40
		}
		score -= 0.25 * IoU(b, f)
	}
	return round(math.Max(0, math.Min(1, score)), 3)
}

// PoseFallScore is the original's keypoint score:
//
//	0.35 · torso angle from vertical, 60° → 90° mapping 0 → 1
//	0.25 if the head is not above the hips (by more than a quarter torso)
//	0.15 if the box is wider than tall
//	0.15 if the same person was upright moments ago and no longer is
//	0.10 if ankles and shoulders are at nearly one height (under half a torso apart)
//	− 0.40 if the hip midpoint lies inside a chair, couch, bed or bench
//	− 0.25 · IoU with that furniture
//
// ok is false without both shoulders and hips; callers then use FallScore.
func PoseFallScore(b Box, kps []Keypoint, furniture []Box, wasUpright bool) (float64, bool) {
	angle, ok := TorsoAngle(kps)
	if !ok {
		return 0, false
	}
	hx, hy, sx, sy, _ := torso(kps)
	torsoLen := math.Hypot(sx-hx, sy-hy)
	score := 0.35 * math.Max(0, math.Min(1, (angle-60)/30))
	for _, h := range []int{KpNose, KpLeftEye, KpRightEye, KpLeftEar, KpRightEar} {
		if visible(kps, h) {
			if kps[h].Y >= hy-0.25*torsoLen {
				score += 0.25
			}
			break
		}
	}
	if b.W() > b.H() {
		score += 0.15
	}
	if wasUpright && angle > 30 {
		score += 0.15
	}
	var ay float64
	n := 0
	for _, a := range []int{KpLeftAnkle, KpRightAnkle} {
		if visible(kps, a) {
			ay += kps[a].Y
			n++
		}
	}
	if n > 0 && math.Abs(ay/float64(n)-sy) < 0.5*torsoLen {
		score += 0.10
	}
	for _, f := range furniture {
		if hx >= f.X1 && hx <= f.X2 && hy >= f.Y1 && hy <= f.Y2 {
			score -= 0.40
		}
		score -= 0.25 * IoU(b, f)
	}
	return round(math.Max(0, math.Min(1, score)), 3), true
}

// upright says a person stands or sits straight: torso within 30° of
// vertical when keypoints show it, else a box clearly taller than wide.
func upright(det Detection) bool {
	if a, ok := TorsoAngle(det.Keypoints); ok {
		return a < 30
	}
	return det.Box.H() > 0 && det.Box.W()/det.Box.H() < 0.8
}

type fallTrack struct {
	id           string
	box          Box
	lastSeen     time.Time
	state        FallState
	aboveSince   time.Time // score first reached the threshold (zero: below)
	belowSince   time.Time // score first dropped below it while alerted
	lastAlert    time.Time
	lastUpright  time.Time // last seen upright (w/h < 0.8)
	sinceUpright int       // observations since then
	score        float64
}

// fallDetector tracks people across one camera's frames.
type fallDetector struct {
	zone                        string
	threshold                   float64
	confirm, recovery, cooldown time.Duration
	tracks                      []*fallTrack
	next                        int
}

func newFallDetector(zone string, c Config) *fallDetector {
	return &fallDetector{zone: zone, threshold: c.FallThreshold, confirm: c.FallConfirm, recovery: c.FallRecovery, cooldown: c.FallCooldown}
}

// observe updates the tracks with a frame and returns the alerts to publish.
func (d *fallDetector) observe(r Result, now time.Time) []FallMsg {
	var furniture []Box
	for _, o := range r.Objects {
		if furnitureClasses[o.Class] {
			furniture = append(furniture, o.Box)
		}
	}
	kept := d.tracks[:0]
	for _, t := range d.tracks {
		if now.Sub(t.lastSeen) <= staleTrack {
			kept = append(kept, t)
		}
	}
	d.tracks = kept
	prev := make([]Box, len(d.tracks))
	for i, t := range d.tracks {
		prev[i] = t.box
	}
	cur := make([]Box, len(r.Persons))
	for i, p := range r.Persons {
		cur[i] = p.Box
	}
	matched := map[int]*fallTrack{}
	for _, pr := range matchBoxes(prev, cur) {
		matched[pr[1]] = d.tracks[pr[0]]
	}
	var alerts []FallMsg
	for j, det := range r.Persons {
		t := matched[j]
		if t == nil {
			d.next++
			t = &fallTrack{id: "t" + strconv.Itoa(d.next), state: FallNormal}
			d.tracks = append(d.tracks, t)
		}
		t.box, t.lastSeen = det.Box, now
		if m, ok := d.step(t, det, furniture, now); ok {
			alerts = append(alerts, m)
		}
	}
	return alerts
}

func (d *fallDetector) step(t *fallTrack, det Detection, furniture []Box, now time.Time) (FallMsg, bool) {
	b := det.Box
	t.sinceUpright++
	wasUpright := !t.lastUpright.IsZero() && (now.Sub(t.lastUpright) <= 2*time.Second || t.sinceUpright <= 2)
	if upright(det) {
		t.lastUpright, t.sinceUpright = now, 0
	}
	var ok bool
	if t.score, ok = PoseFallScore(b, det.Keypoints, furniture, wasUpright); !ok {
		t.score = FallScore(b, furniture, wasUpright)
	}
	above := t.score >= d.threshold
	switch t.state {
	case FallNormal, FallSuspicious:
		if !above {
			t.state, t.aboveSince = FallNormal, time.Time{}
			return FallMsg{}, false
		}
		if t.aboveSince.IsZero() {
			t.aboveSince = now
		}
		t.state = FallSuspicious
		if now.Sub(t.aboveSince) < d.confirm {
			return FallMsg{}, false
		}
		t.state = FallConfirmed
		fallthrough
	case FallConfirmed:
		if !t.lastAlert.IsZero() && now.Sub(t.lastAlert) < d.cooldown {
			return FallMsg{}, false // confirmed again within the cooldown: stay quiet
		}
		t.state, t.lastAlert, t.belowSince = FallAlertSent, now, time.Time{}
		return FallMsg{Zone: d.zone, Confidence: t.score, DurationSec: round(now.Sub(t.aboveSince).Seconds(), 1),
			BBox: bbox(b), TrackerID: t.id, Timestamp: Timestamp(now)}, true
	case FallAlertSent, FallRecovering:
		if above {
			t.state, t.belowSince = FallAlertSent, time.Time{}
			return FallMsg{}, false
		}
		if t.belowSince.IsZero() {
			t.belowSince = now
		}
		t.state = FallRecovering
		if now.Sub(t.belowSince) >= d.recovery {
			t.state, t.aboveSince = FallNormal, time.Time{}
		}
	}
	return FallMsg{}, false
}
