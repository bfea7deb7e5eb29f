package scenario

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/stepper"
)

// remoteClock drives a running sim's clock through PUT /clock. Its mirror
// follows the newest step it has seen: in the control API's answers (a
// RunUntil's answer is the step every process has handled) and in the
// retained clock messages the run's observer receives.
type remoteClock struct {
	ctl    httpx.Client
	mirror *clock.Sim

	mu   sync.Mutex
	step uint64
	// base is the lag statistics at ResetStats: the control API keeps them
	// since the sim started.
	base []stepper.ProcessStats
}

func newRemoteClock(ctl httpx.Client) *remoteClock {
	return &remoteClock{ctl: ctl, mirror: clock.NewSim()}
}

func (c *remoteClock) Now() time.Time { return c.mirror.Now() }

// Follow sets the mirror to st unless a newer step was seen.
func (c *remoteClock) Follow(st clock.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.Step < c.step {
		return
	}
	c.step = st.Step
	c.mirror.Set(st)
}

func (c *remoteClock) follow(v harness.ClockView) {
	speed := float64(v.Speed)
	if math.IsInf(speed, 1) {
		speed = 0 // a step says no ceiling so
	}
	c.Follow(clock.State{SimTime: v.SimTime, Speed: speed, Step: v.Step})
}

func (c *remoteClock) get(ctx context.Context) (harness.ClockView, error) {
	var v harness.ClockView
	err := c.ctl.Do(ctx, http.MethodGet, "/clock", nil, &v)
	if err == nil {
		c.follow(v)
	}
	return v, err
}

func (c *remoteClock) put(ctx context.Context, ch harness.ClockChange) (harness.ClockView, error) {
	var v harness.ClockView
	err := c.ctl.Do(ctx, http.MethodPut, "/clock", ch, &v)
	if err == nil {
		c.follow(v)
	}
	return v, err
}

func (c *remoteClock) RunUntil(ctx context.Context, t time.Time) error {
	_, err := c.put(ctx, harness.ClockChange{RunUntil: &t})
	return err
}

func (c *remoteClock) SetSpeed(ctx context.Context, speed float64) error {
	_, err := c.put(ctx, harness.ClockChange{Speed: speedPtr(speed)})
	return err
}

// moveTo moves the paused clock from now to start and waits until every
// process has handled the jump (what fell due in between fires with it), then
// pauses it again.
func (c *remoteClock) moveTo(ctx context.Context, start, now time.Time) error {
	ch := harness.ClockChange{RunUntil: &start}
	if !start.Equal(now) {
		ch.SimTime = &start
	}
	if _, err := c.put(ctx, ch); err != nil {
		return err
	}
	return c.SetSpeed(ctx, 0)
}

func (c *remoteClock) ResetStats(ctx context.Context) error {
	v, err := c.get(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.base = v.Lag
	c.mu.Unlock()
	return nil
}

func (c *remoteClock) Stats(ctx context.Context) ([]stepper.ProcessStats, error) {
	v, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return statsSince(v.Lag, c.base), nil
}

// statsSince is how each process kept up since base was read: counts and
// means over the difference. AckMax and MaxLag stay the sim's (no per-run
// maximum can be derived from two readings).
func statsSince(now, base []stepper.ProcessStats) []stepper.ProcessStats {
	out := make([]stepper.ProcessStats, 0, len(now))
	for _, p := range now {
		i := slices.IndexFunc(base, func(b stepper.ProcessStats) bool { return b.Process == p.Process })
		if i < 0 || base[i].Steps > p.Steps {
			out = append(out, p)
			continue
		}
		b, d := base[i], p
		d.Steps, d.Slowest = p.Steps-b.Steps, p.Slowest-min(b.Slowest, p.Slowest)
		d.Lost, d.Expired = p.Lost-min(b.Lost, p.Lost), p.Expired-min(b.Expired, p.Expired)
		d.AckMean = 0
		if d.Steps > 0 {
			d.AckMean = (p.AckMean*time.Duration(p.Steps) - b.AckMean*time.Duration(b.Steps)) / time.Duration(d.Steps)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b stepper.ProcessStats) int {
		return cmp.Or(cmp.Compare(b.AckMean, a.AckMean), cmp.Compare(a.Process, b.Process))
	})
	return out
}

func speedPtr(v float64) *stepper.Speed {
	s := stepper.Speed(v)
	return &s
}
