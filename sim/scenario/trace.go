package scenario

import (
	"fmt"
	"maps"
	"slices"
)

// Trace is what a run did, one line each, in a fixed order, in simulated
// time from the start: every telemetry reading on the broker, every task and
// every device command. The same scenario and seed give the same trace;
// Diff says where two runs part. Left out, as not (yet) reproducible to the
// step: the times of requests to the mock LLM and of announcements (stamped
// by the receiving service's clock, which may read a step early, and the
// voice service refills its stock while idle in wall time), and world-model
// events, which the observer polls from a capped list (docs/simulator.md).
func (r *Report) Trace() []string {
	var out []string
	for _, zone := range slices.Sorted(maps.Keys(r.Series)) {
		for _, ch := range slices.Sorted(maps.Keys(r.Series[zone])) {
			for _, dev := range slices.Sorted(maps.Keys(r.Series[zone][ch])) {
				for _, p := range r.Series[zone][ch][dev] {
					out = append(out, fmt.Sprintf("reading %s %s/%s/%s %g", fmtOffset(p.At.Sub(r.Start)), zone, ch, dev, p.Value))
				}
			}
		}
	}
	// By kind, then time: the order of two things at one instant is not
	// part of the run.
	var rest []string
	for _, e := range r.Timeline {
		switch e.Kind {
		case "task", "command":
			rest = append(rest, fmt.Sprintf("%s %s %s %s", e.Kind, e.Offset, e.Zone, e.Text))
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Diff compares two traces: "" when they are the same, else the first
// difference and how many lines differ.
func Diff(a, b []string) string {
	n, first := 0, -1
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			n++
			if first < 0 {
				first = i
			}
		}
	}
	if n == 0 {
		return ""
	}
	line := func(t []string) string {
		if first < len(t) {
			return t[first]
		}
		return "(end)"
	}
	return fmt.Sprintf("%d of %d/%d lines differ; first at line %d:\n  - %s\n  + %s", n, len(a), len(b), first+1, line(a), line(b))
}
