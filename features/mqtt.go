package features

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
)

// recorder keeps what a scenario saw on MQTT, through the read-only monitor
// account: how QA observes device commands.
type recorder struct {
	client *bus.Client

	mu   sync.Mutex
	msgs []bus.Message
}

func startRecorder(ctx context.Context, cfg bus.Config, filters ...string) (*recorder, error) {
	r := &recorder{client: bus.New(cfg, "features", logging.Discard(), prometheus.NewRegistry())}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.client.WaitConnected(wctx); err != nil {
		r.client.Close()
		return nil, fmt.Errorf("monitor connection: %w", err)
	}
	for _, f := range filters {
		if err := r.client.Subscribe(ctx, f, 0, r.add); err != nil {
			r.client.Close()
			return nil, err
		}
	}
	return r, nil
}

func (r *recorder) add(m bus.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
}

func (r *recorder) close() {
	if r != nil {
		r.client.Close()
	}
}

// commands returns the tool calls sent to agent so far.
func (r *recorder) commands(agent string) []mcp.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mcp.Request
	prefix := "mcp/" + agent + "/request/"
	for _, m := range r.msgs {
		if strings.HasPrefix(m.Topic, prefix) {
			if req, err := mcp.ParseRequest(m.Payload); err == nil {
				out = append(out, req)
			}
		}
	}
	return out
}
