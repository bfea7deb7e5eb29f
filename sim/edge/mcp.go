package edge

import (
	"context"
	"fmt"
	"strings"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/topic"
)

// handleMCP answers tool calls addressed to the office's devices (and to a
// hub's leaves, mcp/{hub}.{leaf}/..., which the hub answers for them) after
// the configured device latency (simulated time). Each device's connection
// subscribes to its own request topics only (RequestTopics). Requests for
// agents this edge does not host are left alone. An offline device never
// answers.
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
		if !hosted || offline {
			return
		}
		req, err := mcp.ParseRequest(m.Payload)
		if err != nil {
			o.log.Debug("dropping malformed MCP request", "topic", m.Topic, "err", err)
			return
		}
		go func() {
			if err := clock.Sleep(ctx, o.clock, o.cfg.MCPLatency); err != nil {
				return
			}
			resp := o.callAgent(t.Agent, dev, req)
			l := o.link(dev.ID) // the device answers as itself, on its own reply topic
			if l == nil {
				return
			}
			if err := l.PublishJSON(ctx, topic.MCPResponse(t.Agent, req.ID), 1, false, resp); err != nil {
				o.log.Warn("MCP response not sent", "agent", t.Agent, "id", req.ID, "err", err)
			}
		}()
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
