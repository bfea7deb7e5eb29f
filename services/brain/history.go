package brain

import (
	"net/http"
	"strconv"
	"time"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/services/brain/eventstore"
)

// The decision log as the dashboard backend serves it to the original's
// clients (/sensors/events, /sensors/llm-activity, /sensors/llm-timeline):
// the backend asks the brain, which owns schema events, over HTTP.

// intParam reads ?name= within [lo, hi] (def when absent); it answers 422 and
// reports false when the value is bad.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int) (int, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		httpx.Invalid(w, map[string]string{name: "must be an integer between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi)})
		return 0, false
	}
	return n, true
}

// storedEvents serves GET /events?zone=&limit=: the latest world-model
// events, newest first, from the decision log — or, without a database, from
// the world model's memory.
func (b *brain) storedEvents(w http.ResponseWriter, r *http.Request) {
	limit, ok := intParam(w, r, "limit", 50, 1, 200)
	if !ok {
		return
	}
	zone := r.URL.Query().Get("zone")
	if b.store == nil {
		mem := b.world.EventsSince(time.Time{})
		out := []eventstore.Event{}
		for i := len(mem) - 1; i >= 0 && len(out) < limit; i-- {
			e := mem[i]
			if zone != "" && e.Zone != zone {
				continue
			}
			data := e.Data
			if data == nil {
				data = map[string]any{}
			}
			out = append(out, eventstore.Event{At: e.At, Zone: e.Zone, Type: "world_model_" + e.Type, Data: data})
		}
		httpx.WriteJSON(w, http.StatusOK, out)
		return
	}
	evs, err := b.store.Events(r.Context(), zone, limit)
	if err != nil {
		httpx.Error(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	httpx.WriteJSON(w, http.StatusOK, evs)
}

// activity serves GET /decisions/activity?hours=: the decision cycles of the
// last hours of clock time, summed and per hour.
func (b *brain) activity(w http.ResponseWriter, r *http.Request) {
	hours, ok := intParam(w, r, "hours", 24, 1, 720)
	if !ok {
		return
	}
	a, err := b.store.Activity(r.Context(), b.clock.Now().Add(-time.Duration(hours)*time.Hour))
	if err != nil {
		httpx.Error(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Hours int `json:"hours"`
		eventstore.Activity
	}{hours, a})
}
