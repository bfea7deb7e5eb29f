package scenario

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/somsgo/soms/sim/stepper"
)

// WriteReport writes report.json, junit.xml and report.html into dir and
// returns their paths by kind.
func WriteReport(dir string, rep *Report) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	files := map[string]string{
		"json":  filepath.Join(dir, "report.json"),
		"junit": filepath.Join(dir, "junit.xml"),
		"html":  filepath.Join(dir, "report.html"),
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	junit, err := JUnit(rep)
	if err != nil {
		return nil, err
	}
	page, err := HTML(rep)
	if err != nil {
		return nil, err
	}
	for kind, data := range map[string][]byte{"json": js, "junit": junit, "html": page} {
		if err := os.WriteFile(files[kind], data, 0o644); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	return files, nil
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Time    string        `xml:"time,attr"`
	Failure *junitFailure `xml:"failure,omitempty"`
	Error   *junitFailure `xml:"error,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit renders the report as JUnit XML: one test case per expectation, and
// one per failed step.
func JUnit(rep *Report) ([]byte, error) {
	class := "scenario." + strings.TrimSuffix(filepath.Base(rep.File), filepath.Ext(rep.File))
	s := junitSuite{
		Name: rep.Name, Time: fmt.Sprintf("%.3f", (rep.StartupWall + rep.RunWall).Seconds()), Timestamp: rep.Start.Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"file", rep.File}, {"seed", fmt.Sprint(rep.Seed)}, {"layout", rep.Layout}, {"speed", fmt.Sprint(rep.Speed)},
			{"sim_duration", rep.SimDuration.String()}, {"sim_per_wall", fmt.Sprintf("%.1f", rep.SimPerWall)},
		},
	}
	for _, r := range rep.Results {
		c := junitCase{Class: class, Name: fmt.Sprintf("line %d: %s", r.Line, r.Description), Time: "0"}
		if !r.Passed {
			c.Failure = &junitFailure{Message: r.Message, Type: r.Kind, Text: fmt.Sprintf("%s:%d: %s", rep.File, r.Line, r.Message)}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	for _, st := range rep.Steps {
		if st.Error == "" {
			continue
		}
		s.Cases = append(s.Cases, junitCase{Class: class, Name: fmt.Sprintf("line %d: step %s at %s", st.Line, st.Kind, st.Offset), Time: "0",
			Error: &junitFailure{Message: st.Error, Type: "step", Text: st.Error}})
		s.Errors++
	}
	s.Tests = len(s.Cases)
	var out strings.Builder
	for _, e := range rep.Timeline {
		fmt.Fprintf(&out, "%s %-7s %-12s %s\n", e.Offset, e.Kind, e.Zone, e.Text)
	}
	s.SystemOut = out.String()
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{s}}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

type htmlPlot struct {
	Zone, Channel string
	SVG           template.HTML
}

// HTML renders the report page with one plot per zone and channel.
func HTML(rep *Report) ([]byte, error) {
	var plots []htmlPlot
	zones := make([]string, 0, len(rep.Series))
	for z := range rep.Series {
		zones = append(zones, z)
	}
	slices.Sort(zones)
	for _, z := range zones {
		for _, ch := range channelOrder {
			devs, ok := rep.Series[z][ch]
			if !ok {
				continue
			}
			svg, err := plotChannel(z, ch, devs, rep.Timeline, rep.Start, "svg")
			if err != nil {
				return nil, fmt.Errorf("plot %s/%s: %w", z, ch, err)
			}
			// Drop the XML prolog so the SVG can sit inline in the page.
			s := string(svg)
			if i := strings.Index(s, "<svg"); i > 0 {
				s = s[i:]
			}
			plots = append(plots, htmlPlot{Zone: z, Channel: ch, SVG: template.HTML(s)})
		}
	}
	var b strings.Builder
	err := pageTemplate.Execute(&b, map[string]any{"R": rep, "Plots": plots, "Failed": rep.Failed()})
	return []byte(b.String()), err
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"secs": func(d interface{ Seconds() float64 }) string { return fmt.Sprintf("%.1f s", d.Seconds()) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.R.Name}} — SOMS scenario report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
.pass{color:#2a7d2a;font-weight:bold}.fail{color:#c0392b;font-weight:bold}
.k-task{color:#d62728}.k-command{color:#2ca02c}.k-speech{color:#9467bd}.k-event{color:#ff7f0e}.k-step{color:#666}.k-llm{color:#1f77b4}
.plots svg{display:block;margin:.5em 0;max-width:100%;height:auto}
details{margin:1em 0}
</style></head><body>
<h1>{{.R.Name}} <span class="{{if .R.Passed}}pass{{else}}fail{{end}}">{{if .R.Passed}}PASSED{{else}}FAILED{{end}}</span></h1>
<table>
<tr><th>file</th><td>{{.R.File}}</td></tr>
<tr><th>layout / seed</th><td>{{.R.Layout}} / {{.R.Seed}}</td></tr>
<tr><th>start</th><td>{{.R.Start.Format "2006-01-02 15:04 MST"}}</td></tr>
<tr><th>simulated</th><td>{{.R.SimDuration}} at {{.R.Speed}}× (achieved {{printf "%.1f" .R.SimPerWall}} sim-s per wall-s)</td></tr>
<tr><th>wall time</th><td>start-up {{secs .R.StartupWall}}, run {{secs .R.RunWall}}</td></tr>
</table>
{{if .Failed}}<h2>Failures</h2><ul>{{range .Failed}}<li class="fail">{{.}}</li>{{end}}</ul>{{end}}
<h2>Expectations</h2>
<table><tr><th>line</th><th>expectation</th><th>result</th><th>detail</th></tr>
{{range .R.Results}}<tr><td>{{.Line}}</td><td>{{.Description}}</td><td class="{{if .Passed}}pass{{else}}fail{{end}}">{{if .Passed}}pass{{else}}FAIL{{end}}</td><td>{{.Message}}</td></tr>
{{end}}</table>
<h2>Readings</h2>
<p>Dashed markers: <span class="k-step">steps</span>, <span class="k-task">tasks</span>, <span class="k-command">device commands</span>, <span class="k-speech">speech</span>, <span class="k-event">world-model events</span>.</p>
<div class="plots">{{range .Plots}}{{.SVG}}{{end}}</div>
<details open><summary><h2 style="display:inline">Timeline</h2></summary>
<table><tr><th>sim time</th><th>kind</th><th>zone</th><th>what</th></tr>
{{range .R.Timeline}}<tr><td>{{.Offset}}</td><td class="k-{{.Kind}}">{{.Kind}}</td><td>{{.Zone}}</td><td>{{.Text}}</td></tr>
{{end}}</table></details>
</body></html>
`))

