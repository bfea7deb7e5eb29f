package perception

import (
	"math"
	"time"
)

// The activity monitor follows the original's two measures over a tiered
// buffer of posture samples:
//
//   - activity level: how fast people move — the mean, over consecutive raw
//     samples, of their displacement relative to the frame diagonal per
//     second, capped at 1 — and its class (idle < 0.002 ≤ low < 0.01 ≤
//     moderate < 0.04 ≤ high);
//   - posture duration: how long the main person's posture signature has
//     stayed within a small distance of the newest one, walking back through
//     raw samples (60 s) and then the consolidated tiers (10 s buckets for
//     10 min, 60 s for 1 h, 300 s for 4 h): ≥ 1200 s static, ≥ 600 s
//     mostly_static, else changing.
//
// The main person is the largest in view when there was none before, and
// then the same person — matched frame to frame like the activity level's
// boxes — for as long as they stay in view: two people of about one size (two
// at their desks) would otherwise swap places as "largest" with every bit of
// sensor or compression noise, and each swap would read as a posture change.
//
// With a pose model the signature is the original's: the main
// person's keypoints minus the hip midpoint over the shoulder width (same
// posture: mean squared distance < 0.05), and displacement is the mean
// movement of the keypoints seen in both frames. A detect model gives boxes,
// so there — and for a person whose shoulders and hips are not both visible —
// the signature is the main person's box (centre, width and height over the
// frame diagonal; same posture: RMS distance < 0.01) and displacement is
// that of box corners. A person who sits still keeps a steady box; standing
// up, lying down or walking changes it.

// Activity classes and posture states.
const (
	ClassIdle     = "idle"
	ClassLow      = "low"
	ClassModerate = "moderate"
	ClassHigh     = "high"

	PostureStatic       = "static"
	PostureMostlyStatic = "mostly_static"
	PostureChanging     = "changing"
	PostureUnknown      = "unknown" // nobody in view
)

const (
	rawWindow      = 60 * time.Second
	postureMatch   = 0.01 // RMS box-signature distance below which the posture is the same
	poseMatch      = 0.05 // the original's keypoint-signature distance for the same posture
	staticAfter    = 1200 * time.Second
	mostlyStaticAt = 600 * time.Second
)

// tierSpecs are the consolidation tiers: bucket length and how long buckets are kept.
var tierSpecs = [3]struct{ res, keep time.Duration }{
	{10 * time.Second, 10 * time.Minute},
	{60 * time.Second, time.Hour},
	{300 * time.Second, 4 * time.Hour},
}

// sample is one analysed frame as the activity monitor keeps it.
type sample struct {
	at     time.Time
	ok     bool      // a person was in view
	sig    []float64 // box signature (4 values) or keypoint signature (34)
	pose   bool      // sig is a keypoint signature
	boxes  []Box
	kps    [][]Keypoint // per box; nil entries from a detect model
	diag   float64
	people int
}

type tier struct {
	entries []sample
	pending []sample
	start   time.Time
}

// postureBuffer is the tiered history of one camera.
type postureBuffer struct {
	raw   []sample
	tiers [3]tier
}

func (b *postureBuffer) push(s sample) {
	b.raw = append(b.raw, s)
	cut := 0
	for cut < len(b.raw) && s.at.Sub(b.raw[cut].at) > rawWindow {
		cut++
	}
	b.raw = b.raw[cut:]
	b.pushTier(0, s)
}

// pushTier adds s to tier i's open bucket. A bucket covers the tier's
// resolution from its first sample; the first sample beyond it closes the
// bucket into one averaged entry (which feeds the next tier) and opens the next.
func (b *postureBuffer) pushTier(i int, s sample) {
	t := &b.tiers[i]
	if len(t.pending) > 0 && s.at.Sub(t.start) >= tierSpecs[i].res {
		e := consolidate(t.pending)
		t.pending = nil
		t.entries = append(t.entries, e)
		cut := 0
		for cut < len(t.entries) && s.at.Sub(t.entries[cut].at) > tierSpecs[i].keep {
			cut++
		}
		t.entries = t.entries[cut:]
		if i+1 < len(b.tiers) {
			b.pushTier(i+1, e)
		}
	}
	if len(t.pending) == 0 {
		t.start = s.at
	}
	t.pending = append(t.pending, s)
}

