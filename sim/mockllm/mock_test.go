package mockllm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
)

var offered = []llm.Tool{
	{Type: "function", Function: llm.ToolFunction{Name: "create_task"}},
	{Type: "function", Function: llm.ToolFunction{Name: "speak"}},
}

func request(user string, tools []llm.Tool) llm.ChatRequest {
	return llm.ChatRequest{Model: "m", Tools: tools, Messages: []llm.Message{
		// The system prompt mentions temperature and 高 like the original's did.
		{Role: llm.RoleSystem, Content: "温度が高い場合は対応する。CO2 1000ppm を超えたら換気。"},
		{Role: llm.RoleUser, Content: llm.Content(user)},
	}}
}

func TestDecide(t *testing.T) {
	m := New(clock.NewManual(time.Unix(0, 0)), "mock-qwen", 10)
	tests := []struct {
		name     string
		req      llm.ChatRequest
		rule     string
		tool     string
		wantZone string
	}{
		{"co2 alert line", request("## 注意\n- [meeting_room] CO2 1400ppm（基準 1000ppm 超）換気が必要\n", offered), "high_co2", "create_task", "meeting_room"},
		{"heat alert", request("- [main] 室温 29.5℃ 高温（快適範囲 18–26℃）", offered), "high_temperature", "create_task", "main"},
		{"system prompt alone does not trigger", request("## 現在のオフィスの状態\n### main\n- 温度: 23.0℃", offered), "fallback", "", ""},
		{"tool not offered is never called", request("- [main] person_entered", []llm.Tool{offered[0]}), "fallback", "", ""},
		{"entry greets", request("- [main] 入室を検知しました (2人) [person_entered]", offered), "person_entered", "speak", "main"},
		{"no tools is voice text", request("タイトル: 換気", nil), "voice_announcement", "", ""},
		{"no tools, no keyword", request("こんにちは", nil), "voice", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, rule, err := m.decide(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if rule != tc.rule {
				t.Fatalf("rule = %s, want %s", rule, tc.rule)
			}
			if tc.tool == "" {
				if len(msg.ToolCalls) != 0 {
					t.Fatalf("unexpected tool call %+v", msg.ToolCalls)
				}
				return
			}
			if len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Function.Name != tc.tool {
				t.Fatalf("tool calls = %+v", msg.ToolCalls)
			}
			args, err := msg.ToolCalls[0].Function.Arguments.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if args["zone"] != tc.wantZone {
				t.Fatalf("zone = %v, want %s", args["zone"], tc.wantZone)
			}
		})
	}
}

func TestToolResultEndsTheLoop(t *testing.T) {
	m := New(clock.NewManual(time.Unix(0, 0)), "mock-qwen", 10)
	req := request("- [meeting_room] CO2 1400ppm 超 換気", offered)
	req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: "call_1", Content: `{"success":true}`})
	msg, rule, _ := m.decide(&req)
	if rule != "tool_result" || len(msg.ToolCalls) != 0 {
		t.Fatalf("rule %s, calls %v", rule, msg.ToolCalls)
	}
}

func TestToolResultRulesQuoteTheResult(t *testing.T) {
	m := New(clock.NewManual(time.Unix(0, 0)), "mock-qwen", 10)
	rules := []Rule{{Name: "co2 answer", Match: `CO2: (?P<co2>\d+)ppm`, Scope: ScopeToolResult, Content: "CO2は{{co2}}ppmです。"}}
	if err := m.Apply(RuleSet{Mode: ModePrepend, Rules: rules}); err != nil {
		t.Fatal(err)
	}
	withResults := func(user string, results ...string) llm.ChatRequest {
		req := request(user, offered)
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleAssistant, Content: "確認します。"})
		for i, r := range results {
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: fmt.Sprint("call_", i), Content: llm.Content(r)})
		}
		return req
	}
	tests := []struct {
		name, rule, content string
		req                 llm.ChatRequest
	}{
		{"quotes the matching result", "co2 answer", "CO2は1312ppmです。", withResults("会議室は？", "### 会議室\n- 温度: 23.0℃\n- CO2: 1312ppm →")},
		{"any of the trailing results", "co2 answer", "CO2は800ppmです。", withResults("会議室は？", `{"success":true}`, "- CO2: 800ppm →")},
		{"no match: the plain closing answer", "tool_result", "対応しました。引き続き監視します。", withResults("会議室は？", "- 温度: 23.0℃")},
		// The user's question mentions CO2 too, but only tool results count.
		{"a user message never matches", "fallback", "環境は正常です。対応は不要です。", request("CO2: 999ppm", offered)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, rule, err := m.decide(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if rule != tc.rule || string(msg.Content) != tc.content || len(msg.ToolCalls) != 0 {
				t.Fatalf("rule %s, content %q, calls %v; want %s %q", rule, msg.Content, msg.ToolCalls, tc.rule, tc.content)
			}
		})
	}
}

func TestCompileRulesErrors(t *testing.T) {
	tests := []Rule{
		{Name: "", Match: "x", Content: "c"},
		{Name: "bad", Match: "(", Content: "c"},
		{Name: "scope", Match: "x", Scope: "everything", Content: "c"},
		{Name: "empty", Match: "x"},
	}
	for _, r := range tests {
		if _, err := CompileRules([]Rule{r}); err == nil {
			t.Errorf("rule %+v accepted", r)
		}
	}
}

func TestHTTPShapeAndRecording(t *testing.T) {
	m := New(clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)), "mock-qwen", 2)
	r := chi.NewRouter()
	m.Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()

	post := func(body any) *http.Response {
		b, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post(request("- [kitchen] CO2 1200ppm（基準 1000ppm 超）換気が必要", offered))
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	choice := raw["choices"].([]any)[0].(map[string]any)
	if choice["finish_reason"] != "tool_calls" || raw["object"] != "chat.completion" {
		t.Fatalf("response = %v", raw)
	}
	call := choice["message"].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
	if _, isString := call["function"].(map[string]any)["arguments"].(string); !isString || call["type"] != "function" {
		t.Fatalf("tool call not in OpenAI shape: %v", call)
	}

	bad := post(map[string]any{"messages": []any{}})
	bad.Body.Close()
	if bad.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty messages: %d", bad.StatusCode)
	}

	for range 3 {
		post(request("hello", offered)).Body.Close()
	}
	rec, _ := http.Get(srv.URL + "/control/requests")
	var log []Recorded
	_ = json.NewDecoder(rec.Body).Decode(&log)
	rec.Body.Close()
	if len(log) != 2 || log[1].Rule != "fallback" {
		t.Fatalf("recorded %d requests (keep=2): %+v", len(log), log)
	}

	put, _ := http.NewRequest(http.MethodPut, srv.URL+"/control/rules", bytes.NewBufferString(`[{"name":"x","match":"(","content":"c"}]`))
	pr, _ := http.DefaultClient.Do(put)
	pr.Body.Close()
	if pr.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad rule accepted: %d", pr.StatusCode)
	}
}
