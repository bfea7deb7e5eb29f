package features

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
)

func (o *office) registerDevices(sc *godog.ScenarioContext) {
	sc.Step(`^the LLM answers prompts matching "([^"]+)" by calling "([^"]+)" with:$`, o.llmAnswersWith)
	sc.Step(`^the temperature in "([^"]+)" rises to ([\d.]+) °C$`, o.temperatureRisesTo)
	sc.Step(`^within (\d+) simulated minutes the device "([^"]+)" receives "([^"]+)"$`, o.deviceReceivesWithin)
	sc.Step(`^the device "([^"]+)" has received no command$`, o.deviceReceivedNothing)
	sc.Step(`^within (\d+) simulated minutes the air conditioning in "([^"]+)" is set to ([\d.]+) °C$`, o.hvacSetWithin)
	sc.Step(`^within (\d+) simulated minutes the LLM is told "([^"]+)"$`, o.llmToldWithin)
	sc.Step(`^within (\d+) simulated minutes the brain's decision log records a failed "([^"]+)" saying "([^"]+)"$`, o.decisionLogFailure)
}

// llmAnswersWith puts a rule in front of the mock LLM's current rules.
func (o *office) llmAnswersWith(ctx context.Context, pattern, tool string, args *godog.DocString) error {
	var arguments map[string]any
	if err := json.Unmarshal([]byte(args.Content), &arguments); err != nil {
		return fmt.Errorf("tool arguments are not a JSON object: %w", err)
	}
	var rules []mockllm.Rule
	base := o.sys.URL(harness.MockLLM) + "/control/rules"
	if err := o.call(ctx, http.MethodGet, base, nil, &rules); err != nil {
		return err
	}
	rule := mockllm.Rule{Name: "scenario: " + pattern, Match: pattern, Tool: tool, Arguments: arguments}
	return o.call(ctx, http.MethodPut, base, append([]mockllm.Rule{rule}, rules...), nil)
}

func (o *office) temperatureRisesTo(ctx context.Context, zone string, celsius float64) error {
	return o.patchZone(ctx, zone, map[string]any{"temperature": celsius})
}

func (o *office) deviceReceivesWithin(ctx context.Context, minutes int, agent, tool string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		for _, c := range o.mqtt.commands(agent) {
			if c.Params.Name == tool {
				return true, nil
			}
		}
		return false, nil
	})
}

func (o *office) deviceReceivedNothing(_ context.Context, agent string) error {
	if cs := o.mqtt.commands(agent); len(cs) > 0 {
		return fmt.Errorf("%s received %d command(s), first %q %v", agent, len(cs), cs[0].Params.Name, cs[0].Params.Arguments)
	}
	return nil
}

func (o *office) hvacSetWithin(ctx context.Context, minutes int, zone string, celsius float64) error {
	var last *float64
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var z struct {
			HVACSetpoint *float64 `json:"hvac_setpoint"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Edge)+"/zones/"+zone, nil, &z); err != nil {
			return false, err
		}
		last = z.HVACSetpoint
		return last != nil && math.Abs(*last-celsius) < 0.01, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("air conditioning set point in %s is %v, want %g: %w", zone, last, celsius, err)
	}
	return err
}

// llmToldWithin waits for a tool result (what the brain reports back to the
// LLM) containing text.
func (o *office) llmToldWithin(ctx context.Context, minutes int, text string) error {
	return o.llmSeesWithin(ctx, minutes, "tool", text)
}

// llmSeesWithin waits until a message with role (user: the prompt; tool: a
// tool result) that the mock LLM received contains text.
func (o *office) llmSeesWithin(ctx context.Context, minutes int, role, text string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var reqs []mockllm.Recorded
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.MockLLM)+"/control/requests", nil, &reqs); err != nil {
			return false, err
		}
		for _, r := range reqs {
			for _, m := range r.Request.Messages {
				if m.Role == role && strings.Contains(string(m.Content), text) {
					return true, nil
				}
			}
		}
		return false, nil
	})
}

func (o *office) decisionLogFailure(ctx context.Context, minutes int, tool, text string) error {
	return o.decisionLogHas(ctx, minutes, tool, false, text)
}

// decisionLogHas waits for a tool call with the given outcome in the brain's
// decision log (GET /decisions) whose result contains text.
func (o *office) decisionLogHas(ctx context.Context, minutes int, tool string, success bool, text string) error {
	var seen []string
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var ds []struct {
			ToolCalls []struct {
				Tool    string `json:"tool"`
				Success bool   `json:"success"`
				Result  string `json:"result"`
			} `json:"tool_calls"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/decisions?limit=100", nil, &ds); err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, d := range ds {
			for _, c := range d.ToolCalls {
				seen = append(seen, c.Tool+": "+c.Result)
				if c.Tool == tool && c.Success == success && strings.Contains(c.Result, text) {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("%w; decision log has %q", err, seen)
	}
	return err
}
