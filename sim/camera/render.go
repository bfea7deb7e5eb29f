package camera

import (
	"hash/fnv"
	"image"
	"image/color"
	"math"
	"slices"
	"time"

	"github.com/somsgo/soms/sim/scene"
)

// Geometry of the view: a wall at the back, the floor in front. A person's
// floor position (x, y in 0..1) maps to the image column x·W and the image row
// of their feet between the far line (y=0) and the near line (y=1); nearer
// people are drawn larger.
const (
	farLine      = 0.45 // image row (fraction of H) of feet at y=0
	nearLine     = 0.95 // image row of feet at y=1
	farScale     = 0.6  // figure size at y=0 relative to y=1
	figureHeight = 0.40 // standing height at y=1 as a fraction of H
	wallBottom   = 0.42 // where the wall meets the floor
)

// DefaultFurniture is drawn when a scene has none: a whiteboard and a door
// on the back wall, two desks with chairs. Like people, furniture is placed on
// the floor plan (x across the view, y from the back wall to the camera, 0..1);
// wall items (whiteboard, door, window) use only x and w.
func DefaultFurniture() []scene.Item {
	return []scene.Item{
		{Kind: "whiteboard", X: 0.34, W: 0.32},
		{Kind: "door", X: 0.88, W: 0.09},
		{Kind: "desk", X: 0.05, Y: 0.3, W: 0.22, H: 0.15},
		{Kind: "desk", X: 0.73, Y: 0.3, W: 0.22, H: 0.15},
	}
}

// actor is a person as drawn: where they stand now, which can differ from the
// scene while they walk in or out.
type actor struct {
	scene.Person
	phase float64 // per-person animation phase from the seed
	shirt color.RGBA
	// drawn position and posture this frame
	x, y    float64
	posture scene.Posture
}

// render draws the room and actors into img (any size). t is seconds since
// the camera started and animates breathing, swaying and walking.
func render(img *image.RGBA, furniture []scene.Item, actors []actor, t float64) {
	b := img.Bounds()
	W, H := float64(b.Dx()), float64(b.Dy())
	c := canvas{img}
	c.rect(0, 0, W, H*wallBottom, colWall)
	c.rect(0, H*wallBottom, W, H, colFloor)
	c.rect(0, H*wallBottom-3, W, H*wallBottom+2, colSkirting)
	if furniture == nil {
		furniture = DefaultFurniture()
	}
	for _, it := range furniture {
		drawItem(c, it, W, H)
	}
	order := spread(slices.Clone(actors), W, H)
	slices.SortStableFunc(order, func(a, b actor) int { return cmpFloat(a.y, b.y) })
	for _, a := range order {
		drawPerson(c, a, W, H, t)
	}
}

