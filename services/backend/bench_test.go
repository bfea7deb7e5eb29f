package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/topic"
)

// BenchmarkTaskCreate measures POST /tasks/ (distinct titles: every call
// inserts) through the HTTP client, one caller at a time.
func BenchmarkTaskCreate(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	z := "bench"
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: fmt.Sprintf("task %d", i), Zone: &z, Location: z}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTaskList measures GET /tasks/?status=active (100 of 1000 tasks).
func BenchmarkTaskList(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	for i := range 1000 {
		if _, err := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: fmt.Sprintf("task %d", i), Location: "x"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		ts, err := e.anon.ListTasks(ctx, backendapi.TaskFilter{Status: backendapi.StatusActive})
		if err != nil || len(ts) != 100 {
			b.Fatal(len(ts), err)
		}
	}
}

// BenchmarkTaskCreateListParallel runs create-then-list pairs from
// GOMAXPROCS×4 concurrent callers, half of the creates being duplicates
// (merged in place), as the brain and dashboards do together.
func BenchmarkTaskCreateListParallel(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			title := fmt.Sprintf("task %d", i/2) // every title twice
			if _, err := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: title, Location: "x"}); err != nil {
				b.Error(err)
				return
			}
			if _, err := e.anon.ListTasks(ctx, backendapi.TaskFilter{Status: backendapi.StatusActive, Limit: 20}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHeartbeatChildren measures storing one hub heartbeat with 500
// children (telemetry.MaxChildren) through the ingest writer: parse and one
// write of the batch.
func BenchmarkHeartbeatChildren(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	children := make([]map[string]any, 500)
	for i := range children {
		children[i] = map[string]any{"device_id": fmt.Sprintf("leaf_%03d", i), "battery_pct": 80, "power_mode": "DEEP_SLEEP", "next_wake_sec": 60}
	}
	payload, err := json.Marshal(map[string]any{"status": "online", "uptime_sec": 60, "children": children})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		e.api.Ingest(topic.Heartbeat("bench", fmt.Sprintf("hub_%d", i%4)), payload)
		e.api.writeTelemetry(ctx, []telemetryItem{<-e.api.ingest})
	}
}
