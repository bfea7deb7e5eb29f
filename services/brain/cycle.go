package brain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/services/brain/eventstore"
	"github.com/somsgo/soms/services/brain/queue"
	"github.com/somsgo/soms/services/brain/rules"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// Decision modes recorded in the decision log.
const (
	modeLLM          = "llm"
	modeRuleFallback = "rule_fallback"
	modeRuleInactive = "rule_inactive"
)

// triggerWindow and triggerCap select the events recorded as a decision's
// triggers.
const (
	triggerWindow = 60 * time.Second
	triggerCap    = 20
)

// loop waits for events or the periodic interval and runs cycles, keeping the
// mode's spacing. A failed cycle is logged and retried on the next turn: the
// loop never dies.
func (b *brain) loop(ctx context.Context) error {
	lastSeq := b.world.Seq()
	interval, spacing := b.cadence()
	// A work timer: on a stepped clock its tick holds the clock until the
	// cycle's own hold has taken over (the mock LLM answers within the
	// hold's lease; a real one's wait outlives it and the clock goes on).
	periodic := clock.NewWorkTimer(b.clock, interval)
	defer periodic.Stop()
	for {
		// Events that came during the last cycle trigger the next one at
		// once (the wait on the LLM reads the change signal itself).
		triggered := b.world.Seq() != lastSeq
		ticked := false
		if !triggered {
			b.idle.Store(true)
			// An event that came before idle was set did not hold the clock.
			triggered = b.world.Seq() != lastSeq
		}
		if !triggered {
			select {
			case <-ctx.Done():
				return nil
			case <-b.world.Changed():
				triggered = b.world.Seq() != lastSeq
				if !triggered {
					b.unseen.Release()
					continue
				}
			case <-periodic.C():
				ticked = true
			}
		}
		b.idle.Store(false)
		if !triggered {
			b.unseen.Release() // a tick, not an event, woke the loop
		}
		work := clock.NewHold(b.clock)
		wctx := clock.WithHold(ctx, work)
		if ticked {
			// The cycle's hold takes over from the tick's, and is released
			// where the cycle waits (on a device's answer, on the clock).
			// Kept to the end, the tick's hold stopped the clock under every
			// wait for a device, until its lease ran out (1 s of wall time):
			// the answer, and everything after it, came a step early or late
			// depending on the machine's load.
			periodic.Done()
		}
		if triggered {
			// From the event's time, not from when this loop got to it.
			b.evMu.Lock()
			at := b.eventAt
			b.evMu.Unlock()
			wait := at.Add(b.cfg.BatchDelay).Sub(b.clock.Now())
			b.unseen.Release()
			if err := clock.Sleep(wctx, b.clock, max(wait, 0)); err != nil {
				work.Release()
				return nil
			}
		}
		b.mu.Lock()
		last := b.lastCycle
		b.mu.Unlock()
		if !last.IsZero() {
			if wait := spacing - b.clock.Now().Sub(last); wait > 0 {
				if err := clock.Sleep(wctx, b.clock, wait); err != nil {
					work.Release()
					return nil
				}
			}
		}
		lastSeq = b.world.Seq()
		b.unseen.Release()
		if err := b.cycle(wctx); err != nil {
			if ctx.Err() != nil {
				work.Release()
				return nil
			}
			b.log.Warn("cycle failed", "err", err)
		} else {
			b.mu.Lock()
			b.lastCycle = b.clock.Now()
			b.mu.Unlock()
		}
		interval, spacing = b.cadence()
		periodic.Reset(interval)
		work.Release()
	}
}

// cadence is the cycle interval and spacing of the current activity mode.
func (b *brain) cadence() (interval, spacing time.Duration) {
	if b.mode.Inactive() {
		return b.cfg.InactiveInterval, b.cfg.InactiveSpacing
	}
	return b.cfg.CycleInterval, b.cfg.MinCycleSpacing
}