// spread nudges figures sideways so that no two overlap in the picture. The
// scene may put two people at nearly the same spot (the edge places them at
// random); a camera would then see one blob, while every sensor counts two.
// Keeping them apart keeps camera and sensors in agreement.
func spread(actors []actor, W, H float64) []actor {
	if len(actors) < 2 {
		return actors
	}
	const gap = 10.0 // pixels between neighbours
	half := func(a actor) float64 {
		_, _, u := figure(a.x, a.y, W, H)
		switch a.posture {
		case scene.Fallen:
			return 4.6 * u
		case scene.Sitting:
			return 2.6 * u
		}
		return 1.6 * u
	}
	slices.SortStableFunc(actors, func(a, b actor) int { return cmpFloat(a.x, b.x) })
	xs := make([]float64, len(actors))
	for i, a := range actors {
		xs[i] = a.x * W
	}
	for i := 1; i < len(actors); i++ { // push right
		if lo := xs[i-1] + half(actors[i-1]) + gap + half(actors[i]); xs[i] < lo {
			xs[i] = lo
		}
	}
	for i := len(actors) - 1; i >= 0; i-- { // pull back inside the view
		hi := W - half(actors[i])
		if i < len(actors)-1 {
			hi = min(hi, xs[i+1]-half(actors[i+1])-gap-half(actors[i]))
		}
		xs[i] = min(xs[i], hi)
	}
	for i := range actors {
		actors[i].x = xs[i] / W
	}
	return actors
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func drawItem(c canvas, it scene.Item, W, H float64) {
	x0, x1 := it.X*W, (it.X+it.W)*W
	wall := H * wallBottom
	switch it.Kind {
	case "whiteboard":
		y0, y1 := H*0.08, H*0.3
		c.rect(x0-4, y0-4, x1+4, y1+4, colBoardFrame)
		c.rect(x0, y0, x1, y1, colBoard)
		// a few lines of writing and a box diagram
		for i := range 4 {
			yy := y0 + (y1-y0)*(0.18+0.14*float64(i))
			c.rect(x0+(x1-x0)*0.08, yy, x0+(x1-x0)*(0.45+0.08*float64(i%2)), yy+2, colInkBlack)
		}
		fx0, fx1 := x0+(x1-x0)*0.6, x0+(x1-x0)*0.9
		fy0, fy1 := y0+(y1-y0)*0.2, y0+(y1-y0)*0.72
		c.rect(fx0, fy0, fx1, fy0+2, colInkGreen)
		c.rect(fx0, fy1-2, fx1, fy1, colInkGreen)
		c.rect(fx0, fy0, fx0+2, fy1, colInkGreen)
		c.rect(fx1-2, fy0, fx1, fy1, colInkGreen)
	case "door":
		c.rect(x0, wall-H*0.33, x1, wall, colDoor)
		c.rect(x0+(x1-x0)*0.75, wall-H*0.17, x0+(x1-x0)*0.85, wall-H*0.15, colDeskLeg)
	case "window":
		c.rect(x0, H*0.06, x1, H*0.28, colBoardFrame)
		c.rect(x0+3, H*0.06+3, x1-3, H*0.28-3, color.RGBA{200, 215, 230, 255})
	default: // desk, table, counter, chair: a top at seat or desk height, and legs
		_, far, uf := figure(0, it.Y, W, H)
		_, near, un := figure(0, min(1, it.Y+it.H), W, H)
		height, col := 3.0, colDesk
		if it.Kind == "chair" {
			height, col = 1.8, colChair
		}
		top0, top1 := far-height*uf, near-height*un
		c.rect(x0, top0, x1, max(top1, top0+4), col)
		legW := max(3, 0.25*un)
		c.rect(x0+2, top1, x0+2+legW, near, colDeskLeg)
		c.rect(x1-2-legW, top1, x1-2, near, colDeskLeg)
	}
}

// joint positions of a figure in units of an eighth of its standing height,
// relative to the point between its feet, y pointing down (up is negative).
type pose struct {
	head, neck, pelvis                     pt
	shoulderL, shoulderR, handL, handR     pt
	hipL, hipR, kneeL, kneeR, footL, footR pt
	headR, torsoR, armR, legR              float64
	chair                                  bool
}

type pt struct{ x, y float64 }

// poseFor builds the skeleton of a posture at animation time t (seconds);
// motion (0..1) scales swaying and the walking cycle.
func poseFor(p scene.Posture, motion, phase, t float64) pose {
	sway := 0.12 * motion * math.Sin(2*math.Pi*(0.7*t)+phase)
	breathe := 0.04 * math.Sin(2*math.Pi*0.25*t+phase)
	q := pose{headR: 0.55, torsoR: 0.85, armR: 0.28, legR: 0.34}
	switch p {
	case scene.Sitting:
		q.head = pt{sway, -5.9 + breathe}
		q.neck = pt{sway, -5.2}
		q.pelvis = pt{0, -2.7}
		q.shoulderL, q.shoulderR = pt{-0.3 + sway, -4.9}, pt{0.3 + sway, -4.9}
		q.handL, q.handR = pt{1.1, -2.9}, pt{1.3, -3.0}
		q.hipL, q.hipR = pt{0, -2.7}, pt{0.1, -2.6}
		q.kneeL, q.kneeR = pt{1.8, -2.7}, pt{1.9, -2.6}
		q.footL, q.footR = pt{1.8, -0.2}, pt{2.0, -0.2}
		q.chair = true
	default: // standing, walking; fallen is a rotated standing figure
		swing := 0.0
		if p == scene.Walking {
			swing = (0.5 + 0.5*motion) * math.Sin(2*math.Pi*(0.6+1.2*motion)*t+phase)
		}
		q.head = pt{sway, -7.4 + breathe}
		q.neck = pt{sway, -6.7}
		q.pelvis = pt{sway / 2, -4.0}
		q.shoulderL, q.shoulderR = pt{-0.85 + sway, -6.3}, pt{0.85 + sway, -6.3}
		q.handL, q.handR = pt{-1.0 - 0.6*swing, -3.7}, pt{1.0 + 0.6*swing, -3.7}
		q.hipL, q.hipR = pt{-0.42, -4.0}, pt{0.42, -4.0}
		q.kneeL, q.kneeR = pt{-0.42 + 0.5*swing, -2.0}, pt{0.42 - 0.5*swing, -2.0}
		q.footL, q.footR = pt{-0.45 + 1.0*swing, -0.2}, pt{0.45 - 1.0*swing, -0.2}
		if p == scene.Fallen {
			q = q.lying()
		}
	}
	return q
}

// lying turns a standing skeleton on its side: head to the left, feet to
// the right, on the floor.
func (q pose) lying() pose {
	f := func(a pt) pt { return pt{-(a.y + 4), a.x*0.6 - 0.95} }
	q.head, q.neck, q.pelvis = f(q.head), f(q.neck), f(q.pelvis)
	q.shoulderL, q.shoulderR, q.handL, q.handR = f(q.shoulderL), f(q.shoulderR), f(q.handL), f(q.handR)
	q.hipL, q.hipR, q.kneeL, q.kneeR, q.footL, q.footR = f(q.hipL), f(q.hipR), f(q.kneeL), f(q.kneeR), f(q.footL), f(q.footR)
	return q
}

// figure returns where a person at floor position (x, y) stands in the image
// and how big one unit (an eighth of their standing height) is in pixels.
func figure(x, y, W, H float64) (px, py, unit float64) {
	px = x * W
	py = H * (farLine + (nearLine-farLine)*y)
	scale := farScale + (1-farScale)*y
	unit = figureHeight * H * scale / 8
	return px, py, unit
}

func drawPerson(c canvas, a actor, W, H, t float64) {
	px, py, u := figure(a.x, a.y, W, H)
	q := poseFor(a.posture, a.Motion, a.phase, t)
	at := func(p pt) pt { return pt{px + p.x*u, py + p.y*u} }
	// a soft shadow on the floor grounds the figure without touching the key
	c.ellipse(px, py, 1.4*u, 0.3*u, colShadow)
	if q.chair {
		c.rect(px-1.2*u, py-5.2*u, px-0.6*u, py-2.2*u, colChair)
		c.rect(px-1.2*u, py-2.6*u, px+2.2*u, py-2.0*u, colChair)
		c.rect(px+1.4*u, py-2.0*u, px+1.6*u, py, colChair)
		c.rect(px-1.1*u, py-2.0*u, px-0.9*u, py, colChair)
	}
	leg := func(hip, knee, foot pt) {
		c.capsule(at(hip), at(knee), q.legR*u, colTrousers)
		c.capsule(at(knee), at(foot), q.legR*u, colTrousers)
		c.capsule(at(foot), at(pt{foot.x + 0.35, foot.y}), 0.22*u, colShoes)
	}
	leg(q.hipL, q.kneeL, q.footL)
	leg(q.hipR, q.kneeR, q.footR)
	c.capsule(at(q.neck), at(q.pelvis), q.torsoR*u, a.shirt)
	c.capsule(at(q.shoulderL), at(q.handL), q.armR*u, a.shirt)
	c.capsule(at(q.shoulderR), at(q.handR), q.armR*u, a.shirt)
	c.capsule(at(q.handL), at(q.handL), 0.25*u, colSkin)
	c.capsule(at(q.handR), at(q.handR), 0.25*u, colSkin)
	c.capsule(at(q.neck), at(q.head), 0.3*u, colSkin)
	c.capsule(at(q.head), at(q.head), q.headR*u, colSkin)
	// hair: a cap on the back of the head, towards the top (or the left when lying)
	hair := pt{q.head.x, q.head.y - 0.22}
	if a.posture == scene.Fallen {
		hair = pt{q.head.x - 0.22, q.head.y}
	}
	c.capsule(at(hair), at(hair), q.headR*0.75*u, colHair)
}

// shirtFor picks a person's shirt colour and animation phase from their id and
// the seed, so the same scene always looks the same.
func shirtFor(id string, seed uint64) (color.RGBA, float64) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	v := h.Sum64() ^ seed*0x9E3779B97F4A7C15
	return shirts[v%uint64(len(shirts))], float64(v>>32%1000) / 1000 * 2 * math.Pi
}