// StepResult is how one timeline step went.
type StepResult struct {
	Line   int       `json:"line"`
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	Offset string    `json:"offset"`
	Error  string    `json:"error,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Seed     uint64        `json:"seed"`
	Start    time.Time     `json:"start"`
	Speed    stepper.Speed `json:"speed"` // a number, or "max"
	Layout   string        `json:"layout"`
	Passed   bool          `json:"passed"`
	Results  []Result      `json:"results"`
	Steps    []StepResult  `json:"steps"`
	Timeline []Entry       `json:"timeline"`
	// Series is telemetry: zone → channel → device → readings.
	Series map[string]map[string]map[string][]Point `json:"series"`
	// SimDuration is the simulated time covered; StartupWall the wall time
	// from Run to the clock starting; RunWall the wall time the clock ran.
	SimDuration time.Duration `json:"sim_duration_ns"`
	StartupWall time.Duration `json:"startup_wall_ns"`
	RunWall     time.Duration `json:"run_wall_ns"`
	// SimPerWall is simulated seconds per wall second achieved while running:
	// the clock is closed-loop, so this is what every process kept up with.
	SimPerWall float64 `json:"sim_per_wall"`
	// Lag is how each process following the clock kept up while running,
	// slowest first.
	Lag []stepper.ProcessStats `json:"lag"`
	// Crashes are processes that died without a process step asking for it
	// (the harness restarted them); any fails the run.
	Crashes []string `json:"crashes,omitempty"`
	// Files written, by kind (json, junit, html).
	Files map[string]string `json:"files,omitempty"`
}

// Failed lists the failed expectations and steps as lines.
func (r *Report) Failed() []string {
	var out []string
	for _, s := range r.Steps {
		if s.Error != "" {
			out = append(out, fmt.Sprintf("%s:%d: step %s at %s: %s", r.File, s.Line, s.Kind, s.Offset, s.Error))
		}
	}
	for _, c := range r.Crashes {
		out = append(out, fmt.Sprintf("%s: %s", r.File, c))
	}
	for _, x := range r.Results {
		if !x.Passed {
			out = append(out, fmt.Sprintf("%s:%d: %s: %s", r.File, x.Line, x.Description, x.Message))
		}
	}
	return out
}

// report evaluates what was observed.
func (r *run) report(end time.Time, startup, runWall time.Duration, lag []stepper.ProcessStats, runErr error) Report {
	sc := r.sc
	obs := r.obs.observations(end)
	rep := Report{
		Name: sc.Name, File: sc.File, Seed: sc.Seed, Start: sc.Start, Speed: stepper.Speed(r.speed), Layout: sc.Layout,
		Results: Evaluate(sc, obs), Steps: r.steps, Timeline: r.obs.timeline(), Series: r.obs.series,
		SimDuration: end.Sub(sc.Start), StartupWall: startup, RunWall: runWall, Crashes: r.crashList(),
		Lag: lag,
	}
	if runWall > 0 {
		rep.SimPerWall = rep.SimDuration.Seconds() / runWall.Seconds()
	}
	rep.Passed = runErr == nil && len(rep.Crashes) == 0
	for _, x := range rep.Results {
		rep.Passed = rep.Passed && x.Passed
	}
	for _, st := range rep.Steps {
		rep.Passed = rep.Passed && st.Error == ""
	}
	return rep
}
