package brain

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/apidoc/apidoctest"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/services/backend"
	backendopenapi "github.com/somsgo/soms/services/backend/openapi"
)

func (r *rig) get(t *testing.T, path string, out any) int {
	t.Helper()
	rt := chi.NewRouter()
	r.b.routes(rt)
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if out != nil && rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Code
}

// GET /events serves world-model events in the original's feed shape, from
// the decision log or, without a database, from memory.
func TestStoredEvents(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		r := newRig(t, rigOpts{store: withStore})
		r.ingest(t, "office/main/sensor/env_01/co2", `{"value":1400}`)
		r.ingest(t, "office/kitchen/sensor/env_03/co2", `{"value":1500}`)
		if withStore {
			if err := r.store.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var evs []map[string]any
		if code := r.get(t, "/events?zone=main", &evs); code != 200 || len(evs) != 1 ||
			evs[0]["event_type"] != "world_model_co2_threshold_exceeded" || evs[0]["zone"] != "main" || evs[0]["timestamp"] == nil {
			t.Fatalf("store %v: events = %d %+v", withStore, code, evs)
		}
		if code := r.get(t, "/events?limit=1", &evs); code != 200 || len(evs) != 1 || evs[0]["zone"] != "kitchen" {
			t.Fatalf("store %v: newest event = %+v", withStore, evs)
		}
		if code := r.get(t, "/events?limit=500", nil); code != http.StatusUnprocessableEntity {
			t.Fatalf("limit 500: %d", code)
		}
	}
}

// GET /decisions/activity counts the cycles of the last hours.
func TestDecisionActivity(t *testing.T) {
	r := newRig(t, rigOpts{store: true})
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":1400}`)
	if err := r.b.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	var a struct {
		Hours     int              `json:"hours"`
		Cycles    int              `json:"cycles"`
		ToolCalls int              `json:"total_tool_calls"`
		Avg       *float64         `json:"avg_duration_sec"`
		Timeline  []map[string]any `json:"timeline"`
	}
	if code := r.get(t, "/decisions/activity?hours=2", &a); code != 200 || a.Hours != 2 || a.Cycles != 1 || a.ToolCalls != 1 || a.Avg == nil || len(a.Timeline) != 1 {
		t.Fatalf("activity = %d %+v", code, a)
	}
	if code := r.get(t, "/decisions/activity?hours=0", nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("hours 0: %d", code)
	}
}

// The backend serves the original's event feed and LLM activity by asking
// the brain (it never reads the brain's schema): a real backend and a real
// brain over HTTP, every answer checked against the backend's OpenAPI.
func TestBackendAsksTheBrain(t *testing.T) {
	r := newRig(t, rigOpts{store: true})
	ctx := context.Background()
	r.ingest(t, "office/main/sensor/env_01/co2", `{"value":1400}`)
	if err := r.b.cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	brainRouter := chi.NewRouter()
	r.b.routes(brainRouter)
	brainSrv := httptest.NewServer(brainRouter)
	defer brainSrv.Close()
	api := backend.New(backend.Deps{Pool: r.pool, Clock: r.clock, Log: logging.Discard(), ServiceToken: "tok", BrainURL: brainSrv.URL})
	br := chi.NewRouter()
	api.Routes(br)
	srv := httptest.NewServer(apidoctest.Handler(t, backendopenapi.YAML, br))
	defer srv.Close()
	get := func(path string, out any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	var evs []map[string]any
	get("/sensors/events?zone=main", &evs)
	if len(evs) != 1 || evs[0]["event_type"] != "world_model_co2_threshold_exceeded" {
		t.Fatalf("events = %+v", evs)
	}
	var act map[string]any
	get("/sensors/llm-activity?hours=1", &act)
	if act["cycles"] != 1.0 || act["hours"] != 1.0 || act["total_tool_calls"] != 1.0 {
		t.Fatalf("activity = %+v", act)
	}
	var tl struct {
		Hours  int              `json:"hours"`
		Points []map[string]any `json:"points"`
	}
	get("/sensors/llm-timeline", &tl)
	if tl.Hours != 24 || len(tl.Points) != 1 || tl.Points[0]["cycles"] != 1.0 {
		t.Fatalf("timeline = %+v", tl)
	}
	brainSrv.Close()
	resp, err := http.Get(srv.URL + "/sensors/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("brain down: %s, want 502", resp.Status)
	}
}

// Topics the brain does not interpret are counted by prefix and change
// nothing; known system topics are not counted.
func TestUnknownTopicsCounted(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.ingest(t, "office/kitchen/scale/s1/weight", `{"value":500}`)
	r.ingest(t, "office/tracking/persons", `{"person_count":1}`)
	r.b.unknownTopic("hydro/lettuce_raft/status")
	r.b.unknownTopic("aqua/main_tank/status")
	for label, want := range map[string]float64{"office": 1, "hydro": 1, "aqua": 1, "other": 0} {
		if got := testutil.ToFloat64(r.b.metrics.unknown.WithLabelValues(label)); got != want {
			t.Errorf("%s: %v, want %v", label, got, want)
		}
	}
	if len(r.b.world.Zones()) != 0 {
		t.Fatalf("an unknown topic made a zone: %+v", r.b.world.Zones())
	}
}