// cycle runs one decision cycle: the critical rules first, whatever else
// happens; then mode selection and either the rule engine (inactive office)
// or a ReAct episode with the LLM — bounded by the cycle deadline in clock
// time, through the circuit breaker — falling back to the rule engine when
// the LLM fails. It returns an error only when the LLM failed (the fallback
// still ran); a cycle the open breaker gave to the rules is no failure.
func (b *brain) cycle(ctx context.Context) error {
	start := b.clock.Now()
	wallStart := time.Now()
	zones := b.world.Zones()
	if len(zones) == 0 {
		b.metrics.cycles.WithLabelValues("idle").Inc()
		return nil
	}
	recent := b.world.EventsSince(start.Add(-b.cfg.EventWindow))
	dec := eventstore.Decision{At: start, Mode: modeLLM, Triggers: triggers(recent, start)}
	defer func() {
		dec.Duration = float64(time.Since(wallStart).Milliseconds())
		if dec.Iterations > 0 || len(dec.ToolCalls) > 0 {
			if err := b.store.RecordDecision(context.WithoutCancel(ctx), dec); err != nil {
				b.log.Warn("decision not logged", "err", err)
			}
		}
		b.boostUtility(start)
	}()

	// Safety first: before and regardless of the LLM, the mode or any task.
	b.safetyPass(ctx, &dec)

	inactive, changed := b.mode.Evaluate(zones)
	if changed {
		b.log.Info("activity mode changed", "inactive", inactive)
	}
	if inactive {
		normal := b.rules.Normal(zones)
		if len(normal) == 0 || !b.mode.Escalate() {
			for _, a := range normal {
				dec.ToolCalls = append(dec.ToolCalls, b.runRule(ctx, a, start))
			}
			dec.Mode, dec.Outcome = modeRuleInactive, "rules"
			b.metrics.cycles.WithLabelValues("inactive").Inc()
			return nil
		}
		b.log.Info("inactive mode: escalating out-of-band conditions to the LLM")
	}

	b.processQueue(ctx)
	llmCtx, cancel := clock.WithTimeout(ctx, b.clock, b.cfg.CycleDeadline)
	defer cancel()
	outcome, err := b.react(ctx, llmCtx, zones, recent, start, &dec)
	dec.Outcome = outcome
	b.metrics.cycles.WithLabelValues(outcome).Inc()
	if err == nil {
		return nil
	}
	// The original simply gave up when the LLM failed; the office must not
	// depend on it, so the deterministic rules act instead, on the state
	// after the wait.
	dec.Mode, dec.Error = modeRuleFallback, err.Error()
	b.metrics.fallbacks.Inc()
	b.safetyPass(ctx, &dec)
	actions := b.rules.Normal(b.world.Zones())
	for _, a := range actions {
		dec.ToolCalls = append(dec.ToolCalls, b.runRule(ctx, a, start))
	}
	if errors.Is(err, errLLMOpen) {
		b.log.Debug("LLM breaker open; rule engine decides this cycle", "rule_actions", len(actions))
		return nil
	}
	b.log.Warn("LLM unavailable; rule engine decides this cycle", "err", err, "rule_actions", len(actions))
	return fmt.Errorf("llm: %w", err)
}

// safetyPass runs the critical rules on the current state and acts on what
// they find (docs/brain.md, "Safety first"). The rules look back to their
// previous run, so nothing ages out between two passes.
func (b *brain) safetyPass(ctx context.Context, dec *eventstore.Decision) {
	events := b.world.EventsSince(b.rules.Since())
	for _, a := range b.rules.Critical(b.world.Zones(), events) {
		dec.ToolCalls = append(dec.ToolCalls, b.runCritical(ctx, a))
	}
}

// react is the ReAct episode: up to MaxIterations rounds of LLM + tools,
// stopping at a plain answer, when every proposed call is filtered, or at the
// first failing tool. LLM calls run under llmCtx (the cycle deadline), tools
// under ctx with their own timeouts: a tool that started is not cut off.
func (b *brain) react(ctx, llmCtx context.Context, zones []worldmodel.Snapshot, recent []worldmodel.Event, now time.Time, dec *eventstore.Decision) (string, error) {
	tasks, tasksErr := b.activeTasks(ctx)
	if tasksErr != nil {
		b.log.Warn("active tasks unavailable for the prompt", "err", tasksErr)
	}
	feedback := b.world.EventsSince(now.Add(-b.cfg.FeedbackWindow))
	messages := []llm.Message{
		{Role: llm.RoleSystem, Content: systemPrompt},
		{Role: llm.RoleUser, Content: llm.Content(buildPrompt(promptInput{
			zones: zones, events: recent, feedback: feedback, tasks: tasks, tasksErr: tasksErr,
			actions: b.recentActions(now), devices: b.registry.Summary(), now: now, loc: b.loc,
		}))},
	}
	g := newCycleGuard(tasks, now)
	for i := 0; i < b.cfg.MaxIterations; i++ {
		dec.Iterations = i + 1
		reply, err := b.think(ctx, llmCtx, messages, dec)
		if err != nil {
			switch {
			case errors.Is(err, errLLMOpen):
				return "llm_open", err
			case errors.Is(llmCtx.Err(), context.DeadlineExceeded):
				return "deadline", fmt.Errorf("iteration %d: cycle deadline of %v passed waiting for the LLM: %w", i+1, b.cfg.CycleDeadline, err)
			}
			return "llm_error", fmt.Errorf("iteration %d: %w", i+1, err)
		}
		if len(reply.ToolCalls) == 0 {
			b.log.Debug("cycle done", "iterations", i+1, "answer", string(reply.Content))
			return "ok", nil
		}
		var kept []llm.ToolCall
		var kargs []map[string]any
		for _, call := range reply.ToolCalls {
			args, err := call.Function.Arguments.Decode()
			if err != nil {
				args = map[string]any{} // the original decoded bad JSON as {}
			}
			if why := b.check(g, call.Function.Name, args); why != "" {
				b.metrics.guarded.WithLabelValues(call.Function.Name).Inc()
				b.log.Info("tool call skipped", "tool", call.Function.Name, "reason", why)
				continue
			}
			kept = append(kept, call)
			kargs = append(kargs, args)
		}
		if len(kept) == 0 {
			return "all_filtered", nil
		}
		messages = append(messages, llm.Message{Role: llm.RoleAssistant, Content: reply.Content, ToolCalls: kept})
		for j, call := range kept {
			g.accept(call.Function.Name, kargs[j])
			res := b.execute(ctx, call)
			dec.ToolCalls = append(dec.ToolCalls, b.record(call.Function.Name, kargs[j], res))
			messages = append(messages, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: llm.Content(res.text())})
			if !res.Success {
				// One failure ends the cycle: the LLM would otherwise retry blindly.
				b.log.Info("tool failed, ending cycle", "tool", call.Function.Name, "err", res.Error)
				return "tool_error", nil
			}
		}
	}
	return "max_iterations", nil
}

