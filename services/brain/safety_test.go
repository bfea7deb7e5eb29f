package brain

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/services/brain/rules"
	"github.com/somsgo/soms/sim/mockllm"
)

// waitFor polls an outcome the brain produces over HTTP on another goroutine
// (a task in the backend, a request at the mock LLM); the wall bound only
// catches a broken brain.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// safetyTasks are the zone's tasks of one kind.
func safetyTasks(tasks []backendapi.Task, zone, kind string) []backendapi.Task {
	var out []backendapi.Task
	for _, t := range tasks {
		if deref(t.Zone) == zone && sharedKind([]string{kind}, taskKinds(t.Title, t.Description)) != "" {
			out = append(out, t)
		}
	}
	return out
}

// A fall while the LLM hangs becomes its task at once, not after the wait;
// the cycle ends at its deadline in clock time (not the LLM client's wall
// timeout), counts against the breaker and logs the fall task as a rule
// fallback.
func TestFallWhileTheLLMHangs(t *testing.T) {
	r := newRig(t, rigOpts{store: true, llmTimeout: time.Minute})
	ctx := context.Background()
	r.setFaults(t, mockllm.Fault{Kind: mockllm.FaultTimeout, Scope: mockllm.FaultScopeTools})
	r.ingest(t, "office/kitchen/occupancy", `{"person_count":1}`)
	errc := make(chan error, 1)
	go func() { errc <- r.b.cycle(ctx) }()
	waitFor(t, "LLM request", func() bool { return len(r.requests(t)) == 1 })

	r.ingest(t, "office/kitchen/safety/fall", `{"confidence":0.9}`)
	waitFor(t, "fall task while the LLM hangs", func() bool { return len(safetyTasks(r.tasks(t), "kitchen", rules.KindFall)) == 1 })
	select {
	case err := <-errc:
		t.Fatalf("the cycle ended before its deadline: %v", err)
	default:
	}

	r.clock.Advance(r.b.cfg.CycleDeadline)
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("the cycle did not end at its deadline")
	}
	if err == nil || !strings.Contains(err.Error(), "cycle deadline") {
		t.Fatalf("cycle error %v, want the deadline", err)
	}
	if st := r.b.breaker.Status(); st.ConsecutiveFailures != 1 || st.State != "closed" {
		t.Fatalf("breaker %+v after one timeout", st)
	}
	tasks := r.tasks(t)
	if fall := safetyTasks(tasks, "kitchen", rules.KindFall); len(tasks) != 1 || len(fall) != 1 || fall[0].Urgency != 4 {
		t.Fatalf("tasks %+v", tasks)
	}
	ds, err := r.store.Decisions(ctx, 10)
	if err != nil || len(ds) != 1 || ds[0].Mode != modeRuleFallback || ds[0].Outcome != "deadline" || len(ds[0].ToolCalls) != 1 || !ds[0].ToolCalls[0].Success {
		t.Fatalf("decisions %+v (%v)", ds, err)
	}
}

