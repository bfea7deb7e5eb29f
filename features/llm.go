package features

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
)

func (o *office) registerLLM(sc *godog.ScenarioContext) {
	sc.Step(`^the LLM answers the brain with HTTP (\d+)$`, func(ctx context.Context, status int) error {
		return o.llmFaults(ctx, mockllm.Fault{Kind: mockllm.FaultError, Status: status, Scope: mockllm.FaultScopeTools})
	})
	sc.Step(`^the LLM never answers the brain$`, func(ctx context.Context) error {
		return o.llmFaults(ctx, mockllm.Fault{Kind: mockllm.FaultTimeout, Scope: mockllm.FaultScopeTools})
	})
	sc.Step(`^the LLM answers the brain with broken JSON$`, func(ctx context.Context) error {
		return o.llmFaults(ctx, mockllm.Fault{Kind: mockllm.FaultMalformed, Scope: mockllm.FaultScopeTools})
	})
	sc.Step(`^the LLM thinks aloud and writes its tool calls as text$`, func(ctx context.Context) error {
		return o.llmFaults(ctx,
			mockllm.Fault{Kind: mockllm.FaultThink, Scope: mockllm.FaultScopeTools},
			mockllm.Fault{Kind: mockllm.FaultTextToolCalls, Scope: mockllm.FaultScopeTools})
	})
	sc.Step(`^within (\d+) simulated minutes the brain's decision log shows a "([^"]+)" decision$`, o.decisionModeWithin)
}

func (o *office) llmFaults(ctx context.Context, faults ...mockllm.Fault) error {
	return o.call(ctx, http.MethodPut, o.sys.URL(harness.MockLLM)+"/control/faults", faults, nil)
}

func (o *office) decisionModeWithin(ctx context.Context, minutes int, mode string) error {
	var modes []string
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var ds []struct {
			Mode string `json:"mode"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/decisions?limit=100", nil, &ds); err != nil {
			return false, err
		}
		modes = modes[:0]
		for _, d := range ds {
			modes = append(modes, d.Mode)
			if d.Mode == mode {
				return true, nil
			}
		}
		return false, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("%w; decisions were %q", err, modes)
	}
	return err
}
