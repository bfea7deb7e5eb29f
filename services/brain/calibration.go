package brain

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/services/brain/quote"
	"github.com/somsgo/soms/services/brain/sanitizer"
)

// calibrationSession is how long a tare stays valid for the weight step.
const calibrationSession = 600 * time.Second

// calibrateShelf runs one step of the two-step shelf calibration (tare, then a
// known weight), enforcing the order per device.
func (b *brain) calibrateShelf(ctx context.Context, args map[string]any) toolResult {
	device, step := str(args["device_id"]), str(args["step"])
	now := b.clock.Now()
	b.mu.Lock()
	if b.tared == nil {
		b.tared = map[string]time.Time{}
	}
	at, tared := b.tared[device]
	b.mu.Unlock()
	tool, targs := "tare", map[string]any{}
	if step == "set_known_weight" {
		if !tared || now.Sub(at) > calibrationSession {
			return fail("calibrate %s: run step tare first (a tare is valid for 10 minutes)", device)
		}
		w, _ := jsonnum.Float(args["known_weight_g"], sanitizer.ArgAccept)
		tool, targs = "calibrate", map[string]any{"known_weight_g": w}
	}
	res, err := b.devices.Call(ctx, device, tool, targs, b.cfg.MCPTimeout)
	b.metrics.mcp.WithLabelValues(mcpOutcome(res, err)).Inc()
	if err != nil {
		var de *mcp.DeviceError
		if errors.As(err, &de) {
			return fail("device error: %s", quote.Text(de.Message, maxDeviceAnswerRunes))
		}
		return fail("%v", err)
	}
	var out struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Scale   *float64 `json:"scale"`
	}
	if json.Unmarshal(res.Raw, &out) != nil || out.Status != "ok" {
		return fail("calibrate %s: %s answered %s", quote.ID(device), tool, deviceAnswer(res.Raw))
	}
	b.mu.Lock()
	if step == "tare" {
		b.tared[device] = now
	} else {
		delete(b.tared, device)
	}
	b.mu.Unlock()
	if step == "tare" {
		return ok("%s tared; put a known weight on it and call set_known_weight within 10 minutes", device)
	}
	scale := 0.0
	if out.Scale != nil {
		scale = *out.Scale
	}
	return ok("%s calibrated (scale %.4f)", device, scale)
}
