package brain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/services/backend"
	"github.com/somsgo/soms/services/backend/migrations"
	"github.com/somsgo/soms/services/brain/eventstore"
	"github.com/somsgo/soms/sim/mockllm"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// t0 is a weekday morning in the office (09:00 JST).
var t0 = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// rig wires a brain to the real mock LLM and the real backend API (over HTTP,
// on the test PostgreSQL) and, for device calls, to a real Mosquitto. Office
// messages are ingested directly; loops are not running unless a test starts
// them, so the manual clock is fully under the test's control.
type rig struct {
	b      *brain
	clock  *clock.Sim
	mockU  string
	dash   *backendapi.Client
	store  *eventstore.Store
	pool   *pgxpool.Pool
	broker *bus.Client // sim-side connection: plays the devices
}

type rigOpts struct {
	llmURL     string        // override the LLM (e.g. unreachable)
	llmTimeout time.Duration // the LLM client's own (wall) timeout; 5 s when zero
	mqtt       bool
	store      bool
	// stepped starts the clock as step 1 of a closed-loop clock at t0.
	stepped bool
}

func newRig(t testing.TB, o rigOpts) *rig {
	t.Helper()
	ctx := context.Background()
	c := clock.NewManual(t0)
	if o.stepped {
		c = clock.NewSim()
		c.Set(clock.State{SimTime: t0, Step: 1})
	}
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

	mock := mockllm.New(c, "mock-qwen", 200)
	mr := chi.NewRouter()
	mock.Routes(mr)
	msrv := httptest.NewServer(mr)
	t.Cleanup(msrv.Close)
	llmURL := msrv.URL + "/v1"
	if o.llmURL != "" {
		llmURL = o.llmURL
	}

	llmTimeout := 5 * time.Second
	if o.llmTimeout > 0 {
		llmTimeout = o.llmTimeout
	}
	cfg := Config{
		MaxIterations: 5, EventWindow: 300 * time.Second, FeedbackWindow: 1800 * time.Second,
		CycleInterval: 30 * time.Second, MinCycleSpacing: 25 * time.Second, BatchDelay: 3 * time.Second,
		InactiveInterval: 300 * time.Second, InactiveSpacing: 60 * time.Second,
		MCPTimeout: 10 * time.Second, TrustAfter: time.Hour, TimeZone: "Asia/Tokyo",
		ReminderAfter: time.Hour, ReminderCooldown: 30 * time.Minute, ReminderInterval: 300 * time.Second,
		VoiceTimeout: 10 * time.Second, SpeakTimeout: 10 * time.Second, BackendTimeout: 10 * time.Second,
		CycleDeadline: 120 * time.Second, BreakerFailures: 3, BreakerOpen: 60 * time.Second, BreakerMaxOpen: 10 * time.Minute,
		InventoryRefresh: time.Minute, InventoryPush: 15 * time.Second,
	}
	r := &rig{clock: c, mockU: msrv.URL, dash: backendapi.NewClient(bsrv.URL, ""), pool: pool}
	p := parts{
		llm:     llm.NewClient(llm.Config{URL: llmURL, Model: "mock-qwen", Timeout: llmTimeout, Temperature: 0.3, MaxTokens: 4096}),
		dash:    backendapi.NewClient(bsrv.URL, "tok"),
		metrics: newMetrics(prometheus.NewRegistry()),
	}
	if o.mqtt {
		broker := testenv.Broker(t)
		brainBus := connect(t, broker.Config(mqttacl.UserBrain), "brain")
		r.broker = connect(t, broker.Config(mqttacl.UserLegacy), "devices") // answers for any device, as the legacy class may
		client := mcp.NewClient(brainBus, c)
		if err := brainBus.Subscribe(ctx, topic.MCPResponses, 0, func(m bus.Message) { _ = client.HandleResponse(m.Topic, m.Payload) }); err != nil {
			t.Fatal(err)
		}
		p.devices = client
	}
	if o.store {
		s, err := eventstore.Open(ctx, pool, c, logging.Discard(), "local")
		if err != nil {
			t.Fatal(err)
		}
		p.store, r.store = s, s
	}
	r.b = newBrain(cfg, c, logging.Discard(), p)
	return r
}

