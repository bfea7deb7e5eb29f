package queue

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

var jst = time.FixedZone("JST", 9*3600)

type office map[string][2]any // zone → people, dominant

func (o office) Zone(id string) (bool, int, string) {
	z, ok := o[id]
	if !ok {
		return false, 0, ""
	}
	return true, z[0].(int), z[1].(string)
}

func TestDecide(t *testing.T) {
	day := time.Date(2026, 11, 23, 10, 0, 0, 0, jst)
	night := time.Date(2026, 11, 23, 23, 30, 0, 0, jst)
	o := office{"main": {3, "active"}, "empty": {0, ""}, "focus": {2, "focused"}}
	tests := []struct {
		name string
		e    Entry
		at   time.Time
		now  bool
	}{
		{"urgent always", Entry{Urgency: 4, Zone: "empty"}, night, true},
		{"no zone", Entry{Urgency: 1}, night, true},
		{"unknown zone", Entry{Urgency: 2, Zone: "attic"}, day, false},
		{"empty zone", Entry{Urgency: 3, Zone: "empty"}, day, false},
		{"focused, not interruptible", Entry{Urgency: 2, Zone: "focus"}, day, false},
		{"focused but interruptible", Entry{Urgency: 2, Zone: "focus", Interruptible: true}, day, true},
		{"night, low urgency", Entry{Urgency: 2, Zone: "main", Interruptible: true}, night, false},
		{"night, urgency 3", Entry{Urgency: 3, Zone: "main"}, night, true},
		{"day with people", Entry{Urgency: 1, Zone: "main", Interruptible: true}, day, true},
		{"07:00 is active", Entry{Urgency: 1, Zone: "main", Interruptible: true}, time.Date(2026, 11, 23, 7, 0, 0, 0, jst), true},
		{"06:59 is not", Entry{Urgency: 1, Zone: "main", Interruptible: true}, time.Date(2026, 11, 23, 6, 59, 0, 0, jst), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.e, o, tc.at, jst); got.Now != tc.now {
				t.Fatalf("Decide = %+v, want now=%v", got, tc.now)
			}
		})
	}
}

func TestProcess(t *testing.T) {
	c := clock.NewManual(time.Date(2026, 11, 23, 23, 0, 0, 0, jst))
	q := New(c, jst)
	o := office{"main": {0, ""}}
	q.Push(Entry{TaskID: 1, Zone: "main", Urgency: 1, Interruptible: true})
	q.Push(Entry{TaskID: 2, Zone: "main", Urgency: 2, Interruptible: true})
	var sent []int64
	dispatch := func(_ context.Context, e Entry) error { sent = append(sent, e.TaskID); return nil }
	if done, _ := q.Process(context.Background(), o, dispatch); len(done) != 0 {
		t.Fatalf("dispatched at night to an empty room: %v", done)
	}
	// Morning, people arrive: both go, higher urgency first.
	c.Advance(9 * time.Hour)
	o["main"] = [2]any{2, "active"}
	failOnce := true
	_, err := q.Process(context.Background(), o, func(ctx context.Context, e Entry) error {
		if e.TaskID == 1 && failOnce {
			failOnce = false
			return errors.New("backend down")
		}
		return dispatch(ctx, e)
	})
	if err == nil || !slices.Equal(sent, []int64{2}) || q.Len() != 1 {
		t.Fatalf("sent %v err %v len %d", sent, err, q.Len())
	}
	if _, err := q.Process(context.Background(), o, dispatch); err != nil || !slices.Equal(sent, []int64{2, 1}) || q.Len() != 0 {
		t.Fatalf("retry: sent %v err %v", sent, err)
	}
}

func TestForcedAfterADay(t *testing.T) {
	c := clock.NewManual(time.Date(2026, 11, 23, 10, 0, 0, 0, jst))
	q := New(c, jst)
	o := office{"store": {0, ""}}
	q.Push(Entry{TaskID: 7, Zone: "store", Urgency: 0})
	noop := func(context.Context, Entry) error { return nil }
	c.Advance(ForcedAfter - time.Minute)
	if done, _ := q.Process(context.Background(), o, noop); len(done) != 0 {
		t.Fatal("forced too early")
	}
	c.Advance(time.Minute)
	if done, _ := q.Process(context.Background(), o, noop); len(done) != 1 {
		t.Fatal("not forced after 24 h")
	}
}

func TestPriority(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, jst)
	e := Entry{Urgency: 2, queuedAt: now.Add(-3 * time.Hour), Deadline: now.Add(time.Hour)}
	if got := Priority(e, now); got != 2000+3+100 {
		t.Fatalf("priority = %v", got)
	}
	e.Deadline = now.Add(5 * time.Hour)
	if got := Priority(e, now); got != 2000+3+50 {
		t.Fatalf("priority = %v", got)
	}
}
