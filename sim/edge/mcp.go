package edge

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/topic"
)

// handleMCP takes tool calls addressed to the office's devices (and to a
// hub's leaves, mcp/{hub}.{leaf}/..., which the hub answers for them) and
// queues them for the run loop, which answers each the configured device
// latency (simulated time) after it was sent, at its instant in the order of
// the office's work — so a device acts, and its answer goes out, at the same simulated
// instant in every run, and the clock waits for the answer to be out. Each
// device's connection subscribes to its own request topics only
// (RequestTopics). Requests for agents this edge does not host are left
// alone. An offline device never answers.
func (o *office) handleMCP(ctx context.Context) bus.Handler {
	return func(m bus.Message) {
		t, ok := topic.ParseMCP(m.Topic)
		if !ok || t.Dir != "request" {
			return
		}
		o.mu.Lock()
		dev, hosted := o.agentLocked(t.Agent)
		offline := o.faults[t.Agent].offline() || o.faults[dev.ID].offline()
		o.mu.Unlock()
		if !hosted {
			return
		}
		req, err := mcp.ParseRequest(m.Payload)
		if err != nil || offline {
			if err != nil {
				o.log.Debug("dropping malformed MCP request", "topic", m.Topic, "err", err)
			}
			o.received(req.ID)
			return
		}
		c := toolCall{due: sentAt(req, o.clock.Now()).Add(o.cfg.MCPLatency), agent: t.Agent, dev: dev, req: req}
		o.queued(1) // before the loop can take it, and before the clock may go on
		select {
		case o.callIn <- c:
		case <-ctx.Done():
			o.queued(-1)
		}
		o.received(req.ID)
	}
}

// received tells the clock a call has arrived (its sender noted it sent):
// the next step waits for that, not for this connection's delivery.
func (o *office) received(id string) {
	if id != "" {
		clock.Received(o.clock, mcp.MessageID(id))
	}
}

// maxStampSkew bounds how far a call's own simulated send time may lie from
// the edge's clock: further (another run's call, a jump of the clock while
// it was on its way) the edge's time counts.
const maxStampSkew = time.Minute

// sentAt is the simulated instant a call was sent at: its own stamp
// (mcp.Meta), else now. The device's connection is not the one the clock
// comes on, so when it delivers a call the edge's clock may be a step behind
// or ahead of the sender's; the stamp makes the answer's instant the same in
// every run.
func sentAt(req mcp.Request, now time.Time) time.Time {
	if m := req.Params.Meta; m != nil && m.SimTime != nil {
		if d := m.SimTime.Sub(now); d <= maxStampSkew && d >= -maxStampSkew {
			return *m.SimTime
		}
	}
	return now
}

// toolCall is a tool call waiting for its instant to be answered.
type toolCall struct {
	due   time.Time
	agent string
	dev   DeviceSpec
	req   mcp.Request
}

// addCall inserts c in due order, after the calls due at the same instant.
func addCall(calls []toolCall, c toolCall) []toolCall {
	i := sort.Search(len(calls), func(i int) bool { return calls[i].due.After(c.due) })
	return slices.Insert(calls, i, c)
}

// takeCalls adds the calls waiting for the run loop to calls.
func (o *office) takeCalls(calls []toolCall) []toolCall {
	for {
		select {
		case c := <-o.callIn:
			calls = addCall(calls, c)
			o.queued(-1)
		default:
			return calls
		}
	}
}

// answerCalls answers the calls due at now and returns the rest.
func (o *office) answerCalls(ctx context.Context, calls []toolCall, now time.Time) []toolCall {
	n := 0
	for n < len(calls) && !calls[n].due.After(now) {
		o.answer(ctx, calls[n])
		n++
	}
	return slices.Delete(calls, 0, n)
}

// answer executes one call and publishes the device's answer.
func (o *office) answer(ctx context.Context, c toolCall) {
	resp := o.callAgent(c.agent, c.dev, c.req)
	l := o.link(c.dev.ID) // the device answers as itself, on its own reply topic
	if l == nil {
		return
	}
	if err := l.PublishJSON(ctx, topic.MCPResponse(c.agent, c.req.ID), 1, false, resp); err != nil {
		o.log.Warn("MCP response not sent", "agent", c.agent, "id", c.req.ID, "err", err)
	}
}

// agentLocked resolves an MCP agent id: a device, or hub.leaf (the hub).
func (o *office) agentLocked(agent string) (DeviceSpec, bool) {
	if d, ok := o.devices[agent]; ok {
		return d, true
	}
	hubID, leafName, ok := strings.Cut(agent, ".")
	if !ok {
		return DeviceSpec{}, false
	}
	h, ok := o.hubs[hubID]
	if !ok || h.leaf(leafName) == nil {
		return DeviceSpec{}, false
	}
	return h.spec, true
}

// callAgent executes a tool for agent (a device or a leaf behind dev).
func (o *office) callAgent(agent string, dev DeviceSpec, req mcp.Request) mcp.Response {
	if agent != dev.ID {
		if err := leafTools.Check(req.Params.Name, req.Params.Arguments); err != nil {
			o.log.Info("tool call refused", "agent", agent, "tool", req.Params.Name, "err", err)
			return mcp.Failure(req.ID, err.Error())
		}
		_, leafName, _ := strings.Cut(agent, ".")
		o.mu.Lock()
		res := o.leafToolLocked(o.hubs[dev.ID], leafName, req.Params.Name, req.Params.Arguments)
		o.mu.Unlock()
		return result(req.ID, res)
	}
	return o.call(dev, req)
}