func connect(t testing.TB, cfg bus.Config, name string) *bus.Client {
	t.Helper()
	c := bus.New(cfg, name, logging.Discard(), prometheus.NewRegistry())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (r *rig) ingest(t testing.TB, topic, payload string) {
	t.Helper()
	r.b.ingest(bus.Message{Topic: topic, Payload: []byte(payload)})
}

// requests returns what the mock LLM was asked.
func (r *rig) requests(t testing.TB) []mockllm.Recorded {
	t.Helper()
	resp, err := http.Get(r.mockU + "/control/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []mockllm.Recorded
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (r *rig) setRules(t testing.TB, rules []mockllm.Rule) {
	t.Helper()
	r.control(t, http.MethodPut, "/control/rules", rules)
}

// setFaults replaces the mock LLM's injected faults (none clears them).
func (r *rig) setFaults(t testing.TB, faults ...mockllm.Fault) {
	t.Helper()
	if faults == nil {
		faults = []mockllm.Fault{}
	}
	r.control(t, http.MethodPut, "/control/faults", faults)
}

func (r *rig) control(t testing.TB, method, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, r.mockU+path, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mock LLM %s %s: %s", method, path, resp.Status)
	}
}

func (r *rig) tasks(t testing.TB) []backendapi.Task {
	t.Helper()
	ts, err := r.dash.ListTasks(context.Background(), backendapi.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func lastUser(rec mockllm.Recorded) string {
	for i := len(rec.Request.Messages) - 1; i >= 0; i-- {
		if m := rec.Request.Messages[i]; m.Role == llm.RoleUser {
			return string(m.Content)
		}
	}
	return ""
}

// Behaviour 1: telemetry in every form reaches the prompt, fused and labelled.
func TestTelemetryReachesThePrompt(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.ingest(t, "office/main/sensor/env_01/temperature", `{"value":24.5}`)
	r.ingest(t, "office/main/sensor/swarm_hub_01.leaf_env_01/humidity", `{"value":52}`)
	r.ingest(t, "office/lab/sensor/bme_01/status", `{"temperature":27.2,"co2":650}`)
	r.ingest(t, "office/tracking/persons", `{"person_count":3}`)
	if err := r.b.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := r.requests(t)
	if len(reqs) == 0 {
		t.Fatal("no LLM request")
	}
	p := lastUser(reqs[0])
	for _, want := range []string{"### main (main)", "温度: 24.5℃ → (快適)", "湿度: 52%", "### lab (lab)", "27.2℃ → (暑い)", "CO2: 650ppm"} {
		if !strings.Contains(p, want) {
			t.Errorf("prompt misses %q:\n%s", want, p)
		}
	}
	if strings.Contains(p, "tracking") {
		t.Errorf("system topic became a zone:\n%s", p)
	}
	req := reqs[0].Request
	if req.Model != "mock-qwen" || req.Temperature == nil || *req.Temperature != 0.3 || req.MaxTokens != 4096 || len(req.Tools) != len(toolSchemas) {
		t.Fatalf("request parameters: model %s temp %v max %d tools %d", req.Model, req.Temperature, req.MaxTokens, len(req.Tools))
	}
}

// Behaviours 3 and 6: one task for a CO2 alert, the ReAct echo, and no
// duplicate over repeated cycles.
func TestCycleCreatesOneVentilationTask(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	r.ingest(t, "office/meeting_room/occupancy", `{"person_count":4}`)
	r.ingest(t, "office/meeting_room/sensor/env_02/co2", `{"value":1400}`)
	for range 6 {
		if err := r.b.cycle(ctx); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(30 * time.Second)
		r.ingest(t, "office/meeting_room/sensor/env_02/co2", `{"value":1400}`)
	}
	tasks := r.tasks(t)
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1: %+v", len(tasks), tasks)
	}
	task := tasks[0]
	if !task.HasType("environment") || task.ExpiresAt == nil || !task.ExpiresAt.Equal(t0.Add(time.Hour)) || task.Bounty < 500 || task.Bounty > 5000 || task.IsQueued {
		t.Fatalf("task = %+v", task)
	}
	reqs := r.requests(t)
	second := reqs[1].Request.Messages
	call, result := second[len(second)-2], second[len(second)-1]
	if call.Role != llm.RoleAssistant || len(call.ToolCalls) != 1 || result.Role != llm.RoleTool || result.ToolCallID != call.ToolCalls[0].ID {
		t.Fatalf("ReAct messages wrong: %+v / %+v", call, result)
	}
	if !strings.Contains(string(result.Content), `"success":true`) {
		t.Fatalf("tool result = %s", result.Content)
	}
	// After the task the alert is "in progress" in the prompt.
	if p := lastUser(reqs[len(reqs)-1]); !strings.Contains(p, "## 対応中（タスク発行済み）\n- [meeting_room] CO2") {
		t.Fatalf("alert not moved to in-progress:\n%s", p)
	}
	if n := testutil.ToFloat64(r.b.metrics.guarded.WithLabelValues("create_task")); n == 0 {
		t.Fatal("repeated proposals were not counted as guarded")
	}
}

func TestGuards(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.ingest(t, "office/meeting_room/sensor/env_02/co2", `{"value":1400}`)
	r.b.world.SuppressForTask("meeting_room", "換気 environment")
	r.b.remember(action{at: t0.Add(-10 * time.Minute), tool: "create_task", summary: "title=コーヒー豆の補充"})
	r.b.remember(action{at: t0.Add(-5 * time.Minute), tool: "send_device_command", success: true,
		summary: summarize("send_device_command", map[string]any{"agent_id": "hvac_01", "tool_name": "set_temperature", "arguments": `{"temperature": 24}`})})
	r.b.remember(action{at: t0, tool: "create_task", zone: "lab", success: true,
		summary: "title=転倒の確認", args: map[string]any{"title": "転倒の確認", "description": "labで転倒が検知されました。", "zone": "lab"}})
	kitchen := "kitchen"
	g := newCycleGuard([]backendapi.Task{{ID: 3, Title: "会議室の換気をしてください"}, {ID: 4, Title: "換気を行ってください", Zone: &kitchen}}, t0)
	g.accept("speak", map[string]any{"message": "hello"})
	tests := []struct {
		name string
		tool string
		args map[string]any
		want string
	}{
		{"second speak", "speak", map[string]any{"message": "again"}, "one speak"},
		{"identical call", "speak", map[string]any{"message": "hello"}, "identical"},
		{"env task in suppressed zone", "create_task", map[string]any{"title": "窓を開ける", "description": "d", "zone": "meeting_room", "task_types": "environment"}, "in progress"},
		{"env task elsewhere", "create_task", map[string]any{"title": "窓を開ける", "description": "d", "zone": "main", "task_types": "environment"}, ""},
		{"fall where an alert is in progress", "create_task", map[string]any{"title": "転倒者の確認をお願いします", "description": "d", "zone": "meeting_room", "task_types": "urgent,safety"}, ""},
		{"another kind than the one in progress", "create_task", map[string]any{"title": "室温を下げてください", "description": "d", "zone": "meeting_room", "task_types": "environment,urgent"}, ""},
		{"no kind where an alert is in progress", "create_task", map[string]any{"title": "様子を見てください", "description": "d", "zone": "meeting_room", "task_types": "urgent"}, "in progress"},
		{"same title, another zone's task", "create_task", map[string]any{"title": "換気を行ってください", "description": "d", "zone": "main"}, ""},
		{"same title, same zone", "create_task", map[string]any{"title": "換気を行ってください", "description": "d", "zone": "kitchen"}, "active task #4"},
		{"same kind, same zone", "create_task", map[string]any{"title": "CO2を下げてください", "description": "d", "zone": "kitchen"}, "covers high_co2"},
		{"same kind created this cycle", "create_task", map[string]any{"title": "転倒者の確認", "description": "d", "zone": "lab"}, "created this cycle"},
		{"same kind created this cycle elsewhere", "create_task", map[string]any{"title": "転倒者の確認", "description": "d", "zone": "main"}, ""},
		{"attempted recently in another zone", "create_task", map[string]any{"title": "コーヒー豆の補充", "description": "d", "zone": "main"}, ""},
		{"device investigation", "create_task", map[string]any{"title": "不明なデバイスの確認", "description": "デバイスを調べる"}, "unknown devices"},
		{"overlaps an active task", "create_task", map[string]any{"title": "換気をしてください", "description": "d"}, "active task #3"},
		{"attempted recently", "create_task", map[string]any{"title": "コーヒー豆の補充", "description": "d"}, "last 30 minutes"},
		{"fresh task", "create_task", map[string]any{"title": "ホワイトボードの清掃", "description": "d"}, ""},
		{"device command repeated", "send_device_command", map[string]any{"agent_id": "hvac_01", "tool_name": "set_temperature", "arguments": map[string]any{"temperature": 24.0}}, "last 10 minutes"},
		{"different set point", "send_device_command", map[string]any{"agent_id": "hvac_01", "tool_name": "set_temperature", "arguments": `{"temperature":23}`}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.b.check(g, tc.tool, tc.args)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("check = %q, want %q", got, tc.want)
			}
		})
	}
}

// device answers MCP calls on the real broker like an edge node.
type device struct {
	mu    sync.Mutex
	calls []mcp.Request
}

func (r *rig) device(t *testing.T, agent string, answer func(mcp.Request) (any, bool)) *device {
	t.Helper()
	d := &device{}
	err := r.broker.Subscribe(context.Background(), topic.MCPRequest(agent), 0, func(m bus.Message) {
		req, err := mcp.ParseRequest(m.Payload)
		if err != nil {
			return
		}
		d.mu.Lock()
		d.calls = append(d.calls, req)
		d.mu.Unlock()
		if resp, ok := answer(req); ok {
			_ = r.broker.PublishJSON(context.Background(), topic.MCPResponse(agent, req.ID), 0, false, resp)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *device) seen() []mcp.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]mcp.Request(nil), d.calls...)
}

func call(name, args string) llm.ToolCall {
	return llm.ToolCall{ID: "c1", Type: "function", Function: llm.FunctionCall{Name: name, Arguments: llm.Arguments(args)}}
}

// Behaviours 4 and 5: sanitizer limits never reach MQTT; MCP round trips
// resolve results, errors, queued answers and silence.
func TestDeviceCommands(t *testing.T) {
	r := newRig(t, rigOpts{mqtt: true})
	ctx := context.Background()
	hvac := r.device(t, "hvac_01", func(q mcp.Request) (any, bool) {
		switch q.Params.Name {
		case "set_temperature":
			return mcp.Response{JSONRPC: "2.0", ID: q.ID, Result: json.RawMessage(fmt.Sprintf(`{"target":%v}`, q.Params.Arguments["temperature"]))}, true
		case "explode":
			return mcp.Failure(q.ID, "unknown tool explode"), true
		}
		return nil, false // silence
	})
	hub := r.device(t, "swarm_hub_01", func(q mcp.Request) (any, bool) {
		return map[string]any{"jsonrpc": "2.0", "id": q.ID, "result": map[string]any{"status": "queued", "target": "leaf_env_01", "estimated_delivery_sec": 240}}, true
	})

	for _, bad := range []string{
		`{"agent_id":"hvac_01","tool_name":"set_temperature","arguments":"{\"temperature\":30}"}`,
		`{"agent_id":"hvac_01","tool_name":"set_temperature","arguments":{"temperature":17}}`,
		`{"agent_id":"pump_01","tool_name":"run_pump","arguments":"{\"duration\":61}"}`,
		`{"agent_id":"door_lock_01","tool_name":"unlock"}`,
	} {
		if res := r.b.execute(ctx, call("send_device_command", bad)); res.Success || !strings.Contains(res.Error, "safety limit") {
			t.Fatalf("%s: %+v", bad, res)
		}
	}
	res := r.b.execute(ctx, call("send_device_command", `{"agent_id":"hvac_01","tool_name":"set_temperature","arguments":"{\"temperature\":24}"}`))
	if !res.Success || !strings.Contains(res.Result, `{"target":24}`) {
		t.Fatalf("set_temperature 24: %+v", res)
	}
	if seen := hvac.seen(); len(seen) != 1 || seen[0].Params.Arguments["temperature"] != 24.0 {
		t.Fatalf("rejected commands reached the device: %+v", seen)
	}
	if res := r.b.execute(ctx, call("send_device_command", `{"agent_id":"hvac_01","tool_name":"explode"}`)); res.Success || !strings.Contains(res.Error, "unknown tool explode") {
		t.Fatalf("device error: %+v", res)
	}
	if res := r.b.execute(ctx, call("send_device_command", `{"agent_id":"swarm_hub_01","tool_name":"leaf_command","arguments":"{\"leaf_id\":\"leaf_env_01\",\"command\":\"read_now\"}"}`)); !res.Success || !strings.Contains(res.Result, "queued for next wake") {
		t.Fatalf("queued: %+v", res)
	}
	if len(hub.seen()) != 1 {
		t.Fatal("hub not called")
	}

	// Silence: an unknown device times out after the default 10 s of
	// simulated time; an offline one after 5 s.
	for _, tc := range []struct {
		heartbeat bool
		wait      time.Duration
	}{{false, 10 * time.Second}, {true, 5 * time.Second}} {
		if tc.heartbeat {
			r.ingest(t, "office/main/sensor/hvac_01/heartbeat", `{"status":"online"}`)
			r.clock.Advance(16 * time.Minute) // no heartbeat since: offline
		}
		done := make(chan toolResult, 1)
		go func() {
			done <- r.b.execute(ctx, call("send_device_command", `{"agent_id":"hvac_01","tool_name":"status"}`))
		}()
		if err := r.clock.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(tc.wait - time.Millisecond)
		select {
		case res := <-done:
			t.Fatalf("returned before the timeout: %+v", res)
		default:
		}
		r.clock.Advance(time.Millisecond)
		if res := <-done; res.Success || !strings.Contains(res.Error, "timed out ("+tc.wait.String()+")") {
			t.Fatalf("timeout: %+v", res)
		}
	}
}

// Behaviour 4: task limits: urgency, bounty and 10 per hour.
func TestTaskLimits(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	for _, bad := range []string{
		`{"title":"x","description":"y","urgency":5}`,
		`{"title":"x","description":"y","bounty":6000}`,
		`{"title":"x","description":"y","bounty":100}`,
	} {
		if res := r.b.execute(ctx, call("create_task", bad)); res.Success {
			t.Fatalf("%s accepted", bad)
		}
	}
	for i := range 10 {
		res := r.b.execute(ctx, call("create_task", fmt.Sprintf(`{"title":"作業%d","description":"d","bounty":%d}`, i, 500+i*100)))
		if !res.Success {
			t.Fatalf("task %d: %+v", i, res)
		}
	}
	if res := r.b.execute(ctx, call("create_task", `{"title":"作業10","description":"d"}`)); res.Success || !strings.Contains(res.Error, "rate limit") {
		t.Fatalf("11th task: %+v", res)
	}
	if n := len(r.tasks(t)); n != 10 {
		t.Fatalf("%d tasks stored, want 10", n)
	}
}

func TestSpeakPostsAVoiceEventAndCoolsDown(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	if res := r.b.execute(ctx, call("speak", `{"message":"休憩しましょう","zone":"main","tone":"caring"}`)); !res.Success {
		t.Fatalf("speak: %+v", res)
	}
	evs, err := r.dash.RecentVoiceEvents(ctx)
	if err != nil || len(evs) != 1 || evs[0].Message != "休憩しましょう" || evs[0].Zone != "main" {
		t.Fatalf("voice events = %+v, %v", evs, err)
	}
	r.clock.Advance(299 * time.Second)
	if res := r.b.execute(ctx, call("speak", `{"message":"もう一度","zone":"main"}`)); res.Success {
		t.Fatal("second speak within 300 s")
	}
}

// Behaviour 7: heartbeats reach the registry and GET /devices/status.
func TestDevicesStatus(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.ingest(t, "office/main/sensor/swarm_hub_01/heartbeat", `{"device_type":"swarm_hub","children":[{"device_id":"leaf_pir_01","power_mode":"DEEP_SLEEP","next_wake_sec":300}]}`)
	r.ingest(t, "office/main/sensor/env_01/heartbeat", `not json`)
	rt := chi.NewRouter()
	r.b.routes(rt)
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/devices/status", nil))
	var out struct{ Devices []map[string]any }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Devices) != 2 || out.Devices[1]["device_id"] != "swarm_hub_01.leaf_pir_01" || out.Devices[1]["state"] != "sleeping" {
		t.Fatalf("devices = %+v", out.Devices)
	}
	if n := testutil.ToFloat64(r.b.metrics.dropped.WithLabelValues("bad_json")); n != 1 {
		t.Fatalf("bad heartbeat not counted: %v", n)
	}
}

