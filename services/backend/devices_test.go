package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/topic"
)

// ingestNow ingests and writes one message synchronously; it reports whether
// the message was queued for the writer.
func (e *env) ingestNow(t *testing.T, tp string, v any) bool {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	e.api.Ingest(tp, b)
	select {
	case it := <-e.api.ingest:
		e.api.writeTelemetry(context.Background(), []telemetryItem{it})
		return true
	default:
		return false
	}
}

func (e *env) dropped(reason telemetry.Reason) float64 {
	return testutil.ToFloat64(e.api.metrics.telemetryDropped.WithLabelValues(string(reason)))
}

func (e *env) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := e.api.sensors.pool.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeviceLimit: new device ids beyond the bound are dropped and counted;
// known devices keep reporting.
func TestDeviceLimit(t *testing.T) {
	e := newEnvWith(t, envOpts{maxDevices: 3})
	for i := range 3 {
		if !e.ingestNow(t, topic.Sensor("main", fmt.Sprintf("env_%d", i), "co2"), map[string]any{"value": 600}) {
			t.Fatalf("device %d refused", i)
		}
	}
	if e.ingestNow(t, topic.Sensor("main", "fake_1", "co2"), map[string]any{"value": 600}) ||
		e.ingestNow(t, topic.Heartbeat("main", "fake_2"), map[string]any{"status": "online"}) {
		t.Fatal("a device beyond the limit was stored")
	}
	if got := e.dropped(telemetry.DeviceLimit); got != 2 {
		t.Fatalf("device_limit drops = %v, want 2", got)
	}
	if !e.ingestNow(t, topic.Sensor("main", "env_0", "co2"), map[string]any{"value": 610}) ||
		!e.ingestNow(t, topic.Sensor("main", "env_1", "temperature"), map[string]any{"value": 22}) {
		t.Fatal("a known device was refused")
	}
	// A hub whose children would pass the bound is refused whole.
	e2 := newEnvWith(t, envOpts{maxDevices: 3})
	hb := map[string]any{"children": []map[string]any{{"device_id": "a"}, {"device_id": "b"}, {"device_id": "c"}}}
	if e2.ingestNow(t, topic.Heartbeat("main", "hub"), hb) || e2.count(t, `SELECT count(*) FROM dashboard.devices`) != 0 {
		t.Fatal("a heartbeat past the device limit was stored in part or whole")
	}
}

func TestChannelLimit(t *testing.T) {
	e := newEnv(t)
	for i := range maxDeviceChannels {
		if !e.ingestNow(t, topic.Sensor("main", "env_0", fmt.Sprintf("junk_%d", i)), map[string]any{"value": 1}) {
			t.Fatalf("channel %d refused", i)
		}
	}
	if e.ingestNow(t, topic.Sensor("main", "env_0", "junk_x"), map[string]any{"value": 1}) || e.dropped(telemetry.ChannelLimit) != 1 {
		t.Fatal("a channel beyond the limit was stored")
	}
	if !e.ingestNow(t, topic.Sensor("main", "env_0", "junk_1"), map[string]any{"value": 2}) {
		t.Fatal("a known channel was refused")
	}
}

// TestDevicesExpire: ids seen only briefly are forgotten an hour after they
// go quiet, others after the retention; the room they held is free again.
func TestDevicesExpire(t *testing.T) {
	e := newEnvWith(t, envOpts{maxDevices: 2})
	ctx := context.Background()
	// env_long reports for two hours; fake reports once.
	e.ingestNow(t, topic.Sensor("main", "env_long", "co2"), map[string]any{"value": 600})
	e.ingestNow(t, topic.Heartbeat("main", "env_long"), map[string]any{"status": "online"})
	e.ingestNow(t, topic.Sensor("main", "fake", "co2"), map[string]any{"value": 600})
	e.ingestNow(t, topic.Heartbeat("main", "fake"), map[string]any{"status": "online"})
	for range 4 {
		e.clock.Advance(30 * time.Minute)
		e.ingestNow(t, topic.Sensor("main", "env_long", "co2"), map[string]any{"value": 600})
		e.ingestNow(t, topic.Heartbeat("main", "env_long"), map[string]any{"status": "online"})
	}
	if e.ingestNow(t, topic.Sensor("main", "newcomer", "co2"), map[string]any{"value": 600}) {
		t.Fatal("the limit did not hold before the prune")
	}
	if err := e.api.pruneOnce(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM dashboard.sensor_latest WHERE device_id = 'fake'`) +
		e.count(t, `SELECT count(*) FROM dashboard.devices WHERE device_id = 'fake'`); n != 0 {
		t.Fatalf("%d rows of the short-lived id kept", n)
	}
	if n := e.count(t, `SELECT count(*) FROM dashboard.devices WHERE device_id = 'env_long'`); n != 1 {
		t.Fatal("the long-lived device was pruned")
	}
	if !e.ingestNow(t, topic.Sensor("main", "newcomer", "co2"), map[string]any{"value": 600}) {
		t.Fatal("the expired id's room was not freed")
	}
	// A long-lived device goes after the retention.
	e.clock.Advance(DefaultDeviceRetention + time.Minute)
	if err := e.api.pruneOnce(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM dashboard.devices`) + e.count(t, `SELECT count(*) FROM dashboard.sensor_latest`); n != 0 {
		t.Fatalf("%d rows left after the retention", n)
	}
	if e.api.devices.len() != 0 {
		t.Fatalf("index holds %d devices after the prune", e.api.devices.len())
	}
}

// TestHeartbeatChildren: a hub's children are stored in one statement with
// their fields; fields a later heartbeat omits are kept; a heartbeat with
// more than telemetry.MaxChildren children is refused.
func TestHeartbeatChildren(t *testing.T) {
	e := newEnv(t)
	children := make([]map[string]any, telemetry.MaxChildren)
	for i := range children {
		children[i] = map[string]any{"device_id": fmt.Sprintf("leaf_%03d", i), "battery_pct": 80, "capabilities": []string{"temperature"}}
	}
	if !e.ingestNow(t, topic.Heartbeat("main", "hub"), map[string]any{"status": "online", "label": "Hub", "children": children}) {
		t.Fatal("heartbeat refused")
	}
	if n := e.count(t, `SELECT count(*) FROM dashboard.devices WHERE parent_id = 'hub' AND battery_pct = 80 AND capabilities = '{temperature}'`); n != telemetry.MaxChildren {
		t.Fatalf("%d children stored", n)
	}
	e.ingestNow(t, topic.Heartbeat("main", "hub"), map[string]any{"children": []map[string]any{{"device_id": "leaf_000"}}})
	if n := e.count(t, `SELECT count(*) FROM dashboard.devices WHERE device_id IN ('hub', 'hub.leaf_000') AND (label = 'Hub' OR battery_pct = 80) AND status IS NOT DISTINCT FROM CASE WHEN device_id = 'hub' THEN 'online' END`); n != 2 {
		t.Fatalf("omitted fields not kept (%d rows)", n)
	}
	if n := e.count(t, `SELECT count(*) FROM dashboard.devices WHERE device_id = 'hub.leaf_000' AND capabilities = '{temperature}'`); n != 1 {
		t.Fatal("capabilities lost when a heartbeat omits them")
	}
	big := append(children, map[string]any{"device_id": "one_too_many"})
	if e.ingestNow(t, topic.Heartbeat("main", "hub2"), map[string]any{"children": big}) || e.dropped(telemetry.BadHeartbeat) != 1 {
		t.Fatal("a heartbeat with too many children was stored")
	}
}
