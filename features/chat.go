package features

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
)

func (o *office) registerChat(sc *godog.ScenarioContext) {
	sc.Step(`^the LLM answers tool results matching "([^"]+)" with "([^"]+)"$`, o.llmAnswersToolResults)
	sc.Step(`^within (\d+) simulated minutes the brain reads the "([^"]+)" of "([^"]+)" as about ([\d.]+)$`, o.brainReadsWithin)
	sc.Step(`^a person asks the brain "([^"]+)"$`, o.askBrain)
	sc.Step(`^the brain answers in a few sentences$`, o.brainAnswered)
	sc.Step(`^the brain's answer says the CO2 level is about (\d+) ppm$`, o.answerGivesCO2)
	sc.Step(`^the brain's answer names the task "([^"]+)"$`, o.answerNamesTask)
}

// llmAnswersToolResults puts a tool_result rule in front of the mock LLM's
// rules: the answer quotes what the brain's tool returned, as a real model's
// answer would, so it carries the state only the brain could have read.
func (o *office) llmAnswersToolResults(ctx context.Context, pattern, content string) error {
	rule := mockllm.Rule{Name: "scenario result: " + pattern, Match: pattern, Scope: mockllm.ScopeToolResult, Content: content}
	return o.call(ctx, http.MethodPost, o.sys.URL(harness.MockLLM)+"/control/rules", []mockllm.Rule{rule}, nil)
}

// about is the tolerance of "about": sensor noise and the room's own drift
// over a few simulated minutes stay well inside it.
const about = 0.05

func near(got, want float64) bool { return math.Abs(got-want) <= about*want }

// brainReadsWithin waits until the brain's world model holds a zone's channel
// near a value (GET /world/zones/{id}).
func (o *office) brainReadsWithin(ctx context.Context, minutes int, channel, zone string, want float64) error {
	last := "nothing"
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var z struct {
			Channels map[string]struct {
				Value float64 `json:"value"`
			} `json:"channels"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/world/zones/"+zone, nil, &z); err != nil {
			return false, nil // the zone appears with its first message
		}
		v, ok := z.Channels[channel]
		if ok {
			last = strconv.FormatFloat(v.Value, 'f', -1, 64)
		}
		return ok && near(v.Value, want), nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("the brain reads %s for the %s of %s, want about %g: %w", last, channel, zone, want, err)
	}
	return err
}

func (o *office) askBrain(ctx context.Context, question string) error {
	var out struct {
		Response string `json:"response"`
	}
	if err := o.call(ctx, http.MethodPost, o.sys.URL(harness.Brain)+"/chat", map[string]string{"user_message": question}, &out); err != nil {
		return err
	}
	o.answer = out.Response
	return nil
}

func (o *office) brainAnswered(context.Context) error {
	if n := len([]rune(strings.TrimSpace(o.answer))); n == 0 || n > 300 {
		return fmt.Errorf("answer of %d characters: %q", n, o.answer)
	}
	return nil
}

var ppm = regexp.MustCompile(`(\d+(?:\.\d+)?)\s*ppm`)

func (o *office) answerGivesCO2(_ context.Context, want int) error {
	for _, m := range ppm.FindAllStringSubmatch(o.answer, -1) {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil && near(v, float64(want)) {
			return nil
		}
	}
	return fmt.Errorf("the answer %q gives no CO2 level near %d ppm", o.answer, want)
}

func (o *office) answerNamesTask(_ context.Context, title string) error {
	if !strings.Contains(o.answer, title) {
		return fmt.Errorf("the answer %q does not name the task %q", o.answer, title)
	}
	return nil
}