// The breaker opens after three failures in a row: the rules then decide at
// once, without calling the LLM, until a probe after the open period; a
// failed probe doubles the period, a successful one closes it. /status and
// the metric show the state.
func TestBreakerGivesCyclesToTheRules(t *testing.T) {
	r := newRig(t, rigOpts{store: true})
	ctx := context.Background()
	rt := chi.NewRouter()
	r.b.routes(rt)
	status := func() string {
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
		var st struct {
			Breaker breakerStatus `json:"llm_breaker"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		return st.Breaker.State
	}
	gauge := func() float64 { return testutil.ToFloat64(r.b.metrics.breaker) }

	r.setFaults(t, mockllm.Fault{Kind: mockllm.FaultError, Status: 500, Scope: mockllm.FaultScopeTools})
	r.ingest(t, "office/meeting_room/occupancy", `{"person_count":3}`)
	r.ingest(t, "office/meeting_room/sensor/env_02/co2", `{"value":1250}`)
	steps := []struct {
		name     string
		wait     time.Duration
		clear    bool // the LLM recovers before this cycle
		requests int  // LLM requests so far
		failed   bool // the cycle reports the LLM failure
		state    string
	}{
		{"first failure", 0, false, 1, true, "closed"},
		{"second failure", 30 * time.Second, false, 2, true, "closed"},
		{"third failure opens", 30 * time.Second, false, 3, true, "open"},
		{"open: the rules decide at once", 30 * time.Second, false, 3, false, "open"},
		{"probe fails: open for 2 minutes", 30 * time.Second, false, 4, true, "open"},
		{"still open", 119 * time.Second, true, 4, false, "open"},
		{"probe succeeds: closed", time.Second, true, 5, false, "closed"},
	}
	for _, s := range steps {
		r.clock.Advance(s.wait)
		if s.clear {
			r.setFaults(t)
		}
		err := r.b.cycle(ctx)
		if (err != nil) != s.failed {
			t.Fatalf("%s: cycle error %v", s.name, err)
		}
		if n := len(r.requests(t)); n != s.requests {
			t.Fatalf("%s: %d LLM requests, want %d", s.name, n, s.requests)
		}
		if got := status(); got != s.state {
			t.Fatalf("%s: breaker %s, want %s", s.name, got, s.state)
		}
		if want := map[string]float64{"closed": 0, "half_open": 1, "open": 2}[s.state]; gauge() != want {
			t.Fatalf("%s: gauge %v, want %v", s.name, gauge(), want)
		}
		if s.state == "open" {
			// A person's question is refused at once too.
			rec := httptest.NewRecorder()
			rt.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/chat", strings.NewReader(`{"user_message":"会議室の空気は？"}`)))
			if rec.Code != http.StatusServiceUnavailable || len(r.requests(t)) != s.requests {
				t.Fatalf("%s: chat %d %s", s.name, rec.Code, rec.Body.String())
			}
		}
	}
	if n := len(safetyTasks(r.tasks(t), "meeting_room", "high_co2")); n != 1 {
		t.Fatalf("%d ventilation tasks, want the fallback's one", n)
	}
}

// Safety tasks get through whatever else is open or in progress; duplicate
// checks go by zone and kind.
func TestSafetyTasksGetThrough(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	cycle := func() {
		t.Helper()
		r.clock.Advance(30 * time.Second)
		if err := r.b.cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The LLM asks for ventilation in the kitchen: high_co2 is in progress there.
	r.ingest(t, "office/kitchen/occupancy", `{"person_count":1}`)
	r.ingest(t, "office/main/occupancy", `{"person_count":4}`)
	r.ingest(t, "office/kitchen/sensor/env_03/co2", `{"value":1400}`)
	cycle()
	if n := len(safetyTasks(r.tasks(t), "kitchen", "high_co2")); n != 1 || !r.b.world.Suppressed("kitchen", "high_co2") {
		t.Fatalf("kitchen ventilation tasks %d", n)
	}

	// A fall in the kitchen: its task, once, although the zone has an
	// alert in progress.
	r.ingest(t, "office/kitchen/safety/fall", `{"confidence":0.9}`)
	cycle()
	fall := safetyTasks(r.tasks(t), "kitchen", rules.KindFall)
	if len(fall) != 1 || fall[0].Urgency != 4 {
		t.Fatalf("fall tasks %+v", fall)
	}
	if r.b.world.Suppressed("kitchen", "high_temp") {
		t.Fatal("the fall task marked other alerts in progress")
	}

	// Critical CO2 in main while the kitchen's ventilation task is open:
	// main gets its own, urgent one, and only one.
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":1800}`)
	cycle()
	if vent := safetyTasks(r.tasks(t), "main", "high_co2"); len(vent) != 1 || vent[0].Urgency != 3 {
		t.Fatalf("main ventilation tasks %+v", vent)
	}

	// Another fall after the rule's cooldown, the fall task still open: it
	// is announced again, not doubled.
	r.clock.Advance(rules.Cooldown)
	r.ingest(t, "office/kitchen/safety/fall", `{"confidence":0.8}`)
	cycle()
	fall = safetyTasks(r.tasks(t), "kitchen", rules.KindFall)
	if len(fall) != 1 || fall[0].LastRemindedAt == nil {
		t.Fatalf("second fall: tasks %+v", fall)
	}

	// The hourly task limit, spent, holds back the LLM but not a safety task.
	for range 10 {
		r.b.san.RecordTask()
	}
	r.ingest(t, "office/lab/occupancy", `{"person_count":1}`)
	r.ingest(t, "office/lab/safety/fall", `{"confidence":0.9}`)
	cycle()
	if fall := safetyTasks(r.tasks(t), "lab", rules.KindFall); len(fall) != 1 {
		t.Fatalf("fall over the task limit: %+v", fall)
	}
}