// Sensor readings go to the decision log once each, with their channel;
// heartbeats and dropped messages do not.
func TestSensorReadingsLogged(t *testing.T) {
	r := newRig(t, rigOpts{store: true})
	ctx := context.Background()
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":700}`)
	r.ingest(t, "office/main/sensor/env_01/heartbeat", `{"status":"online"}`)
	r.ingest(t, "office/main/sensor/env_01/co2", `{"unit":"ppm"}`)
	r.ingest(t, "office/lab/sensor/bme_01/status", `{"temperature":22.5,"channel":"x"}`)
	if err := r.store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := r.pool.Query(ctx, `SELECT zone, source_device, data::text FROM events.raw_events
		WHERE event_type = 'sensor_reading' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var zone, dev, data string
		if err := rows.Scan(&zone, &dev, &data); err != nil {
			t.Fatal(err)
		}
		got = append(got, zone+" "+dev+" "+data)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{`main env_01 {"value": 700, "channel": "co2"}`, `lab bme_01 {"channel": "status", "temperature": 22.5}`}
	if !slices.Equal(got, want) {
		t.Fatalf("logged readings %q, want %q", got, want)
	}
}

// Behaviour 8: a task report becomes flagged user feedback and triggers a cycle.
func TestTaskReportFeedback(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.ingest(t, "office/main/sensor/env_01/temperature", `{"value":23}`)
	before := r.b.world.Seq()
	r.ingest(t, "office/main/task_report/42", `{"task_id":42,"title":"換気","report_status":"needs_followup","completion_note":"窓が開かない","zone":"main"}`)
	if r.b.world.Seq() == before {
		t.Fatal("task report did not trigger a cycle")
	}
	r.clock.Advance(20 * time.Minute)
	if err := r.b.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := lastUser(r.requests(t)[0])
	if !strings.Contains(p, "## ユーザーからのフィードバック（最重要）\n- [main] \"換気\" → needs_followup（現場メモ: \"窓が開かない\"） ⚠要対応") {
		t.Fatalf("feedback missing:\n%s", p)
	}
}

// Behaviour 9: an empty office goes inactive and the rule engine acts on
// critical conditions without the LLM.
func TestInactiveModeRules(t *testing.T) {
	r := newRig(t, rigOpts{store: true})
	ctx := context.Background()
	r.ingest(t, "office/main/occupancy", `{"person_count":0}`)
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":700}`)
	_ = r.b.cycle(ctx)
	r.clock.Advance(301 * time.Second)
	r.ingest(t, "office/main/occupancy", `{"person_count":0}`)
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":1600}`)
	n := len(r.requests(t))
	if err := r.b.cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.b.mode.Inactive() {
		t.Fatal("not inactive after 5 empty minutes")
	}
	if len(r.requests(t)) != n {
		t.Fatal("inactive mode called the LLM for a critical condition")
	}
	tasks := r.tasks(t)
	if len(tasks) != 1 || tasks[0].Urgency != 3 || !strings.Contains(tasks[0].Description, "1600ppm") {
		t.Fatalf("tasks = %+v", tasks)
	}
	// Within the rule cooldown nothing more happens.
	r.clock.Advance(60 * time.Second)
	_ = r.b.cycle(ctx)
	if len(r.tasks(t)) != 1 {
		t.Fatal("rule fired again within 300 s")
	}
	ds, err := r.store.Decisions(ctx, 10)
	if err != nil || len(ds) == 0 || ds[0].Mode != modeRuleInactive {
		t.Fatalf("decisions = %+v, %v", ds, err)
	}
	// People coming back restore normal mode.
	r.ingest(t, "office/main/occupancy", `{"person_count":2}`)
	_ = r.b.cycle(ctx)
	if r.b.mode.Inactive() {
		t.Fatal("people did not restore normal mode")
	}
}

