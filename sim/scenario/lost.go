package scenario

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/wallet"
)

// Lost is what nothing_lost expectations are evaluated on: what the system
// acknowledged during the run, and what of it was missing at the end.
type Lost struct {
	// Tasks the backend listed, Completed the completions it accepted,
	// Ledger the wallet entries it showed for the scenario's people.
	Tasks, Completed, Ledger int
	// Missing says what was acknowledged and is gone, one line each.
	Missing []string
	// Err says why the end state could not be read (empty: it could).
	Err string
}

// ledgerPage is the wallet's largest history page (services/wallet.MaxPage):
// a scenario's people have fewer entries.
const ledgerPage = 200

// ack is what the observer saw acknowledged, for nothing_lost.
type ack struct {
	completed map[int64]bool
	users     []int64
	ledger    map[int64]map[int64]bool // user → entry IDs
	lost      Lost
}

// completed notes a completion the backend accepted.
func (o *observer) completed(id int64) {
	o.mu.Lock()
	o.ack.completed[id] = true
	o.mu.Unlock()
}

// watchLedger adds a user whose wallet entries are watched.
func (o *observer) watchLedger(user int64) {
	o.mu.Lock()
	if !slices.Contains(o.ack.users, user) {
		o.ack.users = append(o.ack.users, user)
	}
	o.mu.Unlock()
}

func (o *observer) walletClient() *wallet.Client {
	return wallet.NewClient(o.walletURL, o.walletToken, &http.Client{Timeout: 5 * time.Second})
}

// pollLedger records the wallet entries of the watched users.
func (o *observer) pollLedger(ctx context.Context) {
	o.mu.Lock()
	users := slices.Clone(o.ack.users)
	o.mu.Unlock()
	for _, u := range users {
		h, err := o.walletClient().History(ctx, u, ledgerPage, 0)
		if err != nil {
			continue
		}
		o.mu.Lock()
		seen := o.ack.ledger[u]
		if seen == nil {
			seen = map[int64]bool{}
			o.ack.ledger[u] = seen
		}
		for _, e := range h.Entries {
			if !o.before.ledger[u][e.ID] {
				seen[e.ID] = true
			}
		}
		o.mu.Unlock()
	}
}

// checkLost reads, after the run, everything acknowledged during it and
// notes what is missing.
func (o *observer) checkLost() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o.pollLedger(ctx) // what the last poll did not see was acknowledged too
	o.mu.Lock()
	tasks := make([]int64, 0, len(o.tasks))
	for id := range o.tasks {
		tasks = append(tasks, id)
	}
	done := maps.Clone(o.ack.completed)
	ledger := map[int64][]int64{}
	for u, ids := range o.ack.ledger {
		for id := range ids {
			ledger[u] = append(ledger[u], id)
		}
	}
	o.mu.Unlock()
	slices.Sort(tasks)

	l := Lost{Tasks: len(tasks), Completed: len(done)}
	dash := backendapi.NewClient(o.backend, "")
	for _, id := range tasks {
		t, err := dash.GetTask(ctx, id)
		switch {
		case httpx.IsStatus(err, http.StatusNotFound):
			l.Missing = append(l.Missing, fmt.Sprintf("task #%d is gone", id))
		case err != nil:
			l.Err = fmt.Sprintf("reading task #%d: %v", id, err)
		case done[id] && !t.IsCompleted:
			l.Missing = append(l.Missing, fmt.Sprintf("task #%d's completion is gone", id))
		}
	}
	for u, ids := range ledger {
		l.Ledger += len(ids)
		h, err := o.walletClient().History(ctx, u, ledgerPage, 0)
		if err != nil {
			l.Err = fmt.Sprintf("reading user %d's wallet history: %v", u, err)
			continue
		}
		have := map[int64]bool{}
		for _, e := range h.Entries {
			have[e.ID] = true
		}
		for _, id := range ids {
			if !have[id] {
				l.Missing = append(l.Missing, "wallet entry "+strconv.FormatInt(id, 10)+" of user "+strconv.FormatInt(u, 10)+" is gone")
			}
		}
	}
	slices.Sort(l.Missing)
	o.mu.Lock()
	o.ack.lost = l
	o.mu.Unlock()
}

func evalLost(r *Result, e Expectation, o *Observations) {
	l := o.Lost
	want := max(e.Lost.AtLeast, 1)
	acked := fmt.Sprintf("%d tasks, %d completions, %d wallet entries acknowledged", l.Tasks, l.Completed, l.Ledger)
	switch {
	case l.Err != "":
		r.Message = "the end state could not be read: " + l.Err + " (" + acked + ")"
	case len(l.Missing) > 0:
		r.Message = fmt.Sprintf("%s; lost: %v", acked, l.Missing)
	case l.Tasks < want:
		r.Message = fmt.Sprintf("%s; want at least %d tasks for the check to mean something", acked, want)
	default:
		r.Passed, r.Message = true, acked+"; all still there"
	}
}