// leafToolLocked is a tool called on a leaf directly: get_status from the
// hub's cache, or a leaf command (queued while the leaf sleeps).
func (o *office) leafToolLocked(h *hub, leafName, tool string, args map[string]any) map[string]any {
	if tool == "get_status" {
		l := h.leaf(leafName)
		return map[string]any{"device_id": h.childID(l), "power_mode": l.spec.PowerMode, "asleep": l.asleep(o.clock.Now()), "last_data": l.lastData, "battery_mv": int(l.battery), "relay": l.relay}
	}
	return o.leafCommandLocked(h, leafName, tool, args)
}

func result(id string, v any) mcp.Response {
	resp, err := mcp.Result(id, v)
	if err != nil {
		return mcp.Failure(id, err.Error())
	}
	return resp
}

// call checks a tool call against the device's schema, then executes it.
func (o *office) call(dev DeviceSpec, req mcp.Request) mcp.Response {
	if err := toolsets[dev.Kind].Check(req.Params.Name, req.Params.Arguments); err != nil {
		o.log.Info("tool call refused", "agent", dev.ID, "tool", req.Params.Name, "err", err)
		return mcp.Failure(req.ID, err.Error())
	}
	res, err := o.execute(dev, req.Params.Name, req.Params.Arguments)
	if err != nil {
		o.log.Info("tool call failed", "agent", dev.ID, "tool", req.Params.Name, "err", err)
		return mcp.Failure(req.ID, err.Error())
	}
	o.log.Info("tool call", "agent", dev.ID, "tool", req.Params.Name, "args", req.Params.Arguments)
	return result(req.ID, res)
}

func (o *office) execute(dev DeviceSpec, tool string, args map[string]any) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	z := o.zones[dev.Zone]
	changed := true
	defer func() {
		if changed {
			o.requestReport(dev.Zone)
		}
	}()
	switch {
	case tool == "get_status" && dev.Kind != KindShelf:
		changed = false
		return o.status(dev, z), nil
	case dev.Kind == KindWindow && tool == "open":
		z.WindowOpen = true
		return map[string]any{"status": "ok", "window": "open"}, nil
	case dev.Kind == KindWindow && tool == "close":
		z.WindowOpen = false
		return map[string]any{"status": "ok", "window": "closed"}, nil
	case dev.Kind == KindLight && tool == "turn_on":
		z.LightsOn = true
		return map[string]any{"status": "ok", "power_state": "on"}, nil
	case dev.Kind == KindLight && tool == "turn_off":
		z.LightsOn = false
		return map[string]any{"status": "ok", "power_state": "off"}, nil
	case dev.Kind == KindHVAC && tool == "set_temperature":
		t, ok := jsonnum.Float(args["temperature"], argAccept)
		if !ok {
			changed = false
			return nil, fmt.Errorf("set_temperature needs a numeric temperature")
		}
		z.HVACSetpoint = &t
		return map[string]any{"status": "ok", "target_temp": t}, nil
	case dev.Kind == KindHVAC && tool == "turn_off":
		z.HVACSetpoint = nil
		return map[string]any{"status": "ok", "power_state": "off"}, nil
	case dev.Kind == KindSwarmHub && tool == "leaf_command":
		changed = false
		ref := fmt.Sprint(args["leaf_id"])
		if f, ok := args["leaf_id"].(float64); ok {
			ref = fmt.Sprint(int(f))
		}
		cmd, _ := args["command"].(string)
		extra, _ := args["args"].(map[string]any)
		if err := checkLeafCommand(cmd, extra); err != nil {
			return nil, fmt.Errorf("leaf_command %w", err)
		}
		return o.leafCommandLocked(o.hubs[dev.ID], ref, cmd, extra), nil
	case dev.Kind == KindSwarmHub && tool == "get_swarm_status":
		changed = false
		return o.swarmStatusLocked(o.hubs[dev.ID]), nil
	case dev.Kind == KindShelf:
		changed = false
		return o.shelves[dev.ID].tool(tool, args)
	case dev.Kind == KindHydro && tool == "dose_ph_down":
		n, _ := jsonnum.Float(args["amount_ml"], argAccept)
		return map[string]any{"status": "dosed", "new_ph_estimate": round(7.5-0.1*n, 2)}, nil
	case dev.Kind == KindAqua && tool == "set_lights":
		return map[string]any{"status": "ok", "lights": args["state"]}, nil
	case dev.Kind == KindAqua && tool == "feed_fish":
		return map[string]any{"status": "fed"}, nil
	}
	changed = false
	return nil, fmt.Errorf("unknown tool %q for %s", tool, dev.Kind)
}

func (o *office) status(dev DeviceSpec, z *Zone) map[string]any {
	switch dev.Kind {
	case KindEnv:
		return map[string]any{"temperature": round(z.Temperature, 2), "humidity": round(z.Humidity, 1), "co2": round(z.CO2, 0), "illuminance": round(z.Illuminance, 0)}
	case KindPresence:
		return map[string]any{"presence": z.People > 0}
	case KindWindow:
		return map[string]any{"window": map[bool]string{true: "open", false: "closed"}[z.WindowOpen]}
	case KindLight:
		return map[string]any{"power_state": powerState(z.LightsOn)}
	case KindHVAC:
		st := map[string]any{"power_state": powerState(z.HVACSetpoint != nil)}
		if z.HVACSetpoint != nil {
			st["target_temp"] = *z.HVACSetpoint
		}
		return st
	case KindSwarmHub:
		return map[string]any{"status": "online", "leaf_count": len(o.hubs[dev.ID].leaves)}
	}
	return map[string]any{"status": "online"}
}

// argAccept is what an MCP tool argument of a virtual device takes for a
// number: JSON numbers and booleans (true = 1), not numeric strings.
const argAccept = jsonnum.Numbers | jsonnum.Bools