// Behaviours 9 and 10: with the LLM unreachable, the rule engine creates the
// task and the decision log says so.
func TestLLMDownFallsBackToRules(t *testing.T) {
	r := newRig(t, rigOpts{llmURL: "http://127.0.0.1:1/v1", store: true})
	ctx := context.Background()
	r.ingest(t, "office/meeting_room/occupancy", `{"person_count":3}`)
	r.ingest(t, "office/meeting_room/sensor/env_02/co2", `{"value":1250}`)
	if err := r.b.cycle(ctx); err == nil {
		t.Fatal("cycle reported success with the LLM unreachable")
	}
	tasks := r.tasks(t)
	if len(tasks) != 1 || deref(tasks[0].Zone) != "meeting_room" || !strings.Contains(tasks[0].Title, "換気") {
		t.Fatalf("tasks = %+v", tasks)
	}
	r.clock.Advance(30 * time.Second)
	_ = r.b.cycle(ctx)
	if len(r.tasks(t)) != 1 {
		t.Fatal("fallback duplicated the task")
	}
	ds, _ := r.store.Decisions(ctx, 10)
	if len(ds) != 2 || ds[1].Mode != modeRuleFallback || len(ds[1].ToolCalls) != 1 || !ds[1].ToolCalls[0].Success || ds[1].Error == "" {
		t.Fatalf("decisions = %+v", ds)
	}
}

