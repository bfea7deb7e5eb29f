package edge

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/topic"
)

// gatedLink records publications; those on MCP reply topics wait until the
// gate opens, as a publication waits for the broker.
type gatedLink struct {
	gate chan struct{}
	mu   sync.Mutex
	sent []message
}

func (g *gatedLink) PublishJSON(_ context.Context, t string, _ byte, _ bool, v any) error {
	if strings.Contains(t, "/response/") {
		<-g.gate
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, message{topic: t, payload: v})
	return nil
}

func (g *gatedLink) replies() []message {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []message
	for _, m := range g.sent {
		if strings.Contains(m.topic, "/response/") {
			out = append(out, m)
		}
	}
	return out
}

// On a stepped clock a device answers a tool call at the step its latency
// ends at, and the step is not handled until the answer is out: the
// caller gets it, and the device's change shows, at the same simulated
// instant in every run. Answered on a goroutine of its own, the answer could
// go out after the edge had acknowledged the step, a step late or not.
func TestToolCallAnsweredWithinItsStep(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 13, 30, 0, 0, time.UTC)
	c := clock.NewSim()
	c.Set(clock.State{SimTime: t0, Step: 1})
	cfg := Config{Seed: 1, PhysicsStep: 10 * time.Second, ReportInterval: 30 * time.Second, HeartbeatInterval: time.Minute, MCPLatency: 500 * time.Millisecond}
	o, err := newOffice(cfg, DefaultLayout(), c, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	link := &gatedLink{gate: make(chan struct{})}
	o.link = func(string) publisher { return link }
	o.scenes = link
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = o.run(ctx); close(done) }()
	defer func() { close(link.gate); cancel(); <-done }()

	settles := func() bool {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer scancel()
		_, err := c.Settle(sctx, time.Minute) // a lease longer than the test: a hold is a hold
		return err == nil
	}
	if err := c.BlockUntil(ctx, 1); err != nil { // the run loop is up
		t.Fatal(err)
	}
	req, _ := json.Marshal(mcp.NewRequest("req-1", "set_temperature", map[string]any{"temperature": 24}))
	o.handleMCP(ctx)(bus.Message{Topic: topic.MCPRequest("hvac_01"), Payload: req})
	if !settles() || len(link.replies()) != 0 {
		t.Fatalf("step 1: settled %v with %d replies, want settled without: the device's latency is 500ms", settles(), len(link.replies()))
	}
	c.Set(clock.State{SimTime: t0.Add(time.Second), Step: 2})
	if settles() {
		t.Fatal("step 2 handled while the device's answer was not out")
	}
	link.gate <- struct{}{} // the broker takes the answer
	if _, err := c.Settle(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	replies := link.replies()
	if len(replies) != 1 || replies[0].topic != topic.MCPResponse("hvac_01", "req-1") {
		t.Fatalf("replies %+v, want one to req-1", replies)
	}
	o.mu.Lock()
	sp := o.zones["main"].HVACSetpoint
	o.mu.Unlock()
	if sp == nil || *sp != 24 {
		t.Fatalf("set-point %v, want 24", sp)
	}
}

// A stamped call is answered its latency after it was sent, whether the
// device's connection delivers it while the edge's clock is still a step
// behind the sender's, at it, or already a step ahead: that order is the
// machine's, not the run's. Counted from delivery, the answer moved a step
// with it.
func TestToolCallAnsweredAfterItsStamp(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 13, 30, 0, 0, time.UTC)
	stamp := func(d time.Duration) *time.Duration { return &d }
	for _, tc := range []struct {
		name string
		edge time.Duration  // the edge's clock when the call is delivered, from t0
		sent *time.Duration // the call's stamp, from t0 (nil: none)
		want time.Duration  // the step it is answered at, from t0
	}{
		{"edge a step behind", -time.Second, stamp(0), time.Second},
		{"edge at the sender's step", 0, stamp(0), time.Second},
		{"edge a step ahead", time.Second, stamp(0), time.Second},
		{"unstamped: from delivery", time.Second, nil, 2 * time.Second},
		{"a stamp from far away: from delivery", 0, stamp(-time.Hour), time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewSim()
			c.Set(clock.State{SimTime: t0.Add(tc.edge), Step: 1})
			cfg := Config{Seed: 1, PhysicsStep: 10 * time.Second, ReportInterval: 30 * time.Second, HeartbeatInterval: time.Minute, MCPLatency: 500 * time.Millisecond}
			o, err := newOffice(cfg, DefaultLayout(), c, logging.Discard())
			if err != nil {
				t.Fatal(err)
			}
			link := &gatedLink{gate: make(chan struct{})}
			close(link.gate)
			o.link = func(string) publisher { return link }
			o.scenes = link
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = o.run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			if err := c.BlockUntil(ctx, 1); err != nil {
				t.Fatal(err)
			}
			req := mcp.NewRequest("req-1", "set_temperature", map[string]any{"temperature": 24})
			if tc.sent != nil {
				sent := t0.Add(*tc.sent)
				req.Params.Meta = &mcp.Meta{SimTime: &sent}
			}
			b, _ := json.Marshal(req)
			o.handleMCP(ctx)(bus.Message{Topic: topic.MCPRequest("hvac_01"), Payload: b})
			for n, at := uint64(1), tc.edge; at <= 3*time.Second; n, at = n+1, at+time.Second {
				if n > 1 {
					c.Set(clock.State{SimTime: t0.Add(at), Step: n})
				}
				if _, err := c.Settle(ctx, time.Minute); err != nil {
					t.Fatal(err)
				}
				if len(link.replies()) > 0 {
					if at != tc.want {
						t.Fatalf("answered at %v, want %v", at, tc.want)
					}
					return
				}
			}
			t.Fatal("never answered")
		})
	}
}
