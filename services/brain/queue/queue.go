// Package queue decides whether a new task is handed to people now or held
// back (nobody there, night time), and releases held tasks by priority when
// their moment comes. Unlike the original, a held task is created queued in
// the backend, so the dashboard shows it as waiting and PUT /tasks/{id}/dispatch
// really releases it.
package queue

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// Dispatch rules (docs/brain.md, "Devices, tasks, people": held tasks).
const (
	ForcedAfter   = 24 * time.Hour
	ActiveFrom    = 7  // local hour
	ActiveUntil   = 22 // local hour (inclusive)
	urgentNow     = 4
	importantNow  = 3
	defaultPeople = 1
)

// Entry is a task the queue knows about.
type Entry struct {
	TaskID        int64
	Title         string
	Zone          string
	Urgency       int
	MinPeople     int
	Interruptible bool
	CreatedAt     time.Time
	Deadline      time.Time // zero when none
	queuedAt      time.Time
	index         int
}

// Office is what the decision needs to know about the zones.
type Office interface {
	// Zone reports whether the zone exists, its people and its dominant
	// activity ("focused", "active", ...; "" when unknown).
	Zone(id string) (exists bool, people int, dominant string)
}

// Decision says whether to dispatch and why.
type Decision struct {
	Now    bool
	Reason string
}

// Decide applies the dispatch rules in order.
func Decide(e Entry, o Office, now time.Time, loc *time.Location) Decision {
	if e.MinPeople < 1 {
		e.MinPeople = defaultPeople
	}
	if e.Urgency >= urgentNow {
		return Decision{true, "urgent"}
	}
	if e.Zone == "" {
		return Decision{true, "no zone"}
	}
	exists, people, dominant := o.Zone(e.Zone)
	if !exists {
		return Decision{false, "unknown zone"}
	}
	if people < e.MinPeople {
		return Decision{false, "not enough people"}
	}
	if !e.Interruptible && e.Urgency < importantNow && dominant == "focused" {
		return Decision{false, "people are focused"}
	}
	if h := now.In(loc).Hour(); (h < ActiveFrom || h > ActiveUntil) && e.Urgency < importantNow {
		return Decision{false, "outside active hours"}
	}
	if e.Urgency >= importantNow {
		return Decision{true, "important"}
	}
	if people > 0 {
		return Decision{true, "people present"}
	}
	return Decision{false, "nobody present"}
}

// Priority orders held tasks: urgency first, then waiting time, then a close
// deadline.
func Priority(e Entry, now time.Time) float64 {
	p := float64(e.Urgency)*1000 + now.Sub(e.queuedAt).Hours()
	if !e.Deadline.IsZero() {
		switch left := e.Deadline.Sub(now); {
		case left < 2*time.Hour:
			p += 100
		case left < 6*time.Hour:
			p += 50
		}
	}
	return p
}

// Queue holds tasks waiting for dispatch. Safe for concurrent use.
type Queue struct {
	clock clock.Clock
	loc   *time.Location

	mu      sync.Mutex
	entries entryHeap
}

// New returns an empty queue; loc is the office's time zone (active hours).
func New(c clock.Clock, loc *time.Location) *Queue {
	if loc == nil {
		loc = time.Local
	}
	return &Queue{clock: c, loc: loc}
}

// Decide is Decide at the queue's clock and time zone.
func (q *Queue) Decide(e Entry, o Office) Decision { return Decide(e, o, q.clock.Now(), q.loc) }

// Push holds a task.
func (q *Queue) Push(e Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e.queuedAt = q.clock.Now()
	q.entries.now = e.queuedAt
	heap.Push(&q.entries, &e)
}

// Len is the number of held tasks.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries.items)
}

// Process re-evaluates every held task in priority order and dispatches those
// whose moment has come (or that waited ForcedAfter). A failed dispatch keeps
// the task for the next round. It returns the dispatched entries.
func (q *Queue) Process(ctx context.Context, o Office, dispatch func(context.Context, Entry) error) ([]Entry, error) {
	q.mu.Lock()
	now := q.clock.Now()
	q.entries.now = now
	heap.Init(&q.entries)
	var order []*Entry
	for len(q.entries.items) > 0 {
		order = append(order, heap.Pop(&q.entries).(*Entry))
	}
	q.mu.Unlock()

	var done []Entry
	var keep []*Entry
	var firstErr error
	for _, e := range order {
		forced := now.Sub(e.queuedAt) >= ForcedAfter
		if !forced && !Decide(*e, o, now, q.loc).Now {
			keep = append(keep, e)
			continue
		}
		if err := dispatch(ctx, *e); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			keep = append(keep, e)
			continue
		}
		done = append(done, *e)
	}
	q.mu.Lock()
	for _, e := range keep {
		heap.Push(&q.entries, e)
	}
	q.mu.Unlock()
	return done, firstErr
}

// entryHeap is a max-heap by Priority at time now.
type entryHeap struct {
	items []*Entry
	now   time.Time
}

func (h entryHeap) Len() int { return len(h.items) }
func (h entryHeap) Less(i, j int) bool {
	return Priority(*h.items[i], h.now) > Priority(*h.items[j], h.now)
}
func (h entryHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index, h.items[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*Entry)
	e.index = len(h.items)
	h.items = append(h.items, e)
}
func (h *entryHeap) Pop() any {
	old := h.items
	e := old[len(old)-1]
	h.items = old[:len(old)-1]
	return e
}
