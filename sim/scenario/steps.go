package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scene"
)

// exec carries out one step through the control APIs and records it.
func (r *run) exec(ctx context.Context, st Step) {
	err := r.do(ctx, st)
	at := r.clock.Now()
	res := StepResult{Line: st.Line, Kind: st.Kind, At: at, Offset: fmtOffset(at.Sub(r.sc.Start))}
	text := st.Kind + " " + describeStep(st)
	if st.Note != "" {
		text += " — " + st.Note
	}
	if err != nil {
		res.Error = err.Error()
		text += " FAILED: " + err.Error()
	}
	r.steps = append(r.steps, res)
	r.obs.add(Entry{At: at, Kind: "step", Zone: stepZone(st), Text: text})
	r.progress("[%s] %s", res.Offset, text)
}

func (r *run) do(ctx context.Context, st Step) error {
	edgeURL := r.target.URL(harness.Edge)
	mock := r.target.URL(harness.MockLLM)
	zone := func(z string) string { return edgeURL + "/zones/" + url.PathEscape(z) }
	switch st.Kind {
	case StepPeople:
		return r.send(ctx, http.MethodPatch, zone(st.People.Zone), map[string]int{"people": st.People.Count})
	case StepZone:
		return r.send(ctx, http.MethodPatch, zone(st.Zone.Zone), st.Zone)
	case StepPerson:
		return r.person(ctx, zone(st.Person.Zone), st.Person)
	case StepScene:
		return r.send(ctx, http.MethodPut, zone(st.Scene.Zone)+"/scene", map[string]any{"people": nonNilPeople(st.Scene.People)})
	case StepRamp:
		body := map[string]any{"channel": st.Ramp.Channel, "to": st.Ramp.To, "over": st.Ramp.Over.String()}
		if st.Ramp.From != nil {
			body["from"] = *st.Ramp.From
		}
		return r.send(ctx, http.MethodPost, zone(st.Ramp.Zone)+"/ramps", body)
	case StepFault:
		u := edgeURL + "/devices/" + url.PathEscape(st.Fault.Device) + "/fault"
		if st.Fault.Clear {
			return r.send(ctx, http.MethodDelete, u, nil)
		}
		return r.send(ctx, http.MethodPut, u, st.Fault)
	case StepOutside:
		return r.send(ctx, http.MethodPatch, edgeURL+"/outside", st.Outside)
	case StepLLMFault:
		if st.LLMFault.Clear {
			return r.send(ctx, http.MethodDelete, mock+"/control/faults", nil)
		}
		return r.send(ctx, http.MethodPost, mock+"/control/faults", st.LLMFault.Fault)
	case StepLLMRules:
		return r.send(ctx, http.MethodPost, mock+"/control/rules", mockllm.RuleSet{Mode: st.LLMRules.Mode, Rules: nonNil(st.LLMRules.Rules), Faults: st.LLMRules.Faults})
	case StepClock:
		return r.clockStep(ctx, st.Clock)
	case StepPublish:
		return r.pub.PublishJSON(ctx, st.Publish.Topic, 1, st.Publish.Retain, st.Publish.Payload)
	case StepProcess:
		return r.process(ctx, st.Process)
	case StepComplete:
		return r.completeTask(ctx, st.Complete)
	}
	return fmt.Errorf("unknown step kind %q", st.Kind)
}

func nonNilPeople(p []ScenePerson) []ScenePerson {
	if p == nil {
		return []ScenePerson{}
	}
	return p
}

func (r *run) person(ctx context.Context, zoneURL string, p *PersonStep) error {
	action := p.Action
	if action == "" {
		action = "add"
		if p.ID != "" {
			var sc scene.Zone
			if err := r.call(ctx, http.MethodGet, zoneURL+"/scene", nil, &sc); err != nil {
				return err
			}
			if slices.ContainsFunc(sc.People, func(x scene.Person) bool { return x.ID == p.ID }) {
				action = "update"
			}
		}
	}
	body := map[string]any{}
	if p.Posture != "" {
		body["posture"] = p.Posture
	}
	for k, v := range map[string]*float64{"x": p.X, "y": p.Y, "motion": p.Motion} {
		if v != nil {
			body[k] = *v
		}
	}
	switch action {
	case "remove":
		return r.send(ctx, http.MethodDelete, zoneURL+"/people/"+url.PathEscape(p.ID), nil)
	case "update":
		return r.send(ctx, http.MethodPatch, zoneURL+"/people/"+url.PathEscape(p.ID), body)
	}
	if p.ID != "" {
		body["id"] = p.ID
	}
	return r.send(ctx, http.MethodPost, zoneURL+"/people", body)
}

func (r *run) clockStep(ctx context.Context, c *ClockStep) error {
	if c.Speed != nil {
		r.speed = *c.Speed
	}
	if c.Pause > 0 {
		if err := r.clock.SetSpeed(ctx, 0); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.Pause):
		}
	}
	return r.clock.SetSpeed(ctx, r.speed)
}

func (r *run) send(ctx context.Context, method, u string, body any) error {
	return r.call(ctx, method, u, body, nil)
}

func (r *run) call(ctx context.Context, method, u string, in, out any) error {
	return r.api.Do(ctx, method, u, in, out)
}

func stepZone(st Step) string {
	switch {
	case st.People != nil:
		return st.People.Zone
	case st.Zone != nil:
		return st.Zone.Zone
	case st.Person != nil:
		return st.Person.Zone
	case st.Scene != nil:
		return st.Scene.Zone
	case st.Ramp != nil:
		return st.Ramp.Zone
	}
	return ""
}

func describeStep(st Step) string {
	var v any
	switch st.Kind {
	case StepPeople:
		return fmt.Sprintf("%s → %d people", st.People.Zone, st.People.Count)
	case StepRamp:
		return fmt.Sprintf("%s %s → %g over %v", st.Ramp.Zone, st.Ramp.Channel, st.Ramp.To, st.Ramp.Over)
	case StepZone:
		b, _ := json.Marshal(st.Zone)
		return st.Zone.Zone + " " + string(b)
	case StepPerson:
		return fmt.Sprintf("%s %s %s %s", st.Person.Zone, st.Person.Action, st.Person.ID, st.Person.Posture)
	case StepScene:
		return fmt.Sprintf("%s → %d people", st.Scene.Zone, len(st.Scene.People))
	case StepFault:
		b, _ := json.Marshal(st.Fault)
		return st.Fault.Device + " " + string(b) + map[bool]string{true: " (clear)"}[st.Fault.Clear]
	case StepOutside:
		v = st.Outside
	case StepLLMFault:
		if st.LLMFault.Clear {
			return "clear"
		}
		v = st.LLMFault.Fault
	case StepLLMRules:
		return fmt.Sprintf("%d rules (%s)", len(st.LLMRules.Rules), st.LLMRules.Mode)
	case StepClock:
		if st.Clock.Pause > 0 {
			return fmt.Sprintf("pause %v (wall)", st.Clock.Pause)
		}
		return fmt.Sprintf("speed %g", *st.Clock.Speed)
	case StepPublish:
		return st.Publish.Topic
	case StepProcess:
		return st.Process.Action + " " + st.Process.Name
	case StepComplete:
		return fmt.Sprintf("%s completes %q in %s", st.Complete.Person, st.Complete.Title, st.Complete.Zone)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func nonNil(rules []mockllm.Rule) []mockllm.Rule {
	if rules == nil {
		return []mockllm.Rule{}
	}
	return rules
}
