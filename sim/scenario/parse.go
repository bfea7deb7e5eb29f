package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/somsgo/soms/sim/edge"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scene"
)

// Defaults of an unspecified scenario: a Monday 09:00 in Tokyo, 100× speed.
var (
	DefaultStart = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	DefaultSpeed = 100.0
)

// Error is one problem in a scenario file, with its line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errors are all problems found in a file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Load reads and parses a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(path, data)
}

// parser collects errors with lines while decoding.
type parser struct {
	file string
	errs Errors
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// yamlLine matches the "line N: " prefix yaml.v3 puts on its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeErr turns a yaml.v3 error into line-numbered errors.
func (p *parser) decodeErr(err error, fallback int) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var le *Error
	if errors.As(err, &le) {
		p.errs = append(p.errs, le)
		return
	}
	for _, m := range msgs {
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			n, _ := strconv.Atoi(g[1])
			p.errorf(n, "%s", g[2])
			continue
		}
		p.errorf(fallback, "%s", strings.TrimPrefix(m, "yaml: "))
	}
}

// decode checks node's keys against out's fields (recursively) and decodes.
func (p *parser) decode(node *yaml.Node, out any) bool {
	before := len(p.errs)
	p.checkKeys(node, reflect.TypeOf(out).Elem(), "")
	if len(p.errs) > before {
		return false
	}
	if err := node.Decode(out); err != nil {
		p.decodeErr(err, node.Line)
		return false
	}
	return true
}

// fieldNames are the YAML keys a struct type accepts, with their types.
func fieldNames(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range fieldNames(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// checkKeys reports keys that name no field, with the key's line.
func (p *parser) checkKeys(node *yaml.Node, t reflect.Type, where string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && node.Kind == yaml.MappingNode && t != reflect.TypeOf(time.Time{}):
		fields := fieldNames(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				slices.Sort(names)
				p.errorf(k.Line, "unknown field %q%s (expected one of: %s)", k.Value, where, strings.Join(names, ", "))
				continue
			}
			p.checkKeys(v, ft, " in "+k.Value)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && node.Kind == yaml.SequenceNode:
		for _, item := range node.Content {
			p.checkKeys(item, t.Elem(), where)
		}
	}
}

// Parse decodes and validates a scenario; file names it in errors.
func Parse(file string, data []byte) (*Scenario, error) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.decodeErr(err, 0)
		return nil, p.errs
	}
	if len(doc.Content) == 0 {
		p.errorf(0, "the file is empty")
		return nil, p.errs
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "a scenario is a mapping (name:, timeline:, expect: ...)")
		return nil, p.errs
	}
	s := &Scenario{File: file}
	lines := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		lines[k.Value] = k.Line
		switch k.Value {
		case "name":
			p.decode(v, &s.Name)
		case "description":
			p.decode(v, &s.Description)
		case "seed":
			p.decode(v, &s.Seed)
		case "start":
			p.decode(v, &s.Start)
		case "speed":
			p.decode(v, &s.Speed)
		case "duration":
			p.decode(v, &s.Duration)
		case "layout":
			p.decode(v, &s.Layout)
		case "cameras":
			p.decode(v, &s.Cameras)
		case "llm":
			p.decode(v, &s.LLM)
		case "timeline":
			p.steps(v, s)
		case "expect":
			p.expectations(v, s)
		default:
			p.errorf(k.Line, "unknown field %q (expected name, description, seed, start, speed, duration, layout, cameras, llm, timeline, expect)", k.Value)
		}
	}
	p.validate(s, lines)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int { return a.Line - b.Line })
		return nil, p.errs
	}
	return s, nil
}