// canvas draws filled shapes straight into an RGBA buffer.
type canvas struct{ img *image.RGBA }

func (c canvas) set(x, y int, col color.RGBA) {
	i := c.img.PixOffset(x, y)
	c.img.Pix[i], c.img.Pix[i+1], c.img.Pix[i+2], c.img.Pix[i+3] = col.R, col.G, col.B, 255
}

func (c canvas) clip(x0, y0, x1, y1 float64) (int, int, int, int) {
	b := c.img.Bounds()
	return max(int(math.Floor(x0)), b.Min.X), max(int(math.Floor(y0)), b.Min.Y),
		min(int(math.Ceil(x1)), b.Max.X), min(int(math.Ceil(y1)), b.Max.Y)
}

func (c canvas) rect(x0, y0, x1, y1 float64, col color.RGBA) {
	ix0, iy0, ix1, iy1 := c.clip(x0, y0, x1, y1)
	for y := iy0; y < iy1; y++ {
		for x := ix0; x < ix1; x++ {
			c.set(x, y, col)
		}
	}
}

func (c canvas) ellipse(cx, cy, rx, ry float64, col color.RGBA) {
	ix0, iy0, ix1, iy1 := c.clip(cx-rx, cy-ry, cx+rx, cy+ry)
	for y := iy0; y < iy1; y++ {
		for x := ix0; x < ix1; x++ {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			if dx*dx+dy*dy <= 1 {
				c.set(x, y, col)
			}
		}
	}
}

