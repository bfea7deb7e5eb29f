package brain

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/telemetry"
)

// bareBrain is a brain with nothing but its ingest path and HTTP routes.
func bareBrain(t *testing.T) (*brain, *httptest.Server) {
	t.Helper()
	b := newBrain(Config{TimeZone: "Asia/Tokyo"}, clock.NewManual(t0), logging.Discard(), parts{metrics: newMetrics(prometheus.NewRegistry())})
	r := chi.NewRouter()
	b.routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return b, srv
}

// TestHugeReadingsAreDropped: readings of 1e308 from made-up devices once
// pushed the fused CO2 to +Inf (GET /world/zones then answered 200 with an
// empty body) and raised an event; they are dropped and counted now.
func TestHugeReadingsAreDropped(t *testing.T) {
	b, srv := bareBrain(t)
	b.ingest(bus.Message{Topic: "office/main/sensor/env_01/co2", Payload: []byte(`{"value":640}`)})
	for i := range 5 {
		b.ingest(bus.Message{Topic: fmt.Sprintf("office/main/sensor/fake_%d/co2", i), Payload: []byte(`{"value":1e308}`)})
	}
	if n := testutil.ToFloat64(b.metrics.dropped.WithLabelValues(string(telemetry.OutOfRange))); n != 5 {
		t.Fatalf("out_of_range drops = %v", n)
	}
	resp, err := http.Get(srv.URL + "/world/zones")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var zones []struct {
		ID       string `json:"id"`
		Channels map[string]struct{ Value float64 }
	}
	if err := json.NewDecoder(resp.Body).Decode(&zones); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /world/zones: %d, %v", resp.StatusCode, err)
	}
	if len(zones) != 1 || zones[0].Channels["co2"].Value != 640 {
		t.Fatalf("zones %+v", zones)
	}
	if evs := b.world.EventsSince(t0.Add(-1)); len(evs) != 0 {
		t.Fatalf("events %+v", evs)
	}
}

// TestHeartbeatDrops: the registry's and the parser's rejections reach the
// brain's drop counter under their reason, and a refused heartbeat does not
// reach the world model.
func TestHeartbeatDrops(t *testing.T) {
	b, _ := bareBrain(t)
	b.ingest(bus.Message{Topic: "office/main/sensor/hub/heartbeat", Payload: []byte(`{"children":["x"]}`)})
	if n := testutil.ToFloat64(b.metrics.dropped.WithLabelValues(string(telemetry.BadHeartbeat))); n != 1 {
		t.Fatalf("bad_heartbeat drops = %v", n)
	}
	if _, ok := b.world.Zone("main"); ok {
		t.Fatal("a refused heartbeat created a zone")
	}
}
