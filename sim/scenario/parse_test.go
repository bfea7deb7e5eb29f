package scenario

import (
	"github.com/somsgo/soms/sim/stepper"
	"strings"
	"testing"
	"time"
)

const goodScenario = `name: CO2 in the meeting room
seed: 7
start: 2026-11-23T10:00:00+09:00
speed: 150
llm:
  rules:
    - name: vent
      match: 'CO2'
      tool: create_task
      arguments: {title: 換気, description: d}
  faults:
    - {kind: latency, latency: 30s, count: 1}
timeline:
  - at: 0s
    people: {zone: meeting_room, count: 6}
  - at: 2m
    zone: {zone: meeting_room, co2: 1400, window_open: false}
  - at: 3m
    fault: {device: swarm_hub_01.leaf_env_01, tamper: {temperature: 8}}
  - at: 4m
    llm_fault: {kind: error, count: 2}
  - at: 5m
    person: {zone: meeting_room, id: alice, posture: fallen}
  - at: 6m
    clock: {speed: 300}
expect:
  - task_created: {title: 換気, zone: meeting_room, within: 15m}
  - task_not_created: {zone: kitchen, within: 20m}
  - world: {zone: meeting_room, path: channels.co2.value, above: 1000, within: 10m}
`

func TestParseGood(t *testing.T) {
	s, err := Parse("co2.yaml", []byte(goodScenario))
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != 7 || s.Speed != 150 || s.Start.Hour() != 10 || len(s.Timeline) != 6 || len(s.Expect) != 3 {
		t.Fatalf("scenario %+v", s)
	}
	if st := s.Timeline[1]; st.Kind != StepZone || st.At != 2*time.Minute || *st.Zone.CO2 != 1400 || st.Line != 16 {
		t.Fatalf("step %+v", st)
	}
	if f := s.LLM.Faults[0]; time.Duration(f.Latency) != 30*time.Second {
		t.Fatalf("llm fault latency %v", f.Latency)
	}
	if e := s.Expect[0]; e.Kind != ExpectTaskCreated || e.Within != 15*time.Minute || e.Line != 27 {
		t.Fatalf("expectation %+v", e)
	}
	if s.Duration != 21*time.Minute {
		t.Fatalf("default duration %v", s.Duration)
	}
}

