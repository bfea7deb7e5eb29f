package eventstore

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func open(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	pool, err := pg.Open(ctx, testenv.Postgres(t), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := Open(ctx, pool, clock.NewManual(t0), logging.Discard(), "local")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRawEventsAndDecisions(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for i := range 25 {
		s.Record(Raw{At: t0.Add(time.Duration(i) * time.Second), Zone: "main", Type: "sensor_reading", Device: "env_01", Data: map[string]any{"channel": "co2", "value": 900 + i}})
	}
	s.Record(Raw{At: t0, Zone: "main", Type: "world_model_co2_threshold_exceeded", Data: map[string]any{"value": 1400}})
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountRaw(ctx, "sensor_reading"); err != nil || n != 25 {
		t.Fatalf("sensor readings = %d, %v", n, err)
	}
	d := Decision{At: t0, Mode: "llm", Outcome: "ok", Duration: 812, Iterations: 2,
		Triggers:  []Trigger{{Zone: "main", Event: "co2_threshold_exceeded", Severity: "warning"}},
		ToolCalls: []ToolCall{{Tool: "create_task", Args: map[string]any{"title": "換気"}, Success: true, Result: "created (ID 1)"}}}
	if err := s.RecordDecision(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDecision(ctx, Decision{At: t0.Add(time.Minute), Mode: "bogus"}); err == nil {
		t.Fatal("a decision with an unknown mode was stored")
	}
	got, err := s.Decisions(ctx, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("decisions = %+v, %v", got, err)
	}
	if got[0].ToolCalls[0].Tool != "create_task" || got[0].Triggers[0].Event != "co2_threshold_exceeded" || got[0].Iterations != 2 {
		t.Fatalf("decision = %+v", got[0])
	}
	if err := s.SnapshotDevices(ctx, []map[string]any{{"device_id": "env_01"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SnapshotDevices(ctx, []map[string]any{{"device_id": "env_02"}}); err != nil {
		t.Fatal(err)
	}
}

func TestNilStoreIsDisabled(t *testing.T) {
	var s *Store
	s.Record(Raw{})
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Decisions(context.Background(), 1); err != nil || len(d) != 0 {
		t.Fatal(d, err)
	}
}

// The original dashboard's event feed and LLM activity come from the log.
func TestEventsAndActivity(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	s.Record(Raw{At: t0, Zone: "main", Type: "sensor_reading", Device: "env_01", Data: map[string]any{"channel": "co2", "value": 900}})
	s.Record(Raw{At: t0, Zone: "main", Type: "world_model_co2_threshold_exceeded", Data: map[string]any{"value": 1400}})
	s.Record(Raw{At: t0.Add(time.Minute), Zone: "kitchen", Type: "world_model_low_stock", Device: "shelf_01", Data: map[string]any{"item_name": "コーヒー豆"}})
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, "", 10)
	if err != nil || len(evs) != 2 || evs[0].Type != "world_model_low_stock" || *evs[0].Device != "shelf_01" || evs[1].Device != nil || evs[1].Data["value"] != 1400.0 {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	if evs, err := s.Events(ctx, "main", 10); err != nil || len(evs) != 1 {
		t.Fatalf("main's events = %+v, %v", evs, err)
	}
	for i, d := range []Decision{
		{At: t0.Add(10 * time.Minute), Mode: "llm", Outcome: "ok", Duration: 1000, ToolCalls: []ToolCall{{Tool: "speak"}, {Tool: "create_task"}}},
		{At: t0.Add(20 * time.Minute), Mode: "llm", Outcome: "ok", Duration: 2000},
		{At: t0.Add(70 * time.Minute), Mode: "rule_fallback", Outcome: "llm_error", Duration: 4500, ToolCalls: []ToolCall{{Tool: "create_task"}}},
	} {
		if err := s.RecordDecision(ctx, d); err != nil {
			t.Fatal(i, err)
		}
	}
	a, err := s.Activity(ctx, t0)
	if err != nil || a.Cycles != 3 || a.ToolCalls != 3 || a.AvgDurationSec != 2.5 || len(a.Timeline) != 2 {
		t.Fatalf("activity = %+v, %v", a, err)
	}
	if h := a.Timeline[0]; !h.At.Equal(t0) || h.Cycles != 2 || h.ToolCalls != 2 || h.AvgDurationSec != 1.5 {
		t.Fatalf("first hour = %+v", h)
	}
	if a, err := s.Activity(ctx, t0.Add(time.Hour)); err != nil || a.Cycles != 1 {
		t.Fatalf("last hour = %+v, %v", a, err)
	}
}