// Behaviour 10: garbage from the LLM (malformed arguments, <think>, unknown
// tools) never kills the cycle.
func TestLLMGarbage(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.setRules(t, []mockllm.Rule{
		{Name: "think", Match: `(?s).*`, Content: "<think>hmm</think>", Tool: "create_task", Arguments: map[string]any{"title": "説明のないタスク"}},
	})
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":800}`)
	if err := r.b.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(r.b.metrics.rejected.WithLabelValues("create_task")); n != 1 {
		t.Fatalf("incomplete call not rejected: %v", n)
	}
	if len(r.tasks(t)) != 0 {
		t.Fatal("a rejected call created a task")
	}
	res := r.b.execute(context.Background(), call("create_task", `{"title":`))
	if res.Success || !strings.Contains(res.Error, "not a JSON object") {
		t.Fatalf("malformed args: %+v", res)
	}
	r.ingest(t, "office/main/sensor/env_01/co2", `{{{`)
	if n := testutil.ToFloat64(r.b.metrics.dropped.WithLabelValues("bad_json")); n != 1 {
		t.Fatalf("non-JSON payload not counted: %v", n)
	}
}

// Behaviour 10: the 4-segment fall topic produces a critical event and, in an
// otherwise empty office, an urgency-4 task from the rule engine.
func TestFallIsUrgent(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	r.ingest(t, "office/kitchen/occupancy", `{"person_count":0}`)
	_ = r.b.cycle(ctx)
	r.clock.Advance(301 * time.Second)
	_ = r.b.cycle(ctx) // inactive now
	r.ingest(t, "office/kitchen/safety/fall", `{"confidence":0.91,"duration_sec":6}`)
	if err := r.b.cycle(ctx); err != nil {
		t.Fatal(err)
	}
	tasks := r.tasks(t)
	if len(tasks) != 1 || tasks[0].Urgency != 4 || deref(tasks[0].Zone) != "kitchen" {
		t.Fatalf("tasks = %+v", tasks)
	}
}