func (p *parser) steps(node *yaml.Node, s *Scenario) {
	if node.Kind != yaml.SequenceNode {
		p.errorf(node.Line, "timeline is a list of steps (- at: 5m ...)")
		return
	}
	for _, n := range node.Content {
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, "a step is a mapping with at: and one action")
			continue
		}
		st := Step{Line: n.Line, At: -1}
		before := len(p.errs)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "at":
				p.decode(v, &st.At)
				continue
			case "note":
				p.decode(v, &st.Note)
				continue
			}
			var target any
			switch k.Value {
			case StepPeople:
				st.People = &PeopleStep{}
				target = st.People
			case StepZone:
				st.Zone = &ZoneStep{}
				target = st.Zone
			case StepPerson:
				st.Person = &PersonStep{}
				target = st.Person
			case StepScene:
				st.Scene = &SceneStep{}
				target = st.Scene
			case StepRamp:
				st.Ramp = &RampStep{}
				target = st.Ramp
			case StepFault:
				st.Fault = &FaultStep{}
				target = st.Fault
			case StepOutside:
				st.Outside = &OutsideStep{}
				target = st.Outside
			case StepLLMFault:
				st.LLMFault = &LLMFaultStep{}
				target = st.LLMFault
			case StepLLMRules:
				st.LLMRules = &LLM{}
				target = st.LLMRules
			case StepClock:
				st.Clock = &ClockStep{}
				target = st.Clock
			case StepPublish:
				st.Publish = &PublishStep{}
				target = st.Publish
			default:
				p.errorf(k.Line, "unknown step kind %q (expected one of: %s)", k.Value, strings.Join(stepKinds, ", "))
				continue
			}
			if st.Kind != "" {
				p.errorf(k.Line, "step has two actions (%s and %s); split it into two steps", st.Kind, k.Value)
				continue
			}
			st.Kind = k.Value
			p.decode(v, target)
		}
		switch {
		case st.At < 0 && st.Kind != "":
			p.errorf(n.Line, "step %s has no \"at\" offset (e.g. at: 5m)", st.Kind)
		case st.Kind == "" && st.At >= 0 && len(p.errs) == before:
			p.errorf(n.Line, "step at %v has no action (expected one of: %s)", st.At, strings.Join(stepKinds, ", "))
		}
		s.Timeline = append(s.Timeline, st)
	}
}

var stepKinds = []string{StepPeople, StepZone, StepPerson, StepScene, StepRamp, StepFault, StepOutside, StepLLMFault, StepLLMRules, StepClock, StepPublish}

var expectKinds = []string{ExpectTaskCreated, ExpectTaskNotCreated, ExpectDeviceCommand, ExpectNoDeviceCommand, ExpectVoiceEvent, ExpectLLMRequests, ExpectWalletBalance, ExpectWorld, ExpectBrainEvent}

func (p *parser) expectations(node *yaml.Node, s *Scenario) {
	if node.Kind != yaml.SequenceNode {
		p.errorf(node.Line, "expect is a list (- task_created: {...})")
		return
	}
	for _, n := range node.Content {
		if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
			p.errorf(n.Line, "an expectation has exactly one kind (one of: %s)", strings.Join(expectKinds, ", "))
			continue
		}
		k, v := n.Content[0], n.Content[1]
		e := Expectation{Line: k.Line, Kind: k.Value}
		var w *Window
		switch k.Value {
		case ExpectTaskCreated, ExpectTaskNotCreated:
			e.Task = &TaskMatch{}
			if p.decode(v, e.Task) {
				w = &e.Task.Window
			}
		case ExpectDeviceCommand, ExpectNoDeviceCommand:
			e.Command = &CommandMatch{}
			if p.decode(v, e.Command) {
				w = &e.Command.Window
			}
		case ExpectVoiceEvent:
			e.Voice = &VoiceMatch{}
			if p.decode(v, e.Voice) {
				w = &e.Voice.Window
			}
		case ExpectLLMRequests:
			e.LLM = &LLMMatch{}
			if p.decode(v, e.LLM) {
				w = &e.LLM.Window
			}
		case ExpectWalletBalance:
			e.Wallet = &WalletCheck{}
			if p.decode(v, e.Wallet) {
				w = &e.Wallet.Window
			}
		case ExpectBrainEvent:
			e.Event = &EventMatch{}
			if p.decode(v, e.Event) {
				w = &e.Event.Window
			}
		case ExpectWorld:
			e.World = &WorldCheck{}
			if p.decode(v, e.World) {
				w = &e.World.Window
			}
		default:
			p.errorf(k.Line, "unknown expectation kind %q (expected one of: %s)", k.Value, strings.Join(expectKinds, ", "))
			continue
		}
		if w != nil {
			e.After, e.Within = w.After, w.Within
		}
		s.Expect = append(s.Expect, e)
	}
}

