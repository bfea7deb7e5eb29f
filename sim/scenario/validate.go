package scenario

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/somsgo/soms/sim/edge"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scene"
)

// scope is what steps and expectations are checked against: the scenario and
// the zones and devices of its built-in layout (empty for a layout file, which
// is checked when the run loads it).
type scope struct {
	s              *Scenario
	zones, devices map[string]bool
}

// validate checks values and cross-references (zones and devices of a
// built-in layout) and fills defaults. lines holds the top-level keys' lines.
func (p *parser) validate(s *Scenario, lines map[string]int) {
	p.defaults(s, lines)
	sc := p.layoutScope(s, lines)
	if err := checkLLM(s.LLM); err != nil {
		p.errorf(lines["llm"], "llm: %v", err)
	}
	last := max(p.validateSteps(sc), p.validateExpectations(sc))
	if s.Duration == 0 {
		s.Duration = last + time.Minute
	} else if s.Duration < last {
		p.errorf(lines["duration"], "duration %v ends before the last step or expectation window (%v)", s.Duration, last)
	}
}

// defaults checks the top-level values and fills those left out.
func (p *parser) defaults(s *Scenario, lines map[string]int) {
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
	if s.Speed < 0 || (s.Speed > 10000 && !math.IsInf(s.Speed, 1)) {
		p.errorf(lines["speed"], "speed must be between 0 and 10000 simulated seconds per wall second, or max")
	}
	if s.Layout == "" {
		s.Layout = "builtin:office"
	}
}

// layoutScope loads a built-in layout's zones and devices (a SwarmHub's leaves
// are devices too), or resolves a layout file against the scenario's folder.
func (p *parser) layoutScope(s *Scenario, lines map[string]int) scope {
	sc := scope{s: s, zones: map[string]bool{}, devices: map[string]bool{}}
	if !strings.HasPrefix(s.Layout, "builtin:") {
		if !filepath.IsAbs(s.Layout) {
			s.Layout = filepath.Join(filepath.Dir(s.File), s.Layout)
		}
		return sc
	}
	l, err := edge.LoadLayout(s.Layout)
	if err != nil {
		p.errorf(lines["layout"], "layout %q is not a built-in layout (builtin:office, builtin:meeting, builtin:original)", s.Layout)
	}
	for _, z := range l.Zones {
		sc.zones[z.ID] = true
	}
	for _, d := range l.Devices {
		sc.devices[d.ID] = true
		if d.Kind != edge.KindSwarmHub {
			continue
		}
		leaves := d.Leaves
		if len(leaves) == 0 {
			leaves = edge.DefaultLeaves()
		}
		for _, lf := range leaves {
			sc.devices[d.ID+"."+lf.Name] = true
		}
	}
	return sc
}

// zone reports a missing zone, or one the layout lacks.
func (p *parser) zone(sc scope, line int, z string) {
	switch {
	case z == "":
		p.errorf(line, "zone is required")
	case len(sc.zones) > 0 && !sc.zones[z]:
		p.errorf(line, "zone %q is not in layout %s", z, sc.s.Layout)
	}
}

// optZone is zone for a zone that may be left out.
func (p *parser) optZone(sc scope, line int, z string) {
	if z != "" {
		p.zone(sc, line, z)
	}
}

// validateSteps checks each step and returns the last step's offset.
func (p *parser) validateSteps(sc scope) time.Duration {
	var last time.Duration
	for i := range sc.s.Timeline {
		st := &sc.s.Timeline[i]
		if st.Kind == "" || st.At < 0 {
			continue // already reported
		}
		last = max(last, st.At)
		if k, _ := stepKinds.lookup(st.Kind); k.check != nil {
			k.check(p, sc, st)
		}
	}
	return last
}

// validateExpectations checks each expectation and returns the end of the
// latest window.
func (p *parser) validateExpectations(sc scope) time.Duration {
	var last time.Duration
	for i := range sc.s.Expect {
		e := &sc.s.Expect[i]
		if e.After < 0 || e.Within < 0 {
			p.errorf(e.Line, "after and within must not be negative")
		}
		last = max(last, e.After+e.Within)
		if k, _ := expectKinds.lookup(e.Kind); k.check != nil {
			k.check(p, sc, e)
		}
	}
	return last
}

func checkPeople(p *parser, sc scope, st *Step) {
	p.zone(sc, st.Line, st.People.Zone)
	if st.People.Count < 0 || st.People.Count > 500 {
		p.errorf(st.Line, "people count must be between 0 and 500")
	}
}

func checkPerson(p *parser, sc scope, st *Step) {
	p.zone(sc, st.Line, st.Person.Zone)
	if !slices.Contains([]string{"", "add", "update", "remove"}, st.Person.Action) {
		p.errorf(st.Line, "person action must be add, update or remove")
	}
	if st.Person.Action != "" && st.Person.Action != "add" && st.Person.ID == "" {
		p.errorf(st.Line, "person %s needs an id", st.Person.Action)
	}
	if st.Person.Posture != "" && !scene.Posture(st.Person.Posture).Valid() {
		p.errorf(st.Line, "posture %q is not one of standing, sitting, walking, fallen", st.Person.Posture)
	}
}