// capsule fills every pixel within r of the segment a–b: limbs, torso, head.
func (c canvas) capsule(a, b pt, r float64, col color.RGBA) {
	ix0, iy0, ix1, iy1 := c.clip(min(a.x, b.x)-r, min(a.y, b.y)-r, max(a.x, b.x)+r, max(a.y, b.y)+r)
	dx, dy := b.x-a.x, b.y-a.y
	l2 := dx*dx + dy*dy
	for y := iy0; y < iy1; y++ {
		for x := ix0; x < ix1; x++ {
			px, py := float64(x)+0.5-a.x, float64(y)+0.5-a.y
			s := 0.0
			if l2 > 0 {
				s = math.Max(0, math.Min(1, (px*dx+py*dy)/l2))
			}
			ex, ey := px-s*dx, py-s*dy
			if ex*ex+ey*ey <= r*r {
				c.set(x, y, col)
			}
		}
	}
}

// stage follows a camera's scene and animates people walking in and out.
type stage struct {
	seed       uint64
	transition time.Duration
	zone       scene.Zone
	people     map[string]*staged
}

type staged struct {
	p         scene.Person
	shirt     color.RGBA
	phase     float64
	enterAt   time.Time
	leaveAt   time.Time // zero while present
	fromX     float64   // side of the view they enter from or leave to
	leaveFrom scene.Person
}

func newStage(seed uint64, transition time.Duration) *stage {
	return &stage{seed: seed, transition: transition, people: map[string]*staged{}}
}

// set applies a new scene at now: new people start walking in from the
// nearer side, removed people walk out.
func (s *stage) set(z scene.Zone, now time.Time) {
	s.zone = z
	seen := map[string]bool{}
	for _, p := range z.People {
		seen[p.ID] = true
		if st, ok := s.people[p.ID]; ok && st.leaveAt.IsZero() {
			st.p = p
			continue
		}
		shirt, phase := shirtFor(p.ID, s.seed)
		side := -0.1
		if p.X > 0.5 {
			side = 1.1
		}
		s.people[p.ID] = &staged{p: p, shirt: shirt, phase: phase, enterAt: now, fromX: side}
	}
	for id, st := range s.people {
		if !seen[id] && st.leaveAt.IsZero() {
			st.leaveAt, st.leaveFrom = now, st.p
			st.fromX = -0.1
			if st.p.X > 0.5 {
				st.fromX = 1.1
			}
		}
	}
}

// actors returns who is visible at now and where, dropping those who have left.
func (s *stage) actors(now time.Time) []actor {
	out := make([]actor, 0, len(s.people))
	ids := make([]string, 0, len(s.people))
	for id := range s.people {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		st := s.people[id]
		a := actor{Person: st.p, phase: st.phase, shirt: st.shirt, x: st.p.X, y: st.p.Y, posture: st.p.Posture}
		switch {
		case !st.leaveAt.IsZero():
			f := s.progress(st.leaveAt, now)
			if f >= 1 {
				delete(s.people, id)
				continue
			}
			a.Person = st.leaveFrom
			a.x = st.leaveFrom.X + (st.fromX-st.leaveFrom.X)*f
			a.y = st.leaveFrom.Y
			a.posture, a.Motion = scene.Walking, 0.8
		case s.progress(st.enterAt, now) < 1:
			f := s.progress(st.enterAt, now)
			a.x = st.fromX + (st.p.X-st.fromX)*f
			a.posture, a.Motion = scene.Walking, 0.8
		}
		out = append(out, a)
	}
	return out
}

func (s *stage) progress(since, now time.Time) float64 {
	if s.transition <= 0 {
		return 1
	}
	return float64(now.Sub(since)) / float64(s.transition)
}

// Frame renders a zone's scene as a still (no walking in or out) at
// animation time t: what the camera shows once everyone has arrived. Tests
// and tools use it to get a camera frame without RTSP.
func Frame(z scene.Zone, width, height int, seed uint64, t time.Duration) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	st := newStage(seed, 0)
	now := time.Time{}
	st.set(z, now)
	render(img, z.Furniture, st.actors(now), t.Seconds())
	return img
}