func TestNightTasksAreQueuedThenDispatched(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	r.clock.Set(clock.State{SimTime: time.Date(2026, 11, 23, 23, 0, 0, 0, time.FixedZone("JST", 9*3600))})
	r.ingest(t, "office/main/occupancy", `{"person_count":1}`)
	res := r.b.execute(ctx, call("create_task", `{"title":"ゴミ出し","description":"d","zone":"main","urgency":1}`))
	if !res.Success || !strings.Contains(res.Result, "queued: outside active hours") {
		t.Fatalf("%+v", res)
	}
	if ts := r.tasks(t); len(ts) != 1 || !ts[0].IsQueued {
		t.Fatalf("backend does not show the task queued: %+v", ts)
	}
	r.clock.Advance(9 * time.Hour) // 08:00
	r.ingest(t, "office/main/occupancy", `{"person_count":2}`)
	r.b.processQueue(ctx)
	if ts := r.tasks(t); len(ts) != 1 || ts[0].IsQueued || ts[0].DispatchedAt == nil {
		t.Fatalf("not dispatched in the morning: %+v", ts)
	}
}

func TestReminders(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	r.ingest(t, "office/main/occupancy", `{"person_count":1}`)
	if res := r.b.execute(ctx, call("create_task", `{"title":"コピー用紙の補充","description":"d","zone":"main"}`)); !res.Success {
		t.Fatal(res)
	}
	r.clock.Advance(59 * time.Minute)
	r.b.remind(ctx)
	if ts := r.tasks(t); ts[0].LastRemindedAt != nil {
		t.Fatal("reminded before an hour")
	}
	r.clock.Advance(time.Minute)
	r.b.remind(ctx)
	ts := r.tasks(t)
	if ts[0].LastRemindedAt == nil {
		t.Fatal("not reminded after an hour")
	}
	evs, _ := r.dash.RecentVoiceEvents(ctx)
	if len(evs) != 1 || !strings.Contains(evs[0].Message, "コピー用紙の補充") {
		t.Fatalf("voice events = %+v", evs)
	}
	r.clock.Advance(10 * time.Minute)
	r.b.remind(ctx)
	if evs, _ := r.dash.RecentVoiceEvents(ctx); len(evs) != 1 {
		t.Fatal("reminded again within 30 minutes")
	}
}