func TestParseErrorsHaveLines(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown step kind", "name: x\ntimeline:\n  - at: 1m\n    people: {zone: main, count: 1}\n  - at: 2m\n    foo: {}\n", `s.yaml:6: unknown step kind "foo"`},
		{"unknown field in a step", "name: x\ntimeline:\n  - at: 1m\n    people: {zone: main, count: 1, colour: red}\n", `s.yaml:4: unknown field "colour"`},
		{"two actions", "name: x\ntimeline:\n  - at: 1m\n    people: {zone: main, count: 1}\n    zone: {zone: main, co2: 900}\n", `s.yaml:5: step has two actions`},
		{"missing at", "name: x\ntimeline:\n  - people: {zone: main, count: 1}\n", `s.yaml:3: step people has no "at"`},
		{"bad duration", "name: x\ntimeline:\n  - at: soon\n    people: {zone: main, count: 1}\n", `s.yaml:3:`},
		{"unknown zone", "name: x\ntimeline:\n  - at: 1m\n    people: {zone: attic, count: 1}\n", `s.yaml:3: zone "attic" is not in layout`},
		{"unknown device", "name: x\ntimeline:\n  - at: 1m\n    fault: {device: toaster_01, offline: true}\n", `s.yaml:3: device "toaster_01"`},
		{"unknown expectation", "name: x\nexpect:\n  - task_exploded: {within: 5m}\n", `s.yaml:3: unknown expectation kind "task_exploded"`},
		{"world without comparison", "name: x\nexpect:\n  - world: {zone: main, path: channels.co2.value}\n", `s.yaml:3: world needs above`},
		{"top-level typo", "name: x\ntimelime: []\n", `s.yaml:2: unknown field "timelime"`},
		{"bad llm rule", "name: x\nllm:\n  rules: [{name: a, match: '(', content: c}]\n", `s.yaml:2: llm: rule "a": bad pattern`},
		{"bad posture", "name: x\ntimeline:\n  - at: 1m\n    person: {zone: main, posture: flying}\n", `s.yaml:3: posture "flying"`},
		{"no name", "seed: 1\n", `s.yaml: name is required`},
		{"not yaml", "name: [x\n", `s.yaml:`},
		{"speed", "name: x\nspeed: 99999\n", `s.yaml:2: speed must be`},
		{"speed word", "name: x\nspeed: fast\n", `s.yaml:2: speed "fast": want a number`},
		{"ramp channel", "name: x\ntimeline:\n  - at: 1m\n    ramp: {zone: main, channel: smell, to: 3, over: 5m}\n", `s.yaml:3: ramp channel`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// speed: max runs as fast as the processes allow (docs/simulator.md).
func TestParseSpeed(t *testing.T) {
	for in, want := range map[string]float64{"120": 120, "max": stepper.Max, "MAX": stepper.Max, "0.5": 0.5} {
		s, err := Parse("s.yaml", []byte("name: x\nspeed: "+in+"\n"))
		if err != nil {
			t.Fatalf("speed %s: %v", in, err)
		}
		if s.Speed != want {
			t.Errorf("speed %s read as %v, want %v", in, s.Speed, want)
		}
	}
}

func TestParseCollectsEveryError(t *testing.T) {
	in := "name: x\ntimeline:\n  - at: 1m\n    foo: {}\n  - at: 2m\n    people: {zone: attic, count: 1}\n"
	_, err := Parse("s.yaml", []byte(in))
	es, ok := err.(Errors)
	if !ok || len(es) != 2 || es[0].Line != 4 || es[1].Line != 5 {
		t.Fatalf("errors %v", err)
	}
}

// Every step action and expectation kind decodes into its own part and is
// checked by its own rules.
func TestParseEveryKind(t *testing.T) {
	in := `name: every kind
timeline:
  - {at: 1m, people: {zone: main, count: 2}}
  - {at: 2m, zone: {zone: main, co2: 900}}
  - {at: 3m, person: {zone: main, id: alice, posture: sitting}}
  - {at: 4m, scene: {zone: main, people: [{id: bob, x: 0.5, y: 0.5, posture: standing}]}}
  - {at: 5m, ramp: {zone: main, channel: co2, to: 1500, over: 10m}}
  - {at: 6m, fault: {device: env_01, offline: true}}
  - {at: 7m, outside: {mean_c: 3}}
  - {at: 8m, llm_fault: {kind: error, count: 1}}
  - {at: 9m, llm_rules: {rules: [{name: r, match: x, content: c}]}}
  - {at: 10m, clock: {pause: 1s}}
  - {at: 11m, publish: {topic: office/main/sensor/x_01/co2, payload: {value: 1}}}
expect:
  - task_created: {zone: main, within: 20m}
  - task_not_created: {zone: kitchen, within: 20m}
  - device_command: {agent: hvac_01, within: 20m}
  - no_device_command: {tool: open_window, within: 20m}
  - voice_event: {zone: main, within: 20m}
  - llm_requests: {within: 20m}
  - wallet_balance: {user: 1, at_least: 10, within: 20m}
  - world: {zone: main, path: channels.co2.value, above: 400, within: 20m}
  - brain_event: {type: co2_threshold_exceeded, within: 21m}
`
	s, err := Parse("k.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	tl := s.Timeline
	if len(tl) != 11 || tl[0].People.Count != 2 || *tl[1].Zone.CO2 != 900 || tl[2].Person.ID != "alice" ||
		tl[3].Scene.People[0].ID != "bob" || tl[4].Ramp.To != 1500 || !tl[5].Fault.Offline || *tl[6].Outside.MeanC != 3 ||
		tl[7].LLMFault.Count != 1 || tl[8].LLMRules.Rules[0].Name != "r" || tl[9].Clock.Pause != time.Second ||
		tl[10].Publish.Topic != "office/main/sensor/x_01/co2" {
		t.Fatalf("timeline %+v", tl)
	}
	for i, st := range tl {
		if st.Kind != stepKinds[i].name {
			t.Errorf("step %d kind %q, want %q", i, st.Kind, stepKinds[i].name)
		}
	}
	ex := s.Expect
	if len(ex) != 9 || ex[0].Task.Zone != "main" || ex[1].Task.Zone != "kitchen" || ex[2].Command.Agent != "hvac_01" ||
		ex[3].Command.Tool != "open_window" || ex[4].Voice.Zone != "main" || ex[5].LLM.AtLeast != 1 || ex[6].Wallet.User != 1 ||
		*ex[7].World.Above != 400 || ex[8].Event.Type != "co2_threshold_exceeded" || ex[8].Within != 21*time.Minute {
		t.Fatalf("expectations %+v", ex)
	}
	if s.Duration != 22*time.Minute {
		t.Fatalf("duration %v", s.Duration)
	}

	bad := []struct{ kind, doc string }{
		{"scene", "timeline:\n  - {at: 1m, scene: {zone: main, people: [{id: a, x: 7, y: 0.5}]}}\n"},
		{"llm_rules", "timeline:\n  - {at: 1m, llm_rules: {rules: [{name: a, match: '(', content: c}]}}\n"},
		{"publish", "timeline:\n  - {at: 1m, publish: {topic: 'office/#'}}\n"},
		{"clock", "timeline:\n  - {at: 1m, clock: {}}\n"},
		{"wallet_balance", "expect:\n  - wallet_balance: {user: 1}\n"},
	}
	for _, tc := range bad {
		if _, err := Parse("b.yaml", []byte("name: x\n"+tc.doc)); err == nil || !strings.Contains(err.Error(), "b.yaml:3: ") {
			t.Errorf("%s: error %v, want one on line 3", tc.kind, err)
		}
	}
}
