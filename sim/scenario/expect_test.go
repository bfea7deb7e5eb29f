package scenario

import (
	"encoding/xml"
	"github.com/somsgo/soms/sim/stepper"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/sim/mockllm"
)

var t0 = DefaultStart

func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

func observed() *Observations {
	return &Observations{
		Start: t0, End: at(60),
		Tasks: []ObservedTask{
			{ID: 1, Title: "換気を行ってください", Zone: "meeting_room", Types: []string{"environment"}, Urgency: 2, CreatedAt: at(6)},
			{ID: 2, Title: "コーヒー豆を補充してください", Zone: "kitchen", Types: []string{"supply"}, Urgency: 1, CreatedAt: at(40)},
		},
		Commands: []ObservedCommand{{At: at(5), Agent: "hvac_01", Tool: "set_temperature", Args: map[string]any{"temperature": 24.0}}},
		Voice:    []ObservedVoice{{At: at(8), Zone: "main", Message: "誰かセンサーにいたずらしましたか？", Tone: "humorous"}},
		LLM: []mockllm.Recorded{
			{Seq: 1, At: at(1), Rule: "fault:error", Faults: []string{"error"}},
			{Seq: 2, At: at(2), Rule: "fault:error", Faults: []string{"error"}},
			{Seq: 3, At: at(6), Rule: "high_co2", Response: llm.Message{ToolCalls: []llm.ToolCall{{Function: llm.FunctionCall{Name: "create_task"}}}}},
		},
		World: map[string][]WorldSample{"meeting_room": {
			{At: at(1), Doc: map[string]any{"channels": map[string]any{"co2": map[string]any{"value": 950.0}}, "person_count": 6.0}},
			{At: at(4), Doc: map[string]any{"channels": map[string]any{"co2": map[string]any{"value": 1120.0}}, "person_count": 6.0}},
			{At: at(30), Doc: map[string]any{"channels": map[string]any{"co2": map[string]any{"value": 700.0}}, "person_count": 0.0}},
		}},
		Wallet:    map[int64][]Sample{7: {{At: at(50), Value: 1500}}},
		WalletErr: "",
		Events:    []ObservedEvent{{At: at(4), Zone: "meeting_room", Type: "co2_threshold_exceeded"}},
	}
}

func TestEvaluate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	w := func(after, within int) Window {
		return Window{After: time.Duration(after) * time.Minute, Within: time.Duration(within) * time.Minute}
	}
	exp := func(kind string, win Window, set func(*Expectation)) Expectation {
		e := Expectation{Kind: kind, After: win.After, Within: win.Within}
		set(&e)
		return e
	}
	tests := []struct {
		name string
		e    Expectation
		pass bool
		msg  string
	}{
		{"task in window", exp(ExpectTaskCreated, w(0, 10), func(e *Expectation) { e.Task = &TaskMatch{Title: "換気", Zone: "meeting_room", Type: "environment"} }), true, "#1"},
		{"task too late for the window", exp(ExpectTaskCreated, w(0, 5), func(e *Expectation) { e.Task = &TaskMatch{Title: "換気"} }), false, "tasks seen"},
		{"task in another zone", exp(ExpectTaskCreated, w(0, 60), func(e *Expectation) { e.Task = &TaskMatch{Title: "換気", Zone: "main"} }), false, "0 matching"},
		{"urgency too low", exp(ExpectTaskCreated, w(0, 60), func(e *Expectation) { e.Task = &TaskMatch{Zone: "kitchen", MinUrgency: i(3)} }), false, ""},
		{"exactly one", exp(ExpectTaskCreated, w(0, 60), func(e *Expectation) { e.Task = &TaskMatch{Count: 1, Exactly: true, Zone: "meeting_room"} }), true, ""},
		{"exactly one but two", exp(ExpectTaskCreated, w(0, 60), func(e *Expectation) { e.Task = &TaskMatch{Count: 1, Exactly: true} }), false, "2 matching"},
		{"no task while one appears", exp(ExpectTaskNotCreated, w(30, 20), func(e *Expectation) { e.Task = &TaskMatch{Zone: "kitchen"} }), false, "#2"},
		{"no task before it appears", exp(ExpectTaskNotCreated, w(0, 30), func(e *Expectation) { e.Task = &TaskMatch{Zone: "kitchen"} }), true, ""},
		{"command with numeric args", exp(ExpectDeviceCommand, w(0, 10), func(e *Expectation) {
			e.Command = &CommandMatch{Agent: "hvac_01", Tool: "set_temperature", Args: map[string]any{"temperature": 24}}
		}), true, ""},
		{"command with other args", exp(ExpectDeviceCommand, w(0, 10), func(e *Expectation) {
			e.Command = &CommandMatch{Agent: "hvac_01", Args: map[string]any{"temperature": 22}}
		}), false, "sent: hvac_01.set_temperature"},
		{"no command but one sent", exp(ExpectNoDeviceCommand, w(0, 10), func(e *Expectation) { e.Command = &CommandMatch{Agent: "hvac_01"} }), false, "was sent"},
		{"voice contains", exp(ExpectVoiceEvent, w(5, 10), func(e *Expectation) { e.Voice = &VoiceMatch{Zone: "main", Contains: "いたずら"} }), true, ""},
		{"voice wrong tone", exp(ExpectVoiceEvent, w(5, 10), func(e *Expectation) { e.Voice = &VoiceMatch{Tone: "alert"} }), false, ""},
		{"llm faults counted", exp(ExpectLLMRequests, w(0, 5), func(e *Expectation) { e.LLM = &LLMMatch{Fault: "error", AtLeast: 2} }), true, "2 matching"},
		{"llm at most", exp(ExpectLLMRequests, w(0, 60), func(e *Expectation) { e.LLM = &LLMMatch{AtMost: i(2)} }), false, "3 matching"},
		{"llm by tool", exp(ExpectLLMRequests, w(0, 60), func(e *Expectation) { e.LLM = &LLMMatch{Tool: "create_task", AtLeast: 1} }), true, ""},
		{"world above", exp(ExpectWorld, w(0, 10), func(e *Expectation) {
			e.World = &WorldCheck{Zone: "meeting_room", Path: "channels.co2.value", Above: f(1000)}
		}), true, "1120"},
		{"world always fails", exp(ExpectWorld, w(0, 60), func(e *Expectation) {
			e.World = &WorldCheck{Zone: "meeting_room", Path: "person_count", Equals: 6, Always: true}
		}), false, ""},
		{"world missing path", exp(ExpectWorld, w(0, 60), func(e *Expectation) {
			e.World = &WorldCheck{Zone: "meeting_room", Path: "channels.pm25.value", Below: f(10)}
		}), false, "never matched"},
		{"wallet balance", exp(ExpectWalletBalance, w(0, 60), func(e *Expectation) { e.Wallet = &WalletCheck{User: 7, AtLeast: f(1000)} }), true, ""},
		{"wallet of nobody", exp(ExpectWalletBalance, w(0, 60), func(e *Expectation) { e.Wallet = &WalletCheck{User: 8, AtLeast: f(1)} }), false, "no wallet reading"},
		{"brain event", exp(ExpectBrainEvent, w(0, 10), func(e *Expectation) { e.Event = &EventMatch{Type: "co2_threshold_exceeded"} }), true, ""},
		{"brain event missing", exp(ExpectBrainEvent, w(0, 10), func(e *Expectation) { e.Event = &EventMatch{Type: "sensor_tamper"} }), false, "co2_threshold_exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Evaluate(&Scenario{Expect: []Expectation{tc.e}}, observed())[0]
			if r.Passed != tc.pass || !strings.Contains(r.Message, tc.msg) {
				t.Fatalf("passed=%v %q, want passed=%v containing %q", r.Passed, r.Message, tc.pass, tc.msg)
			}
		})
	}
}