// consolidate averages the signatures of the samples with a person in view;
// the entry is dated at the bucket's first sample, so a posture held through
// a bucket counts from its start.
//
// Samples of the other signature kind than the bucket's first are left out,
// and keypoint signatures average each keypoint over the samples that saw it.
func consolidate(ss []sample) sample {
	e := sample{at: ss[0].at}
	n := 0
	var counts []int
	for _, s := range ss {
		if !s.ok {
			continue
		}
		if e.sig == nil {
			e.sig, e.pose = make([]float64, len(s.sig)), s.pose
			counts = make([]int, len(s.sig))
		}
		if s.pose != e.pose || len(s.sig) != len(e.sig) {
			continue
		}
		for k := 0; k+1 < len(s.sig); k += 2 {
			if s.pose && s.sig[k] == 0 && s.sig[k+1] == 0 {
				continue // keypoint unseen in this sample
			}
			e.sig[k] += s.sig[k]
			e.sig[k+1] += s.sig[k+1]
			counts[k]++
		}
		n++
	}
	if n > 0 && n*2 >= len(ss) { // a bucket mostly without anyone is "nobody"
		for k := 0; k+1 < len(e.sig); k += 2 {
			if counts[k] > 0 {
				e.sig[k] /= float64(counts[k])
				e.sig[k+1] /= float64(counts[k])
			}
		}
		e.ok = true
	}
	return e
}

func (b *postureBuffer) depth() BufferDepth {
	return BufferDepth{Raw: len(b.raw), Tier1: len(b.tiers[0].entries), Tier2: len(b.tiers[1].entries), Tier3: len(b.tiers[2].entries)}
}

// postureDuration walks back from the newest sample while the signature
// stays the same, through raw samples and then ever coarser tiers.
func (b *postureBuffer) postureDuration() (time.Duration, string) {
	if len(b.raw) == 0 || !b.raw[len(b.raw)-1].ok {
		return 0, PostureUnknown
	}
	newest := b.raw[len(b.raw)-1]
	oldest := newest.at
	walk := func(entries []sample) bool {
		for i := len(entries) - 1; i >= 0; i-- {
			e := entries[i]
			if !e.at.Before(oldest) {
				continue // the newest sample itself, or covered by a finer level
			}
			if !e.ok || !samePosture(e, newest) {
				return false
			}
			oldest = e.at
		}
		return true
	}
	if walk(b.raw) {
		for i := range b.tiers {
			if !walk(b.tiers[i].entries) {
				break
			}
		}
	}
	d := newest.at.Sub(oldest)
	switch {
	case d >= staticAfter:
		return d, PostureStatic
	case d >= mostlyStaticAt:
		return d, PostureMostlyStatic
	}
	return d, PostureChanging
}

// activityLevel is the mean per-second displacement over consecutive raw samples.
func (b *postureBuffer) activityLevel() float64 {
	var sum float64
	n := 0
	for i := 1; i < len(b.raw); i++ {
		a, c := b.raw[i-1], b.raw[i]
		dt := c.at.Sub(a.at).Seconds()
		if dt <= 0 || len(a.boxes) == 0 || len(c.boxes) == 0 {
			continue
		}
		var disp float64
		pairs := matchBoxes(a.boxes, c.boxes)
		if len(pairs) == 0 {
			continue
		}
		for _, p := range pairs {
			if d, ok := keypointDisplacement(a.kpsAt(p[0]), c.kpsAt(p[1])); ok {
				disp += d
			} else {
				disp += cornerDisplacement(a.boxes[p[0]], c.boxes[p[1]])
			}
		}
		sum += disp / float64(len(pairs)) / c.diag / dt
		n++
	}
	if n == 0 {
		return 0
	}
	return round(math.Min(1, sum/float64(n)), 4)
}

// ActivityClass buckets an activity level.
func ActivityClass(level float64) string {
	switch {
	case level < 0.002:
		return ClassIdle
	case level < 0.01:
		return ClassLow
	case level < 0.04:
		return ClassModerate
	}
	return ClassHigh
}

func cornerDisplacement(a, b Box) float64 {
	d := func(x1, y1, x2, y2 float64) float64 { return math.Hypot(x2-x1, y2-y1) }
	return (d(a.X1, a.Y1, b.X1, b.Y1) + d(a.X2, a.Y1, b.X2, b.Y1) + d(a.X1, a.Y2, b.X1, b.Y2) + d(a.X2, a.Y2, b.X2, b.Y2)) / 4
}

