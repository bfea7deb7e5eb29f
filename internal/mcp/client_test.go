package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/topic"
)

// device answers requests the way an edge node does, through the client's
// HandleResponse, so the correlation logic is exercised without a broker (the
// brain's integration tests cover the MQTT path).
type device struct {
	mu     sync.Mutex
	client *Client
	answer func(Request) (any, bool) // payload, respond at all
	sent   []string
}

func (d *device) PublishJSON(_ context.Context, t string, _ byte, _ bool, v any) error {
	req := v.(Request)
	d.mu.Lock()
	d.sent = append(d.sent, t)
	d.mu.Unlock()
	go func() {
		if payload, ok := d.answer(req); ok {
			b, _ := json.Marshal(payload)
			_ = d.client.HandleResponse(topic.MCPResponse("window_01", req.ID), b)
		}
	}()
	return nil
}

func TestCall(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(Request) (any, bool)
		check   func(t *testing.T, r Outcome, err error)
		advance time.Duration
	}{
		{"result", func(r Request) (any, bool) {
			return map[string]any{"jsonrpc": "2.0", "id": r.ID, "result": map[string]any{"window": "open"}}, true
		}, func(t *testing.T, r Outcome, err error) {
			if err != nil || string(r.Raw) != `{"window":"open"}` || r.Queued {
				t.Fatalf("%+v %v", r, err)
			}
		}, 0},
		{"device error string", func(r Request) (any, bool) {
			return map[string]any{"id": r.ID, "error": "motor stuck"}, true
		}, func(t *testing.T, _ Outcome, err error) {
			var de *DeviceError
			if !errors.As(err, &de) || de.Message != "motor stuck" {
				t.Fatalf("err = %v", err)
			}
		}, 0},
		{"queued for a sleeping leaf", func(r Request) (any, bool) {
			return map[string]any{"id": r.ID, "result": map[string]any{"status": "queued", "target": "leaf_env_01", "estimated_delivery_sec": 240}}, true
		}, func(t *testing.T, r Outcome, err error) {
			if err != nil || !r.Queued || r.Target != "leaf_env_01" || r.EstimatedDelivery != 4*time.Minute {
				t.Fatalf("%+v %v", r, err)
			}
		}, 0},
		{"id taken from the topic when the payload has none", func(r Request) (any, bool) {
			return map[string]any{"result": true}, true
		}, func(t *testing.T, r Outcome, err error) {
			if err != nil || string(r.Raw) != "true" {
				t.Fatalf("%+v %v", r, err)
			}
		}, 0},
		{"silence times out", func(Request) (any, bool) { return nil, false },
			func(t *testing.T, _ Outcome, err error) {
				if !errors.Is(err, ErrTimeout) {
					t.Fatalf("err = %v", err)
				}
			}, 6 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
			d := &device{answer: tc.answer}
			cl := NewClient(d, c)
			d.client = cl
			done := make(chan struct{})
			var r Outcome
			var err error
			go func() {
				r, err = cl.Call(context.Background(), "window_01", "open", nil, 5*time.Second)
				close(done)
			}()
			if tc.advance > 0 {
				if err := c.BlockUntil(context.Background(), 1); err != nil {
					t.Fatal(err)
				}
				c.Advance(tc.advance)
			}
			<-done
			tc.check(t, r, err)
			if cl.Pending() != 0 {
				t.Fatal("pending call leaked")
			}
		})
	}
}

func TestHandleResponseIgnoresUnknownIDs(t *testing.T) {
	cl := NewClient(nil, clock.NewManual(time.Now()))
	if err := cl.HandleResponse("mcp/x/response/nope", []byte(`{"id":"nope","result":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := cl.HandleResponse("mcp/x/response/1", []byte(`not json`)); err == nil {
		t.Fatal("malformed response accepted")
	}
	if err := cl.HandleResponse("office/x/y", []byte(`{}`)); err == nil {
		t.Fatal("non-response topic accepted")
	}
}

// A reply from another device's topic (the broker lets each device write
// only its own) is refused and counted; the call still takes its device's
// answer.
func TestReplyFromAnotherDeviceIsRefused(t *testing.T) {
	c := clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	reqs := make(chan Request, 1)
	pub := publishFunc(func(_ string, v any) { reqs <- v.(Request) })
	cl := NewClient(pub, c)
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := cl.Call(context.Background(), "hvac_01", "set_temperature", map[string]any{"temperature": 24}, 10*time.Second)
		done <- result{out, err}
	}()
	req := <-reqs
	forged := []byte(`{"jsonrpc":"2.0","id":"` + req.ID + `","result":{"status":"ok","target_temp":-40}}`)
	err := cl.HandleResponse(topic.MCPResponse("env_01", req.ID), forged)
	if !errors.Is(err, ErrWrongDevice) || cl.Refused() != 1 || cl.Pending() != 1 {
		t.Fatalf("forged reply: err %v, refused %d, pending %d", err, cl.Refused(), cl.Pending())
	}
	real := []byte(`{"jsonrpc":"2.0","id":"` + req.ID + `","result":{"status":"ok","target_temp":24}}`)
	if err := cl.HandleResponse(topic.MCPResponse("hvac_01", req.ID), real); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || string(r.out.Raw) != `{"status":"ok","target_temp":24}` {
		t.Fatalf("%s %v", r.out.Raw, r.err)
	}
}

type publishFunc func(topic string, v any)

func (f publishFunc) PublishJSON(_ context.Context, t string, _ byte, _ bool, v any) error {
	f(t, v)
	return nil
}

// On a simulated clock a call says when it was sent (a virtual device
// answers its latency after that, however its connection delivers it); on
// the wall clock it carries nothing a real device has not seen before.
func TestCallStampsTheSimulatedTime(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		clock clock.Clock
		want  *time.Time
	}{
		{"simulated", clock.NewManual(t0), &t0},
		{"wall", clock.Wall{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan Request, 1)
			d := &device{answer: func(r Request) (any, bool) {
				got <- r
				return map[string]any{"id": r.ID, "result": true}, true
			}}
			cl := NewClient(d, tc.clock)
			d.client = cl
			if _, err := cl.Call(context.Background(), "window_01", "open", nil, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(<-got)
			req, err := ParseRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			switch m := req.Params.Meta; {
			case tc.want == nil && m != nil:
				t.Fatalf("sent _meta %s on the wall clock", b)
			case tc.want != nil && (m == nil || m.SimTime == nil || !m.SimTime.Equal(*tc.want)):
				t.Fatalf("sent %s, want the simulated time %v in _meta", b, *tc.want)
			}
		})
	}
}
