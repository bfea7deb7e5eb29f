package brain

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/dashboard"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/services/backend"
	"github.com/somsgo/soms/services/backend/migrations"
	"github.com/somsgo/soms/services/brain/worldmodel"
	"github.com/somsgo/soms/sim/mockllm"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestExpiry(t *testing.T) {
	tests := []struct {
		types []string
		want  time.Duration
	}{
		{[]string{"general"}, 24 * time.Hour},
		{[]string{"environment"}, time.Hour},
		{[]string{"supply"}, 7 * 24 * time.Hour},
		{[]string{"environment", "urgent"}, 30 * time.Minute},
		{[]string{"supply", "urgent"}, 30 * time.Minute},
	}
	for _, tc := range tests {
		if got := expiry(tc.types); got != tc.want {
			t.Errorf("expiry(%v) = %v, want %v", tc.types, got, tc.want)
		}
	}
}

func TestTitlesOverlap(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"換気を行ってください", "換気を行ってください", true},
		{"会議室の換気を行ってください", "換気を行ってください", true},
		{"Open the Window", "open the window now", true},
		{"換気を行ってください", "室温を下げてください", false},
	}
	for _, tc := range tests {
		if got := titlesOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("titlesOverlap(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestBuildPrompt(t *testing.T) {
	c := clock.NewManual(t0)
	w := worldmodel.New(c)
	_ = w.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":1400}`))
	_ = w.Ingest("office/main/sensor/env_01/temperature", []byte(`{"value":22.5}`))
	zone := "meeting_room"
	p := buildPrompt(w.Zones(), w.EventsSince(time.Time{}), []dashboard.Task{{Title: "換気を行ってください", Zone: &zone, TaskType: []string{"environment"}}}, nil,
		[]action{{at: t0.Add(-2 * time.Minute), tool: "create_task", summary: "title=換気", success: false}}, c.Now())
	for _, want := range []string{
		"- [meeting_room] CO2 1400ppm", "## 最近のイベント", "co2_threshold_exceeded",
		"## アクティブなタスク\n- 換気を行ってください (meeting_room)", "2分前: create_task(title=換気) ✗", "22.5℃",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("prompt misses %q:\n%s", want, p)
		}
	}
}

// harness wires a brain to the real mock LLM and the real backend API (over
// HTTP, on the test PostgreSQL), without MQTT: messages are ingested directly.
type rig struct {
	b     *brain
	clock *clock.Sim
	mock  *mockllm.Mock
	dash  *dashboard.Client
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	c := clock.NewManual(t0)
	pool, err := pg.Open(ctx, testenv.Postgres(t), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pg.Migrate(ctx, pool, "dashboard", migrations.FS, logging.Discard()); err != nil {
		t.Fatal(err)
	}
	br := chi.NewRouter()
	backend.NewAPI(pool, c, logging.Discard(), "tok", "local").Routes(br)
	bsrv := httptest.NewServer(br)
	t.Cleanup(bsrv.Close)

	mock := mockllm.New(c, "mock-qwen", 100)
	mr := chi.NewRouter()
	mock.Routes(mr)
	msrv := httptest.NewServer(mr)
	t.Cleanup(msrv.Close)

	cfg := Config{MaxIterations: 5, EventWindow: 300 * time.Second}
	b := &brain{
		cfg: cfg, clock: c, log: logging.Discard(), world: worldmodel.New(c),
		llm:     llm.NewClient(llm.Config{URL: msrv.URL + "/v1", Model: "mock-qwen", Timeout: 10 * time.Second, Temperature: 0.3, MaxTokens: 4096}),
		dash:    dashboard.NewClient(bsrv.URL, "tok"),
		metrics: newMetrics(prometheus.NewRegistry()),
	}
	return &rig{b: b, clock: c, mock: mock, dash: dashboard.NewClient(bsrv.URL, "")}
}

func TestCycleCreatesOneVentilationTask(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if err := r.b.world.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":1400}`)); err != nil {
		t.Fatal(err)
	}
	for range 3 { // the alert stays; repeated cycles must not duplicate the task
		if err := r.b.cycle(ctx); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(30 * time.Second)
	}
	tasks, err := r.dash.ListTasks(ctx, dashboard.TaskFilter{Zone: "meeting_room"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1: %+v", len(tasks), tasks)
	}
	task := tasks[0]
	if !task.HasType("environment") || task.ExpiresAt == nil || !task.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("task = %+v", task)
	}

	// The ReAct contract: the second request echoes the call and answers it.
	reqs := recorded(t, r)
	if len(reqs) < 2 {
		t.Fatalf("only %d LLM requests", len(reqs))
	}
	second := reqs[1].Request.Messages
	call := second[len(second)-2]
	result := second[len(second)-1]
	if call.Role != llm.RoleAssistant || len(call.ToolCalls) != 1 || result.Role != llm.RoleTool || result.ToolCallID != call.ToolCalls[0].ID {
		t.Fatalf("ReAct messages wrong: %+v / %+v", call, result)
	}
	if !strings.Contains(string(result.Content), `"success":true`) {
		t.Fatalf("tool result = %s", result.Content)
	}
	first := reqs[0].Request
	if first.Model != "mock-qwen" || first.Temperature == nil || *first.Temperature != 0.3 || first.MaxTokens != 4096 || len(first.Tools) == 0 {
		t.Fatalf("request parameters: model %s temp %v max %d tools %d", first.Model, first.Temperature, first.MaxTokens, len(first.Tools))
	}
}

func recorded(t *testing.T, r *rig) []mockllm.Recorded {
	t.Helper()
	mr := chi.NewRouter()
	r.mock.Routes(mr)
	rec := httptest.NewRecorder()
	mr.ServeHTTP(rec, httptest.NewRequest("GET", "/control/requests", nil))
	var out []mockllm.Recorded
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCycleSurvivesLLMOutage(t *testing.T) {
	r := newRig(t)
	r.b.llm = llm.NewClient(llm.Config{URL: "http://127.0.0.1:1/v1", Timeout: time.Second})
	_ = r.b.world.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":1400}`))
	if err := r.b.cycle(context.Background()); err == nil {
		t.Fatal("cycle reported success with the LLM unreachable")
	}
}

func TestToolErrors(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	tests := []struct {
		name, tool, args, want string
	}{
		{"bad json", "create_task", `{"title":`, "not a JSON object"},
		{"missing description", "create_task", `{"title":"x"}`, "required"},
		{"urgency out of range", "create_task", `{"title":"x","description":"y","urgency":7}`, "urgency"},
		{"unknown zone", "get_zone_status", `{"zone_id":"attic"}`, "unknown zone"},
		{"unknown tool", "launch_rocket", `{}`, "unknown tool"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := r.b.execute(ctx, llm.ToolCall{ID: "c", Type: "function", Function: llm.FunctionCall{Name: tc.tool, Arguments: llm.Arguments(tc.args)}})
			if res.Success || !strings.Contains(res.Error, tc.want) {
				t.Fatalf("result = %+v, want failure mentioning %q", res, tc.want)
			}
		})
	}
	if ts, _ := r.dash.ListTasks(ctx, dashboard.TaskFilter{}); len(ts) != 0 {
		t.Fatal("a rejected call created a task")
	}
}
