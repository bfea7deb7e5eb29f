package scenario

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/sim/mockllm"
)

// Observations are what a run saw through the product interfaces; the
// expectations are evaluated on them after the run.
type Observations struct {
	Start, End time.Time
	Tasks      []ObservedTask
	Commands   []ObservedCommand
	Voice      []ObservedVoice
	// VoiceErr says why voice events could not be read (empty: they could).
	VoiceErr  string
	LLM       []mockllm.Recorded
	Wallet    map[int64][]Sample
	WalletErr string
	// World holds the brain's zone documents sampled over the run.
	World    map[string][]WorldSample
	WorldErr string
	// Events are the brain's world-model events.
	Events []ObservedEvent
	// Lost is what was acknowledged and what of it was missing at the end.
	Lost Lost
}

// ObservedEvent is a world-model event.
type ObservedEvent struct {
	At       time.Time `json:"at"`
	Zone     string    `json:"zone"`
	Type     string    `json:"type"`
	Severity string    `json:"severity"`
}

// ObservedTask is a task on the dashboard backend.
type ObservedTask struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Zone      string    `json:"zone"`
	Types     []string  `json:"task_type"`
	Urgency   int       `json:"urgency"`
	CreatedAt time.Time `json:"created_at"`
}

// ObservedCommand is an MCP tool call seen on the broker.
type ObservedCommand struct {
	At    time.Time      `json:"at"`
	Agent string         `json:"agent"`
	Tool  string         `json:"tool"`
	Args  map[string]any `json:"args,omitempty"`
	ID    string         `json:"id"`
}

// ObservedVoice is something the office said (backend voice events).
type ObservedVoice struct {
	At      time.Time `json:"at"`
	Zone    string    `json:"zone"`
	Message string    `json:"message"`
	Tone    string    `json:"tone"`
}

// Sample is a number read at a simulated instant.
type Sample struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// WorldSample is one brain zone document.
type WorldSample struct {
	At  time.Time      `json:"at"`
	Doc map[string]any `json:"doc"`
}

// Result is the outcome of one expectation.
type Result struct {
	Line        int        `json:"line"`
	Kind        string     `json:"kind"`
	Description string     `json:"description"`
	Passed      bool       `json:"passed"`
	Message     string     `json:"message"`
	At          *time.Time `json:"at,omitempty"`
}

// window is an expectation's [from, to] in simulated time.
func (e Expectation) window(o *Observations) (time.Time, time.Time) {
	from := o.Start.Add(e.After)
	to := o.End
	if e.Within > 0 {
		to = from.Add(e.Within)
	}
	return from, to
}

func in(t, from, to time.Time) bool { return !t.Before(from) && !t.After(to) }

// Evaluate checks every expectation of s against what was observed.
func Evaluate(s *Scenario, o *Observations) []Result {
	out := make([]Result, 0, len(s.Expect))
	for _, e := range s.Expect {
		r := Result{Line: e.Line, Kind: e.Kind, Description: e.Describe()}
		from, to := e.window(o)
		switch {
		case e.Task != nil:
			evalTasks(&r, e, o, from, to)
		case e.Command != nil:
			evalCommands(&r, e, o, from, to)
		case e.Voice != nil:
			evalVoice(&r, e, o, from, to)
		case e.LLM != nil:
			evalLLM(&r, e, o, from, to)
		case e.Wallet != nil:
			evalWallet(&r, e, o, from, to)
		case e.World != nil:
			evalWorld(&r, e, o, from, to)
		case e.Event != nil:
			evalEvent(&r, e, o, from, to)
		case e.Lost != nil:
			evalLost(&r, e, o)
		}
		out = append(out, r)
	}
	return out
}

func offset(o *Observations, t time.Time) string { return fmtOffset(t.Sub(o.Start)) }