// think asks the LLM (under llmCtx) while keeping the office safe: until the
// answer comes, every new event and every cycle interval run the critical
// rules, so a slow or hung LLM never delays a fall's task. The wait does not
// hold the clock: time, ingest and the safety rules go on.
func (b *brain) think(ctx, llmCtx context.Context, messages []llm.Message, dec *eventstore.Decision) (llm.Message, error) {
	type answer struct {
		msg llm.Message
		err error
	}
	done := make(chan answer, 1)
	go func() {
		m, err := b.askLLM(llmCtx, messages, toolSchemas)
		done <- answer{m, err}
	}()
	tick := b.clock.NewTicker(b.cfg.CycleInterval)
	defer tick.Stop()
	for {
		select {
		case a := <-done:
			return a.msg, a.err
		case <-b.world.Changed():
			b.safetyPass(ctx, dec)
		case <-tick.C():
			b.safetyPass(ctx, dec)
		}
	}
}

// askLLM is every LLM call of the brain: through the circuit breaker, timed.
// A call whose caller went away (shutdown, a chat client) says nothing about
// the LLM; one cut by a deadline counts as a failure.
func (b *brain) askLLM(ctx context.Context, messages []llm.Message, tools []llm.Tool) (llm.Message, error) {
	if !b.breaker.Allow() {
		return llm.Message{}, errLLMOpen
	}
	start := time.Now()
	reply, err := b.llm.Chat(ctx, messages, tools)
	b.metrics.llmTime.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		b.breaker.Success()
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		b.breaker.Abandon()
	default:
		b.breaker.Failure(err)
	}
	return reply, err
}

// runRule executes a rule-engine action through the same guards, sanitizer and
// executor as the LLM's calls; since is the cycle's start.
func (b *brain) runRule(ctx context.Context, a rules.Action, since time.Time) eventstore.ToolCall {
	g := newCycleGuard(nil, since)
	if tasks, err := b.activeTasks(ctx); err == nil {
		g.active = tasks
	}
	if why := b.check(g, "create_task", a.Args); why != "" {
		b.log.Info("rule action skipped", "rule", a.Rule, "zone", a.Zone, "reason", why)
		return eventstore.ToolCall{Tool: "create_task", Args: a.Args, Result: "skipped: " + why}
	}
	res := b.run(ctx, "create_task", a.Args)
	b.metrics.ruleActions.WithLabelValues(a.Rule, fmt.Sprint(res.Success)).Inc()
	b.log.Info("rule engine acted", "rule", a.Rule, "zone", a.Zone, "success", res.Success, "result", res.Result+res.Error)
	return b.record("create_task", a.Args, res)
}