func TestChat(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.ingest(t, "office/main/sensor/env_01/temperature", `{"value":23.5}`)
	r.setRules(t, []mockllm.Rule{
		{Name: "look", Match: `会議室`, Tool: "get_zone_status", Arguments: map[string]any{"zone_id": "main"}},
	})
	rt := chi.NewRouter()
	r.b.routes(rt)
	tests := []struct {
		body   string
		status int
		want   string
	}{
		{`{"user_message":"会議室は暑い？"}`, http.StatusOK, `"response"`},
		{`{"user_message":"  "}`, http.StatusUnprocessableEntity, "user_message"},
		{`{`, http.StatusBadRequest, "error"},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/chat", strings.NewReader(tc.body)))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Fatalf("%s → %d %s", tc.body, rec.Code, rec.Body.String())
		}
	}
	// The tool result went back to the LLM: the zone description.
	reqs := r.requests(t)
	found := false
	for _, m := range reqs[len(reqs)-1].Request.Messages {
		if m.Role == llm.RoleTool && strings.Contains(string(m.Content), "23.5℃") {
			found = true
		}
	}
	if !found {
		t.Fatal("chat tool result did not reach the LLM")
	}
}

func TestChitchatSpeaksToQuietZones(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	r.setRules(t, []mockllm.Rule{
		{Name: "chat", Match: `対象ゾーン: (?P<zone>\w+)`, Tool: "speak", Arguments: map[string]any{"message": "お疲れさまです、少し休憩しませんか", "tone": "caring"}},
	})
	r.b.chitchat(ctx) // nobody there: nothing to say
	if evs, _ := r.dash.RecentVoiceEvents(ctx); len(evs) != 0 {
		t.Fatalf("spoke to an empty office: %+v", evs)
	}
	r.ingest(t, "office/main/activity", `{"person_count":2,"activity_class":"idle"}`)
	r.b.chitchat(ctx)
	evs, _ := r.dash.RecentVoiceEvents(ctx)
	if len(evs) != 1 || evs[0].Zone != "main" || evs[0].Tone != "caring" {
		t.Fatalf("voice events = %+v", evs)
	}
	r.clock.Advance(4 * time.Minute)
	r.b.chitchat(ctx)
	if evs, _ := r.dash.RecentVoiceEvents(ctx); len(evs) != 1 {
		t.Fatal("chit-chat within 5 minutes of the last speak")
	}
}

func TestShelfCalibration(t *testing.T) {
	r := newRig(t, rigOpts{mqtt: true})
	ctx := context.Background()
	r.device(t, "shelf_01", func(q mcp.Request) (any, bool) {
		switch q.Params.Name {
		case "tare":
			return map[string]any{"id": q.ID, "result": map[string]any{"status": "ok", "offset": 50}}, true
		case "calibrate":
			return map[string]any{"id": q.ID, "result": map[string]any{"status": "ok", "scale": 1.02}}, true
		}
		return nil, false
	})
	if res := r.b.execute(ctx, call("calibrate_shelf", `{"device_id":"shelf_01","step":"set_known_weight","known_weight_g":500}`)); res.Success || !strings.Contains(res.Error, "tare first") {
		t.Fatalf("weight before tare: %+v", res)
	}
	if res := r.b.execute(ctx, call("calibrate_shelf", `{"device_id":"shelf_01","step":"tare"}`)); !res.Success {
		t.Fatalf("tare: %+v", res)
	}
	r.clock.Advance(11 * time.Minute)
	if res := r.b.execute(ctx, call("calibrate_shelf", `{"device_id":"shelf_01","step":"set_known_weight","known_weight_g":500}`)); res.Success {
		t.Fatal("a tare older than 10 minutes was accepted")
	}
	_ = r.b.execute(ctx, call("calibrate_shelf", `{"device_id":"shelf_01","step":"tare"}`))
	if res := r.b.execute(ctx, call("calibrate_shelf", `{"device_id":"shelf_01","step":"set_known_weight","known_weight_g":500}`)); !res.Success || !strings.Contains(res.Result, "scale 1.0200") {
		t.Fatalf("calibration: %+v", res)
	}
}

