package edge

import (
	"github.com/somsgo/soms/internal/mcp"
)

// Every virtual device checks a tool call against its schema before acting,
// as the reference firmware does (it refuses unknown and missing arguments):
// a call the brain's sanitizer would never send — set_temperature -40 from
// someone holding a device credential — gets an error reply and changes
// nothing. The ranges are the hardware's, wider than the brain's policy
// (18–28 °C).

// HVACMin and HVACMax are what the virtual air conditioner can be set to, °C.
const HVACMin, HVACMax = 16.0, 30.0

var (
	noArgs    = func(name string) mcp.Tool { return mcp.Tool{Name: name} }
	getStatus = noArgs("get_status")
)

func between(lo, hi float64) (*float64, *float64) { return mcp.Range(lo, hi) }

// leafTools are a swarm leaf's commands (SensorSwarm command ids 1-6 and
// their wire widths) and get_status, as called on mcp/{hub}.{leaf}/... or
// through the hub's leaf_command.
var leafTools = func() mcp.Toolset {
	duty, dutyMax := between(0, 65535)
	secs, secsMax := between(1, 65535)
	ms, msMax := between(1, 4294967295)
	return mcp.Toolset{
		getStatus,
		{Name: "set_state", Params: []mcp.Param{{Name: "state", Type: mcp.OnOff, Required: true}}},
		{Name: "set_pwm", Params: []mcp.Param{{Name: "duty", Type: mcp.Integer, Required: true, Min: duty, Max: dutyMax}}},
		noArgs("read_now"),
		{Name: "set_interval", Params: []mcp.Param{{Name: "seconds", Type: mcp.Integer, Min: secs, Max: secsMax}}},
		{Name: "deep_sleep", Params: []mcp.Param{{Name: "wake_after_ms", Type: mcp.Integer, Min: ms, Max: msMax}}},
		noArgs("reset"),
	}
}()

// toolsets are each device kind's tools.
var toolsets = func() map[DeviceKind]mcp.Toolset {
	tempLo, tempHi := between(HVACMin, HVACMax)
	leafLo, leafHi := between(0, 255)
	readLo, readHi := between(1, 100)
	gramsLo, gramsHi := between(1, 50000)
	mlLo, mlHi := between(0, 50)
	commands := []string{}
	for _, t := range leafTools {
		if t.Name != "get_status" {
			commands = append(commands, t.Name)
		}
	}
	return map[DeviceKind]mcp.Toolset{
		KindEnv:      {getStatus},
		KindPresence: {getStatus},
		KindWindow:   {getStatus, noArgs("open"), noArgs("close")},
		KindLight:    {getStatus, noArgs("turn_on"), noArgs("turn_off")},
		KindHVAC: {getStatus, noArgs("turn_off"),
			{Name: "set_temperature", Params: []mcp.Param{{Name: "temperature", Type: mcp.Number, Required: true, Min: tempLo, Max: tempHi}}}},
		KindSwarmHub: {getStatus, noArgs("get_swarm_status"),
			{Name: "leaf_command", Params: []mcp.Param{
				{Name: "leaf_id", Type: mcp.IntegerOrString, Required: true, Min: leafLo, Max: leafHi},
				{Name: "command", Type: mcp.String, Required: true, Enum: commands},
				{Name: "args", Type: mcp.Object},
			}}},
		KindShelf: {getStatus,
			{Name: "tare", Params: []mcp.Param{{Name: "readings", Type: mcp.Integer, Min: readLo, Max: readHi}}},
			{Name: "calibrate", Params: []mcp.Param{
				{Name: "known_weight_g", Type: mcp.Number, Required: true, Min: gramsLo, Max: gramsHi},
				{Name: "readings", Type: mcp.Integer, Min: readLo, Max: readHi},
			}}},
		KindHydro: {getStatus, {Name: "dose_ph_down", Params: []mcp.Param{{Name: "amount_ml", Type: mcp.Number, Required: true, Min: mlLo, Max: mlHi}}}},
		KindAqua:  {getStatus, noArgs("feed_fish"), {Name: "set_lights", Params: []mcp.Param{{Name: "state", Type: mcp.OnOff, Required: true}}}},
	}
}()

// checkLeafCommand validates a leaf_command's own arguments against the
// command's schema.
func checkLeafCommand(cmd string, args map[string]any) error {
	return leafTools.Check(cmd, args)
}
