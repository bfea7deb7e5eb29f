package brain

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
)

// TestForgedReplyIsRefusedAndCounted: over the real broker, a reply to the
// brain's call on hvac_01 published on another device's reply topic — which
// the legacy device account may write, so the broker passes it — is refused
// by the brain's MCP client and counted under mcp_wrong_device; hvac_01's own
// answer still completes the call.
func TestForgedReplyIsRefusedAndCounted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	broker := testenv.Broker(t)
	brainBus := connect(t, broker.Config(mqttacl.UserBrain), "brain-trust")
	legacy := connect(t, broker.Config(mqttacl.UserLegacy), "forger")
	c := clock.Wall{}
	devices := mcp.NewClient(brainBus, c)
	reg := prometheus.NewRegistry()
	b := newBrain(Config{TimeZone: "Asia/Tokyo", TrustAfter: time.Hour}, c, logging.Discard(), parts{devices: devices, metrics: newMetrics(reg)})
	if err := b.subscribe(ctx, brainBus, devices); err != nil {
		t.Fatal(err)
	}
	// The forger reads the command (the legacy class reads every device's
	// requests) and answers first, from env_01's topic; then the real reply.
	replied := make(chan struct{})
	if err := legacy.Subscribe(ctx, topic.MCPRequest("hvac_01"), 1, func(m bus.Message) {
		req, err := mcp.ParseRequest(m.Payload)
		if err != nil {
			return
		}
		forged, _ := mcp.Result(req.ID, map[string]any{"status": "ok", "target_temp": -40})
		real, _ := mcp.Result(req.ID, map[string]any{"status": "ok", "target_temp": 24})
		go func() {
			_ = legacy.PublishJSON(ctx, topic.MCPResponse("env_01", req.ID), 1, false, forged)
			// The forged reply reaches the brain before the real one (one
			// connection, in order).
			_ = legacy.PublishJSON(ctx, topic.MCPResponse("hvac_01", req.ID), 1, false, real)
			close(replied)
		}()
	}); err != nil {
		t.Fatal(err)
	}
	out, err := devices.Call(ctx, "hvac_01", "set_temperature", map[string]any{"temperature": 24}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	<-replied
	var res map[string]any
	if err := json.Unmarshal(out.Raw, &res); err != nil || res["target_temp"] != 24.0 {
		t.Fatalf("the call took %s", out.Raw)
	}
	if n := testutil.ToFloat64(b.metrics.dropped.WithLabelValues("mcp_wrong_device")); n != 1 || devices.Refused() != 1 {
		t.Fatalf("forged replies counted: metric %v, client %d", n, devices.Refused())
	}
}
