package scenario

import (
	"bytes"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// channelOrder and units of the plotted channels.
var (
	channelOrder = []string{"co2", "temperature", "humidity", "illuminance", "people", "motion", "presence", "door"}
	channelUnit  = map[string]string{"co2": "ppm", "temperature": "°C", "humidity": "%", "illuminance": "lx", "people": "people", "motion": "0/1", "presence": "0/1", "door": "0/1"}
)

// markerStyle colours the timeline markers by kind.
var markerStyle = map[string]color.RGBA{
	"step":    {R: 120, G: 120, B: 120, A: 255},
	"task":    {R: 214, G: 39, B: 40, A: 255},
	"command": {R: 44, G: 160, B: 44, A: 255},
	"speech":  {R: 148, G: 103, B: 189, A: 255},
	"event":   {R: 255, G: 127, B: 14, A: 255},
}

var lineColours = []color.RGBA{
	{R: 31, G: 119, B: 180, A: 255}, {R: 23, G: 190, B: 207, A: 255}, {R: 140, G: 86, B: 75, A: 255},
	{R: 188, G: 189, B: 34, A: 255}, {R: 227, G: 119, B: 194, A: 255}, {R: 127, G: 127, B: 127, A: 255},
}

// plotChannel draws one zone channel over the run (format svg or png), with a vertical
// marker for each step, task, command, speech and world-model event in the
// zone (or office-wide).
func plotChannel(zone, channel string, devs map[string][]Point, markers []Entry, start time.Time, format string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = zone + " — " + channel
	p.X.Label.Text = "simulated minutes from start"
	p.Y.Label.Text = channelUnit[channel]
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	lo, hi := math.Inf(1), math.Inf(-1)
	maxX := 0.0
	names := make([]string, 0, len(devs))
	for d := range devs {
		names = append(names, d)
	}
	slices.Sort(names)
	for i, d := range names {
		pts := devs[d]
		xys := make(plotter.XYs, len(pts))
		for j, pt := range pts {
			xys[j].X = pt.At.Sub(start).Minutes()
			xys[j].Y = pt.Value
			lo, hi = math.Min(lo, pt.Value), math.Max(hi, pt.Value)
			maxX = math.Max(maxX, xys[j].X)
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color = lineColours[i%len(lineColours)]
		l.Width = vg.Points(1.2)
		if channel == "motion" || channel == "door" || channel == "presence" || channel == "people" {
			l.StepStyle = plotter.PostStep
		}
		p.Add(l)
		p.Legend.Add(d, l)
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	pad := math.Max((hi-lo)*0.08, 0.5)
	lo, hi = lo-pad, hi+pad
	p.Y.Min, p.Y.Max = lo, hi
	p.X.Min, p.X.Max = 0, maxX

	legend := map[string]bool{}
	for _, m := range markers {
		c, ok := markerStyle[m.Kind]
		if !ok || (m.Zone != "" && m.Zone != zone) {
			continue
		}
		x := m.At.Sub(start).Minutes()
		if x < 0 {
			continue
		}
		p.X.Max = math.Max(p.X.Max, x)
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: hi}})
		if err != nil {
			return nil, err
		}
		l.Color = c
		l.Width = vg.Points(1)
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
		if !legend[m.Kind] {
			legend[m.Kind] = true
			p.Legend.Add(m.Kind, l)
		}
	}
	if p.X.Max <= 0 {
		p.X.Max = 1
	}
	w, err := p.WriterTo(7.5*vg.Inch, 2.6*vg.Inch, format)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