func TestReportsRender(t *testing.T) {
	rep := &Report{
		Name: "demo", File: "scenarios/demo.yaml", Start: t0, Seed: 1, Speed: 100, SimDuration: time.Hour,
		Results: []Result{{Line: 12, Kind: ExpectTaskCreated, Description: "task_created title=換気", Passed: false, Message: "0 matching tasks"}},
		Steps:   []StepResult{{Line: 8, Kind: StepZone, Offset: "+00:01:00", Error: "HTTP 404"}},
		Timeline: []Entry{
			{At: at(1), Offset: "+00:01:00", Kind: "step", Zone: "main", Text: "zone main"},
			{At: at(6), Offset: "+00:06:00", Kind: "task", Zone: "main", Text: "task #1 <b>"},
		},
		Series: map[string]map[string]map[string][]Point{"main": {"co2": {"env_01": {{At: at(0), Value: 600}, {At: at(10), Value: 900}}}}},
	}
	x, err := JUnit(rep)
	if err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(x, &suites); err != nil {
		t.Fatal(err)
	}
	s := suites.Suites[0]
	if s.Tests != 2 || s.Failures != 1 || s.Errors != 1 || !strings.Contains(s.Cases[0].Failure.Text, "scenarios/demo.yaml:12") {
		t.Fatalf("junit %+v", s)
	}
	page, err := HTML(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "main — co2", "FAILED", "task #1 &lt;b&gt;", "scenarios/demo.yaml:8: step zone"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// A run at speed max writes its reports too (JSON has no +Inf).
	rep.Speed = stepper.Speed(stepper.Max)
	files, err := WriteReport(t.TempDir(), rep)
	if err != nil {
		t.Fatalf("writing the reports of a run at max: %v", err)
	}
	b, err := os.ReadFile(files["json"])
	if err != nil || !strings.Contains(string(b), `"speed": "max"`) && !strings.Contains(string(b), `"speed":"max"`) {
		t.Errorf("report.json says %.200s (%v), want speed max", b, err)
	}
}

func TestNothingLost(t *testing.T) {
	e := Expectation{Kind: ExpectNothingLost, Lost: &NothingLost{}}
	for _, c := range []struct {
		lost Lost
		pass bool
		msg  string
	}{
		{Lost{Tasks: 2, Completed: 1, Ledger: 1}, true, "all still there"},
		{Lost{Tasks: 2, Completed: 1, Ledger: 1, Missing: []string{"task #2's completion is gone"}}, false, "completion is gone"},
		{Lost{Tasks: 2, Err: "reading task #1: connection refused"}, false, "could not be read"},
		{Lost{}, false, "want at least 1 tasks"},
	} {
		o := observed()
		o.Lost = c.lost
		var r Result
		evalLost(&r, e, o)
		if r.Passed != c.pass || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%+v: passed %v %q; want %v, %q", c.lost, r.Passed, r.Message, c.pass, c.msg)
		}
	}
}