func fmtOffset(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("+%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func (m *TaskMatch) matches(t ObservedTask) bool {
	if m.Title != "" && !strings.Contains(strings.ToLower(t.Title), strings.ToLower(m.Title)) {
		return false
	}
	if m.Zone != "" && t.Zone != m.Zone {
		return false
	}
	if m.Type != "" && !slices.Contains(t.Types, m.Type) {
		return false
	}
	return m.MinUrgency == nil || t.Urgency >= *m.MinUrgency
}

func evalTasks(r *Result, e Expectation, o *Observations, from, to time.Time) {
	var hits []ObservedTask
	for _, t := range o.Tasks {
		if in(t.CreatedAt, from, to) && e.Task.matches(t) {
			hits = append(hits, t)
		}
	}
	seen := func() string {
		if len(o.Tasks) == 0 {
			return "no tasks were created at all"
		}
		var parts []string
		for _, t := range o.Tasks {
			parts = append(parts, fmt.Sprintf("#%d %q zone=%s %v at %s", t.ID, t.Title, t.Zone, t.Types, offset(o, t.CreatedAt)))
		}
		return "tasks seen: " + strings.Join(parts, "; ")
	}
	if e.Kind == ExpectTaskNotCreated {
		if len(hits) == 0 {
			r.Passed, r.Message = true, "no matching task"
			return
		}
		at := hits[0].CreatedAt
		r.At = &at
		r.Message = fmt.Sprintf("task #%d %q (zone %s) was created at %s", hits[0].ID, hits[0].Title, hits[0].Zone, offset(o, at))
		return
	}
	want := max(e.Task.Count, 1)
	switch {
	case e.Task.Exactly && len(hits) != want:
		r.Message = fmt.Sprintf("%d matching tasks, want exactly %d; %s", len(hits), want, seen())
	case len(hits) < want:
		r.Message = fmt.Sprintf("%d matching tasks, want at least %d; %s", len(hits), want, seen())
	default:
		at := hits[want-1].CreatedAt
		r.Passed, r.At = true, &at
		r.Message = fmt.Sprintf("task #%d %q created at %s", hits[0].ID, hits[0].Title, offset(o, hits[0].CreatedAt))
	}
}

func (m *CommandMatch) matches(c ObservedCommand) bool {
	if m.Agent != "" && c.Agent != m.Agent {
		return false
	}
	if m.Tool != "" && c.Tool != m.Tool {
		return false
	}
	for k, want := range m.Args {
		if !sameValue(want, c.Args[k]) {
			return false
		}
	}
	return true
}

// sameValue compares YAML and JSON values loosely: numbers by value, the rest
// by their text.
func sameValue(a, b any) bool {
	fa, okA := jsonnum.Float(a, worldAccept)
	fb, okB := jsonnum.Float(b, worldAccept)
	if okA && okB {
		return math.Abs(fa-fb) < 1e-9
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// worldAccept is what a world expectation compares as a number: numbers and
// numeric strings ("812" equals 812), not booleans.
const worldAccept = jsonnum.Strings

func evalCommands(r *Result, e Expectation, o *Observations, from, to time.Time) {
	var hit *ObservedCommand
	for i, c := range o.Commands {
		if in(c.At, from, to) && e.Command.matches(c) {
			hit = &o.Commands[i]
			break
		}
	}
	if e.Kind == ExpectNoDeviceCommand {
		if hit == nil {
			r.Passed, r.Message = true, "no matching command"
			return
		}
		r.At = &hit.At
		r.Message = fmt.Sprintf("%s.%s %v was sent at %s", hit.Agent, hit.Tool, hit.Args, offset(o, hit.At))
		return
	}
	if hit != nil {
		r.Passed, r.At = true, &hit.At
		r.Message = fmt.Sprintf("%s.%s %v sent at %s", hit.Agent, hit.Tool, hit.Args, offset(o, hit.At))
		return
	}
	var parts []string
	for _, c := range o.Commands {
		parts = append(parts, fmt.Sprintf("%s.%s at %s", c.Agent, c.Tool, offset(o, c.At)))
	}
	if len(parts) == 0 {
		r.Message = "no device commands were sent at all"
	} else {
		r.Message = "no matching command; sent: " + strings.Join(parts, ", ")
	}
}

func evalVoice(r *Result, e Expectation, o *Observations, from, to time.Time) {
	m := e.Voice
	for _, v := range o.Voice {
		if !in(v.At, from, to) || (m.Zone != "" && v.Zone != m.Zone) || (m.Tone != "" && v.Tone != m.Tone) || !strings.Contains(v.Message, m.Contains) {
			continue
		}
		at := v.At
		r.Passed, r.At = true, &at
		r.Message = fmt.Sprintf("%q (zone %s, %s) at %s", v.Message, v.Zone, v.Tone, offset(o, at))
		return
	}
	switch {
	case o.VoiceErr != "" && len(o.Voice) == 0:
		r.Message = "voice events could not be read: " + o.VoiceErr
	default:
		r.Message = fmt.Sprintf("no matching voice event (%d seen)", len(o.Voice))
	}
}

func evalLLM(r *Result, e Expectation, o *Observations, from, to time.Time) {
	m := e.LLM
	f := mockllm.RequestFilter{Rule: m.Rule, Tool: m.Tool, Fault: m.Fault}
	n := 0
	for _, rec := range o.LLM {
		if in(rec.At, from, to) && f.Match(rec) {
			n++
			if n == m.AtLeast && m.AtMost == nil {
				at := rec.At
				r.At = &at
			}
		}
	}
	r.Passed = n >= m.AtLeast && (m.AtMost == nil || n <= *m.AtMost)
	r.Message = fmt.Sprintf("%d matching LLM requests", n)
}

func evalWallet(r *Result, e Expectation, o *Observations, from, to time.Time) {
	m := e.Wallet
	samples := o.Wallet[m.User]
	last := math.NaN()
	for _, s := range samples {
		if !in(s.At, from, to) {
			continue
		}
		last = s.Value
		if (m.AtLeast == nil || s.Value >= *m.AtLeast) && (m.AtMost == nil || s.Value <= *m.AtMost) {
			at := s.At
			r.Passed, r.At = true, &at
			r.Message = fmt.Sprintf("balance %g at %s", s.Value, offset(o, at))
			return
		}
	}
	switch {
	case !math.IsNaN(last):
		r.Message = fmt.Sprintf("balance was %g", last)
	case o.WalletErr != "":
		r.Message = "wallet could not be read: " + o.WalletErr
	default:
		r.Message = "no wallet reading in the window"
	}
}

func evalEvent(r *Result, e Expectation, o *Observations, from, to time.Time) {
	var types []string
	for _, ev := range o.Events {
		if !in(ev.At, from, to) || (e.Event.Zone != "" && ev.Zone != e.Event.Zone) {
			continue
		}
		if ev.Type == e.Event.Type {
			at := ev.At
			r.Passed, r.At = true, &at
			r.Message = fmt.Sprintf("%s in %s at %s", ev.Type, ev.Zone, offset(o, at))
			return
		}
		types = append(types, ev.Type)
	}
	r.Message = fmt.Sprintf("no %s event; seen in the window: %v", e.Event.Type, types)
}

// lookup follows a dotted path through a JSON document.
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func (w *WorldCheck) holds(v any) bool {
	if w.Equals != nil && !sameValue(w.Equals, v) {
		return false
	}
	if w.Above != nil || w.Below != nil {
		f, ok := jsonnum.Float(v, worldAccept)
		if !ok || (w.Above != nil && f <= *w.Above) || (w.Below != nil && f >= *w.Below) {
			return false
		}
	}
	return true
}

func evalWorld(r *Result, e Expectation, o *Observations, from, to time.Time) {
	w := e.World
	n, good := 0, 0
	var last any = "(absent)"
	for _, s := range o.World[w.Zone] {
		if !in(s.At, from, to) {
			continue
		}
		n++
		v, ok := lookup(s.Doc, w.Path)
		if ok {
			last = v
		}
		if ok && w.holds(v) {
			good++
			if !w.Always {
				at := s.At
				r.Passed, r.At = true, &at
				r.Message = fmt.Sprintf("%s = %v at %s", w.Path, v, offset(o, at))
				return
			}
		} else if w.Always {
			at := s.At
			r.At = &at
			r.Message = fmt.Sprintf("%s = %v at %s", w.Path, last, offset(o, at))
			return
		}
	}
	switch {
	case n == 0 && o.WorldErr != "":
		r.Message = "world model could not be read: " + o.WorldErr
	case n == 0:
		r.Message = "no world-model sample in the window"
	case w.Always:
		r.Passed, r.Message = true, fmt.Sprintf("held in all %d samples", n)
	default:
		r.Message = fmt.Sprintf("%s never matched in %d samples (last %v)", w.Path, n, last)
	}
}

// Describe is the expectation as one line for reports.
func (e Expectation) Describe() string {
	var b strings.Builder
	b.WriteString(e.Kind)
	add := func(k string, v any) {
		s := fmt.Sprint(v)
		if s != "" && s != "<nil>" && s != "0" && s != "map[]" {
			fmt.Fprintf(&b, " %s=%s", k, s)
		}
	}
	switch {
	case e.Task != nil:
		add("title", e.Task.Title)
		add("zone", e.Task.Zone)
		add("type", e.Task.Type)
		add("count", e.Task.Count)
	case e.Command != nil:
		add("agent", e.Command.Agent)
		add("tool", e.Command.Tool)
		add("args", e.Command.Args)
	case e.Voice != nil:
		add("zone", e.Voice.Zone)
		add("contains", e.Voice.Contains)
		add("tone", e.Voice.Tone)
	case e.LLM != nil:
		add("rule", e.LLM.Rule)
		add("tool", e.LLM.Tool)
		add("fault", e.LLM.Fault)
		add("at_least", e.LLM.AtLeast)
		if e.LLM.AtMost != nil {
			add("at_most", *e.LLM.AtMost)
		}
	case e.Wallet != nil:
		add("user", e.Wallet.User)
		if e.Wallet.AtLeast != nil {
			add("at_least", *e.Wallet.AtLeast)
		}
		if e.Wallet.AtMost != nil {
			add("at_most", *e.Wallet.AtMost)
		}
	case e.Event != nil:
		add("type", e.Event.Type)
		add("zone", e.Event.Zone)
	case e.World != nil:
		add("zone", e.World.Zone)
		add("path", e.World.Path)
		if e.World.Above != nil {
			add("above", *e.World.Above)
		}
		if e.World.Below != nil {
			add("below", *e.World.Below)
		}
		if e.World.Equals != nil {
			fmt.Fprintf(&b, " equals=%v", e.World.Equals)
		}
		if e.World.Always {
			b.WriteString(" always")
		}
	}
	if e.Within > 0 {
		fmt.Fprintf(&b, " between %s and %s", fmtOffset(e.After), fmtOffset(e.After+e.Within))
	} else if e.After > 0 {
		fmt.Fprintf(&b, " after %s", fmtOffset(e.After))
	}
	return b.String()
}