// Behaviour 2: an event triggers a cycle after the 3 s batching delay, never
// sooner than 25 s after the previous cycle; without events a cycle runs
// every 30 s. Times are read from the mock LLM's log, stamped with the same
// simulated clock.
func TestCycleTiming(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.setRules(t, []mockllm.Rule{{Name: "quiet", Match: `(?s).*`, Content: "問題ありません"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { _ = r.b.loop(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	cycles := func() []time.Time {
		var at []time.Time
		for _, q := range r.requests(t) {
			at = append(at, q.At)
		}
		return at
	}
	waitCycles := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(cycles()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d cycles, want %d: %v", len(cycles()), n, cycles())
			}
			time.Sleep(5 * time.Millisecond) // polling the mock's log for an HTTP request the loop makes
		}
	}
	block := func(n int) {
		t.Helper()
		bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
		defer bcancel()
		if err := r.clock.BlockUntil(bctx, n); err != nil {
			t.Fatalf("loop not waiting on %d timers: %v", n, err)
		}
	}

	// Advance stops just short of each deadline and checks the loop is still
	// waiting there: a jump past a deadline would fire it late and hide an
	// early cycle.
	step := func(d time.Duration, timers int) {
		t.Helper()
		r.clock.Advance(d - 100*time.Millisecond)
		block(timers)
		r.clock.Advance(100 * time.Millisecond)
	}
	block(1) // the periodic timer
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":2000}`)
	block(2) // + the batching delay
	step(3*time.Second, 2)
	waitCycles(1)
	if got := cycles()[0]; !got.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("first cycle at %v, want 3 s after the event", got.Sub(t0))
	}

	// A second event right away: batched 3 s, then held to 25 s after the
	// previous cycle.
	r.ingest(t, "office/main/sensor/door_01/door", `{"value":false}`)
	r.ingest(t, "office/main/sensor/door_01/door", `{"value":true}`)
	block(2)
	step(3*time.Second, 2)
	block(2) // the spacing wait
	step(22*time.Second, 2)
	waitCycles(2)
	if got := cycles()[1]; !got.Equal(t0.Add(28 * time.Second)) {
		t.Fatalf("second cycle at %v, want 28 s (25 s after the first)", got.Sub(t0))
	}

	// No events: the next cycle comes 30 s after the last one.
	block(1)
	step(30*time.Second, 1)
	waitCycles(3)
	if got := cycles()[2]; !got.Equal(t0.Add(58 * time.Second)) {
		t.Fatalf("periodic cycle at %v, want 58 s", got.Sub(t0))
	}
}

// On a stepped clock a periodic cycle that waits for a device's answer lets
// the clock go on (the device answers in simulated time), and takes the
// answer up at the step after it came in — the same simulated instant in
// every run, whatever the wall timing. The tick that started the cycle held
// the clock through the wait until its lease ran out, so the answer, and all
// the cycle did after it, fell a step early or late with the machine's load.
func TestCycleWaitingOnADeviceLetsTheClockGo(t *testing.T) {
	r := newRig(t, rigOpts{mqtt: true, stepped: true})
	r.setRules(t, []mockllm.Rule{{Name: "cool", Match: `(?s).*`, Tool: "send_device_command", Content: "冷やします",
		Arguments: map[string]any{"agent_id": "hvac_01", "tool_name": "set_temperature", "arguments": `{"temperature": 24}`}}})
	answer := make(chan struct{})
	hvac := r.device(t, "hvac_01", func(q mcp.Request) (any, bool) {
		<-answer // the device answers when the test says so
		return mcp.Response{JSONRPC: "2.0", ID: q.ID, Result: json.RawMessage(`{"target":24}`)}, true
	})
	r.ingest(t, "office/main/sensor/env_01/temperature", `{"value":29}`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.b.loop(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	settles := func(within time.Duration) bool {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, within)
		defer scancel()
		_, err := r.clock.Settle(sctx, time.Minute) // a lease longer than the test: a hold is a hold
		return err == nil
	}
	bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
	defer bcancel()
	if err := r.clock.BlockUntil(bctx, 1); err != nil { // the periodic timer
		t.Fatal(err)
	}
	tick := t0.Add(30 * time.Second)
	r.clock.Set(clock.State{SimTime: tick, Step: 2})
	deadline := time.Now().Add(10 * time.Second)
	for len(hvac.seen()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cycle sent no command")
		}
		time.Sleep(5 * time.Millisecond) // polling for an MQTT message the loop sends
	}
	if !settles(2 * time.Second) {
		t.Fatal("the cycle holds the clock while it waits for the device, which answers only as the clock goes on")
	}
	close(answer)
	// The answer came in at step 2; the cycle goes on at step 3.
	time.Sleep(50 * time.Millisecond) // give an early waiter the chance to go on
	for _, q := range r.requests(t) {
		if q.Rule == "tool_result" {
			t.Fatalf("the cycle went on at %v, before the next step", q.At.Sub(t0))
		}
	}
	r.clock.Set(clock.State{SimTime: tick.Add(time.Second), Step: 3})
	if !settles(10 * time.Second) {
		t.Fatal("the cycle did not finish")
	}
	var got []time.Duration
	for _, q := range r.requests(t) {
		if q.Rule == "tool_result" {
			got = append(got, q.At.Sub(t0))
		}
	}
	if len(got) != 1 || got[0] != 31*time.Second {
		t.Fatalf("the cycle took the answer up at %v, want once at 31s (the step after it came in)", got)
	}
}

// A person's chat question reaches the LLM as one quoted line of data.
func TestChatQuotesTheQuestion(t *testing.T) {
	r := newRig(t, rigOpts{})
	for _, q := range hostileText {
		q = q[:min(len(q), 1900)]
		if _, err := r.b.chat(context.Background(), q); err != nil {
			t.Fatal(err)
		}
		reqs := r.requests(t)
		got := lastUser(reqs[len(reqs)-1])
		body, ok := strings.CutPrefix(got, "質問: ")
		var back string
		if !ok || json.Unmarshal([]byte(body), &back) != nil || strings.ContainsAny(got, "\n<>") {
			t.Fatalf("question sent as %.200q", got)
		}
		if sys := string(reqs[len(reqs)-1].Request.Messages[0].Content); !strings.HasSuffix(sys, "</office_data>") {
			t.Fatalf("office state not delimited: %.200q", sys)
		}
	}
}
