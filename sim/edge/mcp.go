package edge

import (
	"context"
	"fmt"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/topic"
)

// handleMCP answers tool calls addressed to the office's devices after the
// configured device latency (simulated time). Requests for agents this edge
// does not host are left alone: another edge may own them.
func (o *office) handleMCP(ctx context.Context) bus.Handler {
	return func(m bus.Message) {
		t, ok := topic.ParseMCP(m.Topic)
		if !ok || t.Dir != "request" {
			return
		}
		o.mu.Lock()
		dev, hosted := o.devices[t.Agent]
		o.mu.Unlock()
		if !hosted {
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
			resp := o.call(dev, req)
			if err := o.bus.PublishJSON(ctx, topic.MCPResponse(dev.ID, req.ID), 1, false, resp); err != nil {
				o.log.Warn("MCP response not sent", "agent", dev.ID, "id", req.ID, "err", err)
			}
		}()
	}
}

// call executes one tool on a device.
func (o *office) call(dev DeviceSpec, req mcp.Request) mcp.Response {
	result, err := o.execute(dev, req.Params.Name, req.Params.Arguments)
	if err != nil {
		o.log.Info("tool call failed", "agent", dev.ID, "tool", req.Params.Name, "err", err)
		return mcp.Failure(req.ID, err.Error())
	}
	resp, err := mcp.Result(req.ID, result)
	if err != nil {
		return mcp.Failure(req.ID, err.Error())
	}
	o.log.Info("tool call", "agent", dev.ID, "tool", req.Params.Name, "args", req.Params.Arguments)
	return resp
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
	case tool == "get_status":
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
		t, ok := number(args["temperature"])
		if !ok {
			changed = false
			return nil, fmt.Errorf("set_temperature needs a numeric temperature")
		}
		z.HVACSetpoint = &t
		return map[string]any{"status": "ok", "target_temp": t}, nil
	case dev.Kind == KindHVAC && tool == "turn_off":
		z.HVACSetpoint = nil
		return map[string]any{"status": "ok", "power_state": "off"}, nil
	}
	changed = false
	return nil, fmt.Errorf("unknown tool %q for %s", tool, dev.Kind)
}

func (o *office) status(dev DeviceSpec, z *Zone) map[string]any {
	switch dev.Kind {
	case KindEnv:
		return map[string]any{"temperature": round(z.Temperature, 2), "humidity": round(z.Humidity, 1), "co2": math0(z.CO2), "illuminance": math0(z.Illuminance)}
	case KindPresence:
		return map[string]any{"presence": z.People > 0}
	case KindWindow:
		return map[string]any{"window": map[bool]string{true: "open", false: "closed"}[z.WindowOpen]}
	case KindLight:
		return map[string]any{"power_state": onOff(z.LightsOn)}
	case KindHVAC:
		st := map[string]any{"power_state": onOff(z.HVACSetpoint != nil)}
		if z.HVACSetpoint != nil {
			st["target_temp"] = *z.HVACSetpoint
		}
		return st
	}
	return map[string]any{}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func math0(x float64) float64 { return round(x, 0) }
