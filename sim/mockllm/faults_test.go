package mockllm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
)

func newServer(t *testing.T) (*Mock, *httptest.Server) {
	t.Helper()
	m := New(clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)), "mock-qwen", 100)
	r := chi.NewRouter()
	m.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return m, srv
}

func send(t *testing.T, url, method, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func chatBody(t *testing.T, user string) string {
	b, err := json.Marshal(request(user, offered))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFaultInjection(t *testing.T) {
	co2 := "- [kitchen] CO2 1200ppm（基準 1000ppm 超）換気が必要"
	tests := []struct {
		name   string
		fault  string
		status int
		check  func(t *testing.T, body []byte)
	}{
		{"http 500", `{"kind":"error"}`, 500, nil},
		{"http 503", `{"kind":"error","status":503}`, 503, nil},
		{"malformed json", `{"kind":"malformed"}`, 200, func(t *testing.T, b []byte) {
			if json.Valid(b) {
				t.Fatalf("body is valid JSON: %s", b)
			}
		}},
		{"think block", `{"kind":"think"}`, 200, func(t *testing.T, b []byte) {
			var r llm.ChatResponse
			_ = json.Unmarshal(b, &r)
			msg := r.Choices[0].Message
			if !strings.HasPrefix(string(msg.Content), "<think>") || len(msg.ToolCalls) != 1 {
				t.Fatalf("message %+v", msg)
			}
		}},
		{"tool calls as text", `{"kind":"text_tool_calls"}`, 200, func(t *testing.T, b []byte) {
			var r llm.ChatResponse
			_ = json.Unmarshal(b, &r)
			msg := r.Choices[0].Message
			if len(msg.ToolCalls) != 0 || !strings.Contains(string(msg.Content), `<tool_call>`) || !strings.Contains(string(msg.Content), `"name":"create_task"`) || r.Choices[0].FinishReason != "stop" {
				t.Fatalf("message %+v", msg)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newServer(t)
			if st, b := send(t, srv.URL+"/control/faults", "POST", tc.fault); st != 200 {
				t.Fatalf("adding fault: %d %s", st, b)
			}
			st, body := send(t, srv.URL+"/v1/chat/completions", "POST", chatBody(t, co2))
			if st != tc.status {
				t.Fatalf("status %d, want %d: %s", st, tc.status, body)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func TestFaultCountAndProbability(t *testing.T) {
	m, srv := newServer(t)
	send(t, srv.URL+"/control/faults", "PUT", `[{"kind":"error","count":2}]`)
	var statuses []int
	for range 4 {
		st, _ := send(t, srv.URL+"/v1/chat/completions", "POST", chatBody(t, "hello"))
		statuses = append(statuses, st)
	}
	if want := []int{500, 500, 200, 200}; !slicesEqual(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	// Probability draws come from the seeded generator: same seed, same run.
	run := func() []int {
		m.SetSeed(42)
		send(t, srv.URL+"/control/faults", "PUT", `[{"kind":"error","probability":0.5}]`)
		var out []int
		for range 20 {
			st, _ := send(t, srv.URL+"/v1/chat/completions", "POST", chatBody(t, "hello"))
			out = append(out, st)
		}
		return out
	}
	a, b := run(), run()
	fails := 0
	for _, s := range a {
		if s == 500 {
			fails++
		}
	}
	if !slicesEqual(a, b) || fails == 0 || fails == 20 {
		t.Fatalf("seeded runs %v / %v", a, b)
	}
	if st, _ := send(t, srv.URL+"/control/faults", "POST", `{"kind":"explode"}`); st != 422 {
		t.Fatalf("unknown fault kind accepted: %d", st)
	}
}

func TestTimeoutHangsUntilClientGivesUp(t *testing.T) {
	m, srv := newServer(t)
	send(t, srv.URL+"/control/faults", "POST", `{"kind":"timeout","count":1}`)
	client := llm.NewClient(llm.Config{URL: srv.URL + "/v1", Model: "m", Timeout: 300 * time.Millisecond})
	began := time.Now()
	_, err := client.Chat(context.Background(), request("hello", offered).Messages, offered)
	if err == nil || time.Since(began) < 250*time.Millisecond {
		t.Fatalf("err %v after %v", err, time.Since(began))
	}
	if recs := m.filtered(RequestFilter{Fault: FaultTimeout}); len(recs) != 1 || recs[0].Status != 0 {
		t.Fatalf("recorded %+v", recs)
	}
}

func TestLatencyIsSimulatedTime(t *testing.T) {
	c := clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	m := New(c, "mock-qwen", 10)
	r := chi.NewRouter()
	m.Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	send(t, srv.URL+"/control/faults", "POST", `{"kind":"latency","latency":"30s"}`)
	done := make(chan int, 1)
	go func() {
		st, _ := send(t, srv.URL+"/v1/chat/completions", "POST", chatBody(t, "hello"))
		done <- st
	}()
	if err := c.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("answered before simulated latency passed")
	default:
	}
	c.Advance(30 * time.Second)
	if st := <-done; st != 200 {
		t.Fatalf("status %d", st)
	}
}

func TestRuleSetFilesAndFilters(t *testing.T) {
	m, srv := newServer(t)
	yamlRules := `mode: prepend
rules:
  - name: hvac
    match: '\[(?P<zone>\w+)\][^\n]*室温[^\n]*高温'
    tool: create_task
    arguments: {title: "エアコンを確認", description: "{{zone}}", zone: "{{zone}}"}
faults:
  - kind: think
    count: 1
`
	req, _ := http.NewRequest("POST", srv.URL+"/control/rules", bytes.NewBufferString(yamlRules))
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST rules: %d", resp.StatusCode)
	}
	send(t, srv.URL+"/v1/chat/completions", "POST", chatBody(t, "- [main] 室温 29.5℃ 高温（快適範囲 18–26℃）"))
	send(t, srv.URL+"/v1/chat/completions", "POST", chatBody(t, "- [kitchen] CO2 1200ppm（基準 1000ppm 超）換気が必要"))
	send(t, srv.URL+"/v1/chat/completions", "POST", chatBody(t, "nothing"))
	tests := []struct {
		query string
		rules []string
	}{
		{"", []string{"hvac", "high_co2", "fallback"}},
		{"?rule=hvac", []string{"hvac"}},
		{"?tool=create_task", []string{"hvac", "high_co2"}},
		{"?fault=think", []string{"hvac"}},
		{"?contains=CO2", []string{"high_co2"}},
		{"?since_seq=1&limit=1", []string{"fallback"}},
	}
	for _, tc := range tests {
		_, b := send(t, srv.URL+"/control/requests"+tc.query, "GET", "")
		var recs []Recorded
		_ = json.Unmarshal(b, &recs)
		var got []string
		for _, r := range recs {
			got = append(got, r.Rule)
		}
		if !slicesEqual(got, tc.rules) {
			t.Errorf("%s: rules %v, want %v", tc.query, got, tc.rules)
		}
	}
	if st, _ := send(t, srv.URL+"/control/requests?limit=x", "GET", ""); st != 422 {
		t.Fatalf("bad limit: %d", st)
	}
	_ = m
}

func TestParseRuleSetErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown field has its line", "rules:\n  - name: a\n    match: x\n    content: c\n    colour: red\n", "line 5"},
		{"bad mode", "mode: merge\nrules: []\n", "mode"},
		{"bad pattern", "- name: a\n  match: '('\n  content: c\n", "bad pattern"},
		{"empty", "  \n", "empty"},
		{"bad fault", "rules: []\nfaults: [{kind: boom}]\n", "boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRuleSet([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	rs, err := ParseRuleSet([]byte(`[{"name":"a","match":"x","content":"c"}]`))
	if err != nil || len(rs.Rules) != 1 || rs.Mode != ModePrepend {
		t.Fatalf("JSON list: %+v %v", rs, err)
	}
}

func TestVoiceAndEngagementRules(t *testing.T) {
	m := New(clock.NewManual(time.Unix(0, 0)), "mock-qwen", 10)
	voice := func(text string) (string, string) {
		req := llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleSystem, Content: "あなたはオフィスの音声アシスタントです。"}, {Role: llm.RoleUser, Content: llm.Content(text)}}}
		msg, rule, err := m.decide(&req)
		if err != nil {
			t.Fatal(err)
		}
		return rule, string(msg.Content)
	}
	tests := []struct{ in, rule, contains string }{
		{"タスクのアナウンス文を作ってください。\nタイトル: 換気を行ってください\nエリア: 会議室\n", "voice_announcement_zone", "会議室で換気を行ってください"},
		{"タイトル: 換気\nエリア: 不明\n", "voice_announcement", "お願いがあります。換気を"},
		{"タスクが完了しました。お礼を述べてください。\nタイトル: 換気\n", "voice_completion_title", "「換気」"},
		{"ユーザーがタスクを拒否しました", "voice_rejection", ""},
		{"引き受けてくれた人に感謝を伝えて", "voice_thanks", ""},
	}
	for _, tc := range tests {
		rule, content := voice(tc.in)
		if rule != tc.rule || !strings.Contains(content, tc.contains) {
			t.Errorf("%q → %s %q, want %s containing %q", tc.in, rule, content, tc.rule, tc.contains)
		}
	}
	req := request("- [main] 手を振っています (engagement_waved)", offered)
	msg, rule, _ := m.decide(&req)
	if rule != "engagement_waved" || len(msg.ToolCalls) != 1 || strings.Contains(string(msg.ToolCalls[0].Function.Arguments), "{{pool}}") {
		t.Fatalf("engagement: %s %+v", rule, msg)
	}
	fall := request("- [meeting_room] 転倒を検知しました（信頼度 0.91）至急確認が必要 [fall_detected]", offered)
	msg, rule, _ = m.decide(&fall)
	if args, _ := msg.ToolCalls[0].Function.Arguments.Decode(); rule != "fall" || args["urgency"] != 4.0 {
		t.Fatalf("fall: %s %v", rule, args)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
