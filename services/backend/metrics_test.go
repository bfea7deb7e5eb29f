package backend

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
)

// pendingGauge is the pending-rewards gauge as a scrape sees it: its value,
// or absent.
func pendingGauge(t *testing.T, reg *prometheus.Registry) (float64, bool) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "soms_backend_task_payments_pending" {
			return f.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestPendingPaymentsGauge: a scrape reads the count the payment loop made
// (no query of its own), and a count that fails leaves the gauge absent and
// counts the error instead of exporting a made-up value.
func TestPendingPaymentsGauge(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t) // no wallet: completed tasks' rewards stay pending
	reg := prometheus.NewRegistry()
	pool, err := pg.Open(ctx, e.dbURL, logging.Discard()) // the same database, through a pool this test may close
	if err != nil {
		t.Fatal(err)
	}
	a := New(Deps{Pool: pool, Clock: e.clock, Log: logging.Discard(), ServiceToken: token, Region: "local", Metrics: reg})

	if _, ok := pendingGauge(t, reg); ok {
		t.Fatal("the gauge has a value before anything was counted")
	}
	a.countPending(ctx)
	if v, ok := pendingGauge(t, reg); !ok || v != 0 {
		t.Fatalf("gauge = %v (present %v), want 0", v, ok)
	}

	alice := e.person(t, "alice")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x"}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
	mustOK(t)(alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{}))
	if v, _ := pendingGauge(t, reg); v != 0 {
		t.Fatalf("a scrape counted by itself: %v", v)
	}
	a.countPending(ctx)
	if v, ok := pendingGauge(t, reg); !ok || v != 1 {
		t.Fatalf("gauge = %v (present %v), want 1", v, ok)
	}

	pool.Close() // the database is gone for this API
	a.countPending(ctx)
	if v, ok := pendingGauge(t, reg); ok {
		t.Fatalf("gauge = %v after a failed count, want absent", v)
	}
	if n := testutil.ToFloat64(a.metrics.pendingErrors); n != 1 {
		t.Fatalf("count errors = %v, want 1", n)
	}
}
