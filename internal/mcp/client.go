package mcp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/topic"
)

// Publisher sends a JSON message (internal/bus.Client satisfies it).
type Publisher interface {
	PublishJSON(ctx context.Context, topic string, qos byte, retain bool, v any) error
}

// ErrTimeout is returned when a device does not answer in time.
var ErrTimeout = errors.New("mcp: timed out")

// ErrWrongDevice is HandleResponse's error for a reply to a pending call
// that comes from another device's topic than the one asked: refused, and
// the call keeps waiting for its device.
var ErrWrongDevice = errors.New("mcp: reply from a device that was not asked")

// DeviceError is a device's own error answer.
type DeviceError struct {
	Agent, Tool, Message string
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("%s on %s failed: %s", e.Tool, e.Agent, e.Message)
}

// Outcome is a successful tool call. Queued is true when the target sleeps and
// its always-on ancestor queued the command for the next wake.
type Outcome struct {
	Raw    json.RawMessage
	Queued bool
	// Target and EstimatedDelivery describe a queued command.
	Target            string
	EstimatedDelivery time.Duration
}

// Client calls device tools over MQTT and correlates answers by request id.
// Feed it every message of mcp/+/response/# through HandleResponse.
type Client struct {
	pub   Publisher
	clock clock.Clock

	mu      sync.Mutex
	pending map[string]call
	refused uint64
}

// call is a request waiting for its answer from agent; wait is the
// caller's hold on a simulated clock, handed back with the answer.
type call struct {
	agent string
	ch    chan Response
	wait  *clock.Wait
}

// NewClient returns a client publishing through pub and timing out on c.
func NewClient(pub Publisher, c clock.Clock) *Client {
	return &Client{pub: pub, clock: c, pending: map[string]call{}}
}

// Refused is how many replies came from a device other than the one asked.
func (c *Client) Refused() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

// Pending is the number of calls waiting for an answer.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// Call publishes a call_tool request to agent and waits up to timeout
// (simulated time where the clock is simulated) for its answer.
func (c *Client) Call(ctx context.Context, agent, tool string, args map[string]any, timeout time.Duration) (Outcome, error) {
	id := newID()
	ch := make(chan Response, 1)
	c.mu.Lock()
	c.pending[id] = call{agent: agent, ch: ch}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	req := NewRequest(id, tool, args)
	if _, sim := c.clock.(*clock.Sim); sim {
		now := c.clock.Now()
		req.Params.Meta = &Meta{SimTime: &now}
	}
	if err := c.pub.PublishJSON(ctx, topic.MCPRequest(agent), 0, false, req); err != nil {
		return Outcome{}, fmt.Errorf("mcp: sending %s to %s: %w", tool, agent, err)
	}
	// The device's own connection, not the clock's, carries the call: the
	// clock must not go on before a virtual device has it.
	clock.Sent(c.clock, MessageID(id))
	// The timeout's firing is work: the caller takes its hold back before
	// the timer's ends (Stop, deferred, runs last).
	timer := clock.NewWorkTimer(c.clock, timeout)
	defer timer.Stop()
	// A device answers in simulated time: a caller's hold on the clock must
	// not stop it from getting there. The answer hands it back (Delivered),
	// so the caller goes on at the same simulated instant in every run.
	wait := clock.Waiting(ctx)
	c.mu.Lock()
	if pc, ok := c.pending[id]; ok {
		pc.wait = wait
		c.pending[id] = pc
	}
	c.mu.Unlock()
	select {
	case <-ctx.Done():
		wait.Resume()
		return Outcome{}, ctx.Err()
	case <-timer.C():
		wait.Resume()
		return Outcome{}, fmt.Errorf("%w (%s): %s on %s", ErrTimeout, timeout, tool, agent)
	case resp := <-ch:
		// A timeout that fell due at the same step must not hold the
		// step the answer is taken up at.
		timer.Stop()
		if err := wait.Received(ctx); err != nil {
			return Outcome{}, err
		}
		if resp.Error != "" {
			return Outcome{}, &DeviceError{Agent: agent, Tool: tool, Message: string(resp.Error)}
		}
		return decodeResult(resp.Result), nil
	}
}

func decodeResult(raw json.RawMessage) Outcome {
	r := Outcome{Raw: raw}
	var obj struct {
		Status    string  `json:"status"`
		Target    string  `json:"target"`
		EstDelSec float64 `json:"estimated_delivery_sec"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Status == "queued" {
		r.Queued, r.Target = true, obj.Target
		r.EstimatedDelivery = time.Duration(obj.EstDelSec * float64(time.Second))
	}
	return r
}

// HandleResponse resolves the pending call a response belongs to. Late,
// duplicate and unknown answers are ignored (nil); malformed ones are errors.
// An answer for a pending call on another device's topic than the one asked
// is refused (ErrWrongDevice) and counted (Refused): the broker lets each
// device write only its own reply topic, so the topic names who answers.
func (c *Client) HandleResponse(t string, payload []byte) error {
	m, ok := topic.ParseMCP(t)
	if !ok || m.Dir != "response" {
		return fmt.Errorf("mcp: %q is not a response topic", t)
	}
	var resp Response
	if err := json.Unmarshal(payload, &resp); err != nil {
		return fmt.Errorf("mcp: response on %s: %w", t, err)
	}
	id := resp.ID
	if id == "" {
		id, _, _ = strings.Cut(m.Rest, "/")
	}
	c.mu.Lock()
	pc, ok := c.pending[id]
	if ok && pc.agent != m.Agent {
		c.refused++
		c.mu.Unlock()
		return fmt.Errorf("%w: %s answered call %s meant for %s", ErrWrongDevice, m.Agent, id, pc.agent)
	}
	delete(c.pending, id)
	c.mu.Unlock()
	if ok {
		pc.wait.Delivered()
		pc.ch <- resp
	}
	return nil
}

// newID is a random UUID v4, as the original used.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
