package scenario

import (
	"context"
	"fmt"
	"net/http"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/mockllm"
)

// history is what a running office held before a run: none of it may satisfy
// or break the run's expectations, nor count as acknowledged during it.
type history struct {
	// lastTask is the highest task id before the run (ids only grow): a
	// task up to it — merged into, completed, or created at a simulated time
	// inside the run's window by an earlier run — is not the run's.
	lastTask int64
	voice    map[string]bool
	// ledger are wallet entries (user → ids) from before the run, of the
	// people who were registered already.
	ledger map[int64]map[int64]bool
}

func (h *history) existed(task int64) bool { return task <= h.lastTask }

// existed reports whether a task is from before the run.
func (o *observer) existed(task int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.before.existed(task)
}

// noteHistory notes what the office holds now, before the run: every task,
// the recent speech, the brain's events and the mock LLM's requests.
func (o *observer) noteHistory(ctx context.Context) error {
	tasks, err := backendapi.NewClient(o.backend, "").AllTasks(ctx, backendapi.TaskFilter{})
	if err != nil {
		return fmt.Errorf("listing the tasks from before the run: %w", err)
	}
	var voice []backendapi.VoiceEvent
	if err := o.getJSON(ctx, o.backend+"/voice-events/recent", &voice); err != nil {
		return fmt.Errorf("reading the speech from before the run: %w", err)
	}
	var events []brainEvent
	if err := o.getJSON(ctx, o.brain+"/world/events", &events); err != nil {
		return fmt.Errorf("reading the brain's events from before the run: %w", err)
	}
	var llm []mockllm.Recorded
	if err := o.getJSON(ctx, o.mock+"/control/requests?limit=1", &llm); err != nil {
		return fmt.Errorf("reading the LLM requests from before the run: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range tasks {
		o.before.lastTask = max(o.before.lastTask, t.ID)
	}
	for _, v := range voice {
		o.before.voice[voiceKey(v)] = true
	}
	for _, e := range events {
		o.events[e.Seq] = true // seen, not the run's
	}
	for _, r := range llm {
		o.llmSeq = max(o.llmSeq, r.Seq)
	}
	return nil
}

// noteLedger notes a returning person's wallet entries from before the run
// (none without a wallet: nothing was paid to them yet).
func (o *observer) noteLedger(ctx context.Context, user int64) error {
	h, err := o.walletClient().History(ctx, user, ledgerPage, 0)
	if httpx.IsStatus(err, http.StatusNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading user %d's wallet entries from before the run: %w", user, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	old := map[int64]bool{}
	for _, e := range h.Entries {
		old[e.ID] = true
	}
	o.before.ledger[user] = old
	return nil
}
