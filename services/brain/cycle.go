package brain

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/dashboard"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// actionRetention bounds the action history kept for the prompt.
const actionRetention = 2 * time.Hour

// chatter is the LLM as the loop uses it.
type chatter interface {
	Chat(ctx context.Context, messages []llm.Message, tools []llm.Tool) (llm.Message, error)
}

// brain runs cognitive cycles against the world model.
type brain struct {
	cfg     Config
	clock   clock.Clock
	log     *slog.Logger
	world   *worldmodel.Model
	llm     chatter
	dash    *dashboard.Client
	metrics *metrics

	mu      sync.Mutex
	actions []action
}

// action is one executed tool call, remembered for the prompt.
type action struct {
	at      time.Time
	tool    string
	summary string
	success bool
}

// loop waits for events or the periodic interval and runs cycles, keeping the
// configured spacing. A failed cycle is logged and retried on the next turn.
func (b *brain) loop(ctx context.Context) error {
	var lastCycle time.Time
	lastSeq := b.world.Seq()
	periodic := b.clock.NewTimer(b.cfg.CycleInterval)
	defer periodic.Stop()
	for {
		triggered := false
		select {
		case <-ctx.Done():
			return nil
		case <-b.world.Changed():
			triggered = b.world.Seq() != lastSeq
			if !triggered {
				continue
			}
		case <-periodic.C():
		}
		if triggered {
			if err := clock.Sleep(ctx, b.clock, b.cfg.BatchDelay); err != nil {
				return nil
			}
		}
		if !lastCycle.IsZero() {
			if wait := b.cfg.MinCycleSpacing - b.clock.Now().Sub(lastCycle); wait > 0 {
				if err := clock.Sleep(ctx, b.clock, wait); err != nil {
					return nil
				}
			}
		}
		lastSeq = b.world.Seq()
		if err := b.cycle(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			b.metrics.cycles.WithLabelValues("error").Inc()
			b.log.Warn("cycle failed", "err", err)
		} else {
			lastCycle = b.clock.Now()
		}
		periodic.Reset(b.cfg.CycleInterval)
	}
}

// cycle runs one ReAct episode: prompt, then up to MaxIterations rounds of
// tool calls, stopping at a plain answer or at the first failing tool.
func (b *brain) cycle(ctx context.Context) error {
	zones := b.world.Zones()
	if len(zones) == 0 {
		b.metrics.cycles.WithLabelValues("idle").Inc()
		return nil
	}
	now := b.clock.Now()
	events := b.world.EventsSince(now.Add(-b.cfg.EventWindow))
	tasks, tasksErr := b.dash.ListTasks(ctx, dashboard.TaskFilter{Status: "active", Limit: 10})
	if tasksErr != nil {
		b.log.Warn("active tasks unavailable for the prompt", "err", tasksErr)
	}
	messages := []llm.Message{
		{Role: llm.RoleSystem, Content: systemPrompt},
		{Role: llm.RoleUser, Content: llm.Content(buildPrompt(zones, events, tasks, tasksErr, b.recentActions(now), now))},
	}
	for i := 0; i < b.cfg.MaxIterations; i++ {
		start := time.Now()
		reply, err := b.llm.Chat(ctx, messages, toolSchemas)
		b.metrics.llmTime.Observe(time.Since(start).Seconds())
		if err != nil {
			return fmt.Errorf("iteration %d: %w", i+1, err)
		}
		if len(reply.ToolCalls) == 0 {
			b.metrics.cycles.WithLabelValues("ok").Inc()
			b.log.Debug("cycle done", "iterations", i+1, "answer", string(reply.Content))
			return nil
		}
		messages = append(messages, llm.Message{Role: llm.RoleAssistant, Content: reply.Content, ToolCalls: reply.ToolCalls})
		for _, call := range reply.ToolCalls {
			res := b.execute(ctx, call)
			b.remember(call, res)
			messages = append(messages, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: llm.Content(res.text())})
			if !res.Success {
				// One failure ends the cycle: the LLM would otherwise retry blindly.
				b.metrics.cycles.WithLabelValues("tool_error").Inc()
				b.log.Info("tool failed, ending cycle", "tool", call.Function.Name, "err", res.Error)
				return nil
			}
		}
	}
	b.metrics.cycles.WithLabelValues("max_iterations").Inc()
	return nil
}

func (b *brain) remember(call llm.ToolCall, res toolResult) {
	result := "ok"
	if !res.Success {
		result = "error"
	}
	b.metrics.toolCalls.WithLabelValues(call.Function.Name, result).Inc()
	summary := string(call.Function.Arguments)
	if args, err := call.Function.Arguments.Decode(); err == nil {
		if t, ok := args["title"].(string); ok {
			summary = "title=" + t
		} else if z, ok := args["zone_id"].(string); ok {
			summary = "zone=" + z
		}
	}
	if r := []rune(summary); len(r) > 50 {
		summary = string(r[:50])
	}
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.actions = append(b.actions, action{at: now, tool: call.Function.Name, summary: summary, success: res.Success})
	i := 0
	for i < len(b.actions) && now.Sub(b.actions[i].at) > actionRetention {
		i++
	}
	b.actions = b.actions[i:]
}

// recentActions returns the last 8 actions of the past 30 minutes.
func (b *brain) recentActions(now time.Time) []action {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []action
	for _, a := range b.actions {
		if now.Sub(a.at) <= 30*time.Minute {
			out = append(out, a)
		}
	}
	if len(out) > 8 {
		out = out[len(out)-8:]
	}
	return out
}