// runCritical executes a critical rule's task. No duplicate guard, alert in
// progress or hourly task limit holds it back. An open fall or leak task in
// the zone is announced again instead of doubled; a CO2 or temperature task
// goes to the backend, which merges it into an open task of the same zone and
// category (raising its urgency) — announced again either way.
func (b *brain) runCritical(ctx context.Context, a rules.Action) eventstore.ToolCall {
	tasks, err := b.activeTasks(ctx)
	if err != nil {
		b.log.Warn("active tasks unavailable; creating the safety task anyway", "rule", a.Rule, "zone", a.Zone, "err", err)
	}
	if t := openSafetyTask(tasks, a); t != nil {
		args := map[string]any{"task_id": float64(t.ID), "zone": a.Zone}
		res := ok("open task #%d announced again", t.ID)
		if err := b.remindOne(ctx, *t); err != nil {
			res = fail("announcing open task #%d again: %v", t.ID, err)
		}
		b.metrics.ruleActions.WithLabelValues(a.Rule, fmt.Sprint(res.Success)).Inc()
		b.log.Info("critical rule: open task announced again", "rule", a.Rule, "zone", a.Zone, "task", t.ID, "success", res.Success)
		return b.record("announce_task", args, res)
	}
	res := b.createSafetyTask(ctx, a.Args)
	b.metrics.ruleActions.WithLabelValues(a.Rule, fmt.Sprint(res.Success)).Inc()
	b.log.Info("critical rule acted", "rule", a.Rule, "zone", a.Zone, "success", res.Success, "result", res.Result+res.Error)
	return b.record("create_task", a.Args, res)
}

// openSafetyTask is the open (dispatched) task of a fall or leak action's
// kind in its zone, or nil.
func openSafetyTask(tasks []backendapi.Task, a rules.Action) *backendapi.Task {
	if a.Kind != rules.KindFall && a.Kind != rules.KindWaterLeak {
		return nil
	}
	for i, t := range tasks {
		if deref(t.Zone) == a.Zone && !t.IsQueued && slices.Contains(taskKinds(t.Title, t.Description), a.Kind) {
			return &tasks[i]
		}
	}
	return nil
}

// record remembers an executed call for the prompt, the guards and the
// decision log.
func (b *brain) record(tool string, args map[string]any, res toolResult) eventstore.ToolCall {
	result := "ok"
	if !res.Success {
		result = "error"
	}
	b.metrics.toolCalls.WithLabelValues(tool, result).Inc()
	zone := str(args["zone"])
	if zone == "" {
		zone = str(args["zone_id"])
	}
	b.remember(action{at: b.clock.Now(), tool: tool, summary: summarize(tool, args), zone: zone, success: res.Success, args: args, result: res.Result + res.Error})
	return eventstore.ToolCall{Tool: tool, Args: args, Success: res.Success, Result: res.Result + res.Error}
}

// boostUtility raises the utility of devices in zones the cycle acted on.
func (b *brain) boostUtility(since time.Time) {
	for _, a := range b.actionsSince(since) {
		if !a.success || a.zone == "" {
			continue
		}
		if a.tool == "create_task" {
			b.registry.Boost(a.zone, 0.5)
		} else {
			b.registry.Boost(a.zone, 0.3)
		}
	}
}

// processQueue releases held tasks whose moment has come.
func (b *brain) processQueue(ctx context.Context) {
	if b.queue.Len() == 0 {
		return
	}
	done, err := b.queue.Process(ctx, officeView{b.world}, func(ctx context.Context, e queue.Entry) error {
		ctx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
		defer cancel()
		err := b.dash.Dispatch(ctx, e.TaskID)
		var ae *backendapi.APIError
		if errors.As(err, &ae) && ae.Status == 404 {
			return nil // gone (expired or deleted): nothing left to release
		}
		return err
	})
	for _, e := range done {
		b.log.Info("queued task dispatched", "id", e.TaskID, "title", e.Title, "zone", e.Zone)
	}
	if err != nil {
		b.log.Warn("dispatching queued tasks", "err", err)
	}
}

// triggers are the events of the last minute, at most 20, recorded with a
// decision.
func triggers(events []worldmodel.Event, now time.Time) []eventstore.Trigger {
	var out []eventstore.Trigger
	for _, e := range events {
		if now.Sub(e.At) <= triggerWindow {
			out = append(out, eventstore.Trigger{Zone: e.Zone, Event: e.Type, Severity: e.Severity})
		}
	}
	if len(out) > triggerCap {
		out = out[len(out)-triggerCap:]
	}
	return out
}

// officeView adapts the world model to the queue's view of the office.
type officeView struct{ w *worldmodel.Model }

func (o officeView) Zone(id string) (bool, int, string) {
	z, ok := o.w.Zone(id)
	if !ok {
		return false, 0, ""
	}
	dominant := ""
	if z.Activity.Class == "focused" {
		dominant = "focused"
	}
	return true, z.PersonCount, dominant
}