// validate checks values and cross-references (zones and devices of a
// built-in layout) and fills defaults.
func (p *parser) validate(s *Scenario, lines map[string]int) {
	if strings.TrimSpace(s.Name) == "" {
		p.errorf(0, "name is required")
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	if s.Start.IsZero() {
		s.Start = DefaultStart
	}
	if s.Speed == 0 {
		s.Speed = DefaultSpeed
	}
	if s.Speed < 0 || s.Speed > 10000 {
		p.errorf(lines["speed"], "speed must be between 0 and 10000 simulated seconds per wall second")
	}
	if s.Layout == "" {
		s.Layout = "builtin:office"
	}
	zones, devices := map[string]bool{}, map[string]bool{}
	if strings.HasPrefix(s.Layout, "builtin:") {
		l, err := edge.LoadLayout(s.Layout)
		if err != nil {
			p.errorf(lines["layout"], "layout %q is not a built-in layout (builtin:office, builtin:meeting, builtin:original)", s.Layout)
		}
		for _, z := range l.Zones {
			zones[z.ID] = true
		}
		for _, d := range l.Devices {
			devices[d.ID] = true
			if d.Kind == edge.KindSwarmHub {
				leaves := d.Leaves
				if len(leaves) == 0 {
					leaves = edge.DefaultLeaves()
				}
				for _, lf := range leaves {
					devices[d.ID+"."+lf.Name] = true
				}
			}
		}
	} else if !filepath.IsAbs(s.Layout) {
		s.Layout = filepath.Join(filepath.Dir(s.File), s.Layout)
	}
	zone := func(line int, z string) {
		switch {
		case z == "":
			p.errorf(line, "zone is required")
		case len(zones) > 0 && !zones[z]:
			p.errorf(line, "zone %q is not in layout %s", z, s.Layout)
		}
	}
	optZone := func(line int, z string) {
		if z != "" {
			zone(line, z)
		}
	}
	if err := checkLLM(s.LLM); err != nil {
		p.errorf(lines["llm"], "llm: %v", err)
	}
	var last time.Duration
	for _, st := range s.Timeline {
		if st.Kind == "" || st.At < 0 {
			continue
		}
		last = max(last, st.At)
		switch st.Kind {
		case StepPeople:
			zone(st.Line, st.People.Zone)
			if st.People.Count < 0 || st.People.Count > 500 {
				p.errorf(st.Line, "people count must be between 0 and 500")
			}
		case StepZone:
			zone(st.Line, st.Zone.Zone)
		case StepPerson:
			zone(st.Line, st.Person.Zone)
			if !slices.Contains([]string{"", "add", "update", "remove"}, st.Person.Action) {
				p.errorf(st.Line, "person action must be add, update or remove")
			}
			if st.Person.Action != "" && st.Person.Action != "add" && st.Person.ID == "" {
				p.errorf(st.Line, "person %s needs an id", st.Person.Action)
			}
			if st.Person.Posture != "" && !scene.Posture(st.Person.Posture).Valid() {
				p.errorf(st.Line, "posture %q is not one of standing, sitting, walking, fallen", st.Person.Posture)
			}
		case StepScene:
			zone(st.Line, st.Scene.Zone)
			sc := scene.Zone{Zone: st.Scene.Zone}
			for _, sp := range st.Scene.People {
				sc.People = append(sc.People, scene.Person{ID: sp.ID, X: sp.X, Y: sp.Y, Posture: scene.Posture(sp.Posture), Motion: sp.Motion})
			}
			if err := sc.Validate(); err != nil {
				p.errorf(st.Line, "scene: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
			}
		case StepRamp:
			zone(st.Line, st.Ramp.Zone)
			if !slices.Contains([]string{"co2", "temperature", "humidity"}, st.Ramp.Channel) {
				p.errorf(st.Line, "ramp channel must be co2, temperature or humidity")
			}
			if st.Ramp.Over <= 0 {
				p.errorf(st.Line, "ramp needs a positive over: duration")
			}
		case StepFault:
			if st.Fault.Device == "" {
				p.errorf(st.Line, "fault needs a device")
			} else if len(devices) > 0 && !devices[st.Fault.Device] {
				p.errorf(st.Line, "device %q is not in layout %s", st.Fault.Device, s.Layout)
			}
		case StepLLMFault:
			if !st.LLMFault.Clear {
				f := st.LLMFault.Fault
				if err := f.Validate(); err != nil {
					p.errorf(st.Line, "llm_fault: %v", err)
				}
			}
		case StepLLMRules:
			if err := checkLLM(*st.LLMRules); err != nil {
				p.errorf(st.Line, "llm_rules: %v", err)
			}
		case StepClock:
			if st.Clock.Speed == nil && st.Clock.Pause <= 0 {
				p.errorf(st.Line, "clock needs speed: or pause:")
			}
			if st.Clock.Speed != nil && (*st.Clock.Speed <= 0 || *st.Clock.Speed > 10000) {
				p.errorf(st.Line, "clock speed must be above 0 and at most 10000 (use pause: for a pause)")
			}
		case StepPublish:
			if st.Publish.Topic == "" || strings.ContainsAny(st.Publish.Topic, "#+") {
				p.errorf(st.Line, "publish needs a topic without wildcards")
			}
		}
	}
	for _, e := range s.Expect {
		if e.After < 0 || e.Within < 0 {
			p.errorf(e.Line, "after and within must not be negative")
		}
		last = max(last, e.After+e.Within)
		switch {
		case e.Task != nil:
			optZone(e.Line, e.Task.Zone)
			if e.Kind == ExpectTaskNotCreated && e.Within == 0 && e.After == 0 && s.Duration == 0 {
				p.errorf(e.Line, "task_not_created needs within: (how long nothing may appear)")
			}
		case e.Command != nil:
			if e.Command.Agent == "" && e.Command.Tool == "" {
				p.errorf(e.Line, "%s needs an agent or a tool", e.Kind)
			}
		case e.Voice != nil:
			optZone(e.Line, e.Voice.Zone)
		case e.LLM != nil:
			if e.LLM.AtLeast == 0 && e.LLM.AtMost == nil {
				e.LLM.AtLeast = 1
			}
		case e.Wallet != nil:
			if e.Wallet.AtLeast == nil && e.Wallet.AtMost == nil {
				p.errorf(e.Line, "wallet_balance needs at_least or at_most")
			}
		case e.Event != nil:
			optZone(e.Line, e.Event.Zone)
			if e.Event.Type == "" {
				p.errorf(e.Line, "brain_event needs a type (e.g. co2_threshold_exceeded)")
			}
		case e.World != nil:
			zone(e.Line, e.World.Zone)
			if e.World.Path == "" {
				p.errorf(e.Line, "world needs a path (e.g. channels.co2.value)")
			}
			if e.World.Above == nil && e.World.Below == nil && e.World.Equals == nil {
				p.errorf(e.Line, "world needs above, below or equals")
			}
		}
	}
	if s.Duration == 0 {
		s.Duration = last + time.Minute
	} else if s.Duration < last {
		p.errorf(lines["duration"], "duration %v ends before the last step or expectation window (%v)", s.Duration, last)
	}
}

func checkLLM(l LLM) error {
	if l.Mode != "" && l.Mode != mockllm.ModePrepend && l.Mode != mockllm.ModeReplace {
		return fmt.Errorf("mode must be %s or %s", mockllm.ModePrepend, mockllm.ModeReplace)
	}
	if _, err := mockllm.CompileRules(l.Rules); err != nil {
		return err
	}
	for i := range l.Faults {
		if err := l.Faults[i].Validate(); err != nil {
			return err
		}
	}
	return nil
}
