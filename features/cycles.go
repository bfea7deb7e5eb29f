package features

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/harness"
)

// brainCycles reads the decision cycles the brain has run, by result, from
// its Prometheus metrics (soms_brain_cycles_total): what an operator watches
// to know the brain is alive.
func (o *office) brainCycles(ctx context.Context) (map[string]float64, error) {
	resp, err := o.api.Send(ctx, httpx.Request{Method: http.MethodGet, Path: o.sys.URL(harness.Brain) + "/metrics"})
	if err != nil {
		return nil, fmt.Errorf("brain metrics: %w", err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(resp.Body))
	if err != nil {
		return nil, fmt.Errorf("brain metrics: %w", err)
	}
	out := map[string]float64{}
	if f := fams["soms_brain_cycles_total"]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out, nil
}

func total(m map[string]float64) float64 {
	n := 0.0
	for _, v := range m {
		n += v
	}
	return n
}

// quietFor checks for d of simulated time that nothing unwanted happens
// (check fails on it), and that the brain kept deciding meanwhile: a brain
// that has hung creates no task either, so "nothing happened" means something
// only when its cycles ran throughout. Throughout is "never half the window
// without a completed cycle" — a bound that scales with the window rather than
// with the brain's interval, so a busy machine at high speed does not fail a
// healthy brain; the window must therefore span two of the brain's intervals
// (30 s normally, 300 s in inactive mode).
func (o *office) quietFor(ctx context.Context, d time.Duration, check func() error) error {
	cycles, err := o.brainCycles(ctx)
	if err != nil {
		return err
	}
	first, last := cycles, total(cycles)
	start := o.sys.Clock().Now()
	lastAt, longest := start, time.Duration(0)
	err = o.within(ctx, d, func() (bool, error) {
		if err := check(); err != nil {
			return false, err
		}
		c, err := o.brainCycles(ctx)
		if err != nil {
			return false, err
		}
		now := o.sys.Clock().Now()
		if n := total(c); n > last {
			longest = max(longest, now.Sub(lastAt))
			last, lastAt, cycles = n, now, c
		}
		return false, nil
	})
	if !errTimedOut(err) {
		return err
	}
	longest = max(longest, o.sys.Clock().Now().Sub(lastAt))
	if longest > d/2 {
		return fmt.Errorf("the brain's cycles did not run throughout the %v: %v without one (cycles by result %v at the start, %v at the last one)",
			d, longest.Round(time.Second), first, cycles)
	}
	return nil
}