func (s sample) kpsAt(i int) []Keypoint {
	if i < len(s.kps) {
		return s.kps[i]
	}
	return nil
}

// keypointDisplacement is the mean movement of the keypoints visible in both
// skeletons; ok is false when they share none.
func keypointDisplacement(a, b []Keypoint) (float64, bool) {
	var sum float64
	n := 0
	for i := range min(len(a), len(b)) {
		if visible(a, i) && visible(b, i) {
			sum += math.Hypot(b[i].X-a[i].X, b[i].Y-a[i].Y)
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// samePosture compares two signatures of one kind; a box and a keypoint
// signature never match.
func samePosture(a, b sample) bool {
	if a.pose != b.pose || len(a.sig) != len(b.sig) {
		return false
	}
	if a.pose {
		return poseSigDistance(a.sig, b.sig) < poseMatch
	}
	return sigDistance(a.sig, b.sig) < postureMatch
}

func sigDistance(a, b []float64) float64 {
	var s float64
	for k := range a {
		s += (a[k] - b[k]) * (a[k] - b[k])
	}
	return math.Sqrt(s / float64(max(1, len(a))))
}

// matchBoxes pairs boxes of consecutive frames greedily by centre distance,
// accepting a pair only when the centres are closer than the larger box side.
func matchBoxes(prev, cur []Box) [][2]int {
	type cand struct {
		i, j int
		d    float64
	}
	var cs []cand
	for i, a := range prev {
		ax, ay := a.Center()
		for j, b := range cur {
			bx, by := b.Center()
			d := math.Hypot(ax-bx, ay-by)
			if d <= math.Max(math.Max(a.W(), a.H()), math.Max(b.W(), b.H())) {
				cs = append(cs, cand{i, j, d})
			}
		}
	}
	// few people per camera: selection sort is fine and keeps it deterministic
	usedI, usedJ := map[int]bool{}, map[int]bool{}
	var out [][2]int
	for {
		best := -1
		for k, c := range cs {
			if usedI[c.i] || usedJ[c.j] {
				continue
			}
			if best < 0 || c.d < cs[best].d {
				best = k
			}
		}
		if best < 0 {
			return out
		}
		usedI[cs[best].i], usedJ[cs[best].j] = true, true
		out = append(out, [2]int{cs[best].i, cs[best].j})
	}
}

// activityMonitor is one camera's activity state.
type activityMonitor struct {
	zone string
	buf  postureBuffer
	fall *fallDetector

	main    Box  // the main person's box in the previous sample
	hasMain bool // someone was in view then
}

// mainPerson keeps following the previous sample's main person while they
// are in view, else takes the largest.
func (m *activityMonitor) mainPerson(persons []Detection) Detection {
	if m.hasMain {
		boxes := make([]Box, len(persons))
		for i, p := range persons {
			boxes[i] = p.Box
		}
		if pairs := matchBoxes([]Box{m.main}, boxes); len(pairs) > 0 {
			return persons[pairs[0][1]]
		}
	}
	var main Detection
	for _, p := range persons {
		if p.Box.Area() > main.Box.Area() {
			main = p
		}
	}
	return main
}

// observe adds a frame's result and returns the activity message.
func (m *activityMonitor) observe(r Result, now time.Time) ActivityMsg {
	diag := math.Hypot(float64(r.Width), float64(r.Height))
	s := sample{at: now, diag: diag, people: len(r.Persons)}
	for _, p := range r.Persons {
		s.boxes = append(s.boxes, p.Box)
		s.kps = append(s.kps, p.Keypoints)
	}
	main := m.mainPerson(r.Persons)
	m.main, m.hasMain = main.Box, len(r.Persons) > 0
	if len(r.Persons) > 0 && diag > 0 {
		s.ok = true
		if sig, ok := PoseSignature(main.Keypoints); ok {
			s.sig, s.pose = sig, true
		} else {
			cx, cy := main.Box.Center()
			s.sig = []float64{cx / diag, cy / diag, main.Box.W() / diag, main.Box.H() / diag}
		}
	}
	m.buf.push(s)
	level := m.buf.activityLevel()
	d, status := m.buf.postureDuration()
	return ActivityMsg{
		Zone: m.zone, PersonCount: len(r.Persons),
		ActivityLevel: level, ActivityClass: ActivityClass(level),
		PostureDurationSec: round(d.Seconds(), 1), PostureStatus: status,
		BufferDepth: m.buf.depth(), Timestamp: Timestamp(now),
	}
}