func checkScene(p *parser, sc scope, st *Step) {
	p.zone(sc, st.Line, st.Scene.Zone)
	z := scene.Zone{Zone: st.Scene.Zone}
	for _, sp := range st.Scene.People {
		z.People = append(z.People, scene.Person{ID: sp.ID, X: sp.X, Y: sp.Y, Posture: scene.Posture(sp.Posture), Motion: sp.Motion})
	}
	if err := z.Validate(); err != nil {
		p.errorf(st.Line, "scene: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
}

func checkRamp(p *parser, sc scope, st *Step) {
	p.zone(sc, st.Line, st.Ramp.Zone)
	if !slices.Contains([]string{"co2", "temperature", "humidity"}, st.Ramp.Channel) {
		p.errorf(st.Line, "ramp channel must be co2, temperature or humidity")
	}
	if st.Ramp.Over <= 0 {
		p.errorf(st.Line, "ramp needs a positive over: duration")
	}
}

func checkFault(p *parser, sc scope, st *Step) {
	if st.Fault.Device == "" {
		p.errorf(st.Line, "fault needs a device")
	} else if len(sc.devices) > 0 && !sc.devices[st.Fault.Device] {
		p.errorf(st.Line, "device %q is not in layout %s", st.Fault.Device, sc.s.Layout)
	}
}

func checkLLMFault(p *parser, _ scope, st *Step) {
	if st.LLMFault.Clear {
		return
	}
	f := st.LLMFault.Fault
	if err := f.Validate(); err != nil {
		p.errorf(st.Line, "llm_fault: %v", err)
	}
}

func checkLLMRules(p *parser, _ scope, st *Step) {
	if err := checkLLM(*st.LLMRules); err != nil {
		p.errorf(st.Line, "llm_rules: %v", err)
	}
}

func checkClock(p *parser, _ scope, st *Step) {
	if st.Clock.Speed == nil && st.Clock.Pause <= 0 {
		p.errorf(st.Line, "clock needs speed: or pause:")
	}
	if st.Clock.Speed != nil && (*st.Clock.Speed <= 0 || *st.Clock.Speed > 10000) {
		p.errorf(st.Line, "clock speed must be above 0 and at most 10000 (use pause: for a pause)")
	}
}

func checkProcess(p *parser, _ scope, st *Step) {
	names := append(harness.Services(), harness.Mosquitto, harness.Postgres)
	if !slices.Contains(names, st.Process.Name) {
		p.errorf(st.Line, "process %q: want one of %s", st.Process.Name, strings.Join(names, ", "))
	}
	switch st.Process.Action {
	case ProcessKill, ProcessStart, ProcessRestart:
	default:
		p.errorf(st.Line, "process action %q: want kill, start or restart", st.Process.Action)
	}
}

func checkComplete(p *parser, sc scope, st *Step) {
	if st.Complete.Person == "" {
		p.errorf(st.Line, "complete_task needs a person (the account that does the task)")
	}
	p.optZone(sc, st.Line, st.Complete.Zone)
}

func checkPublish(p *parser, _ scope, st *Step) {
	if st.Publish.Topic == "" || strings.ContainsAny(st.Publish.Topic, "#+") {
		p.errorf(st.Line, "publish needs a topic without wildcards")
	}
}

func checkTask(p *parser, sc scope, e *Expectation) {
	p.optZone(sc, e.Line, e.Task.Zone)
	if e.Kind == ExpectTaskNotCreated && e.Within == 0 && e.After == 0 && sc.s.Duration == 0 {
		p.errorf(e.Line, "task_not_created needs within: (how long nothing may appear)")
	}
}

func checkCommand(p *parser, _ scope, e *Expectation) {
	if e.Command.Agent == "" && e.Command.Tool == "" {
		p.errorf(e.Line, "%s needs an agent or a tool", e.Kind)
	}
}

// defaultLLMCount makes llm_requests without bounds mean "at least one".
func defaultLLMCount(_ *parser, _ scope, e *Expectation) {
	if e.LLM.AtLeast == 0 && e.LLM.AtMost == nil {
		e.LLM.AtLeast = 1
	}
}

func checkWallet(p *parser, _ scope, e *Expectation) {
	if e.Wallet.AtLeast == nil && e.Wallet.AtMost == nil {
		p.errorf(e.Line, "wallet_balance needs at_least or at_most")
	}
}

func checkEvent(p *parser, sc scope, e *Expectation) {
	p.optZone(sc, e.Line, e.Event.Zone)
	if e.Event.Type == "" {
		p.errorf(e.Line, "brain_event needs a type (e.g. co2_threshold_exceeded)")
	}
}

func checkWorld(p *parser, sc scope, e *Expectation) {
	p.zone(sc, e.Line, e.World.Zone)
	if e.World.Path == "" {
		p.errorf(e.Line, "world needs a path (e.g. channels.co2.value)")
	}
	if e.World.Above == nil && e.World.Below == nil && e.World.Equals == nil {
		p.errorf(e.Line, "world needs above, below or equals")
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
