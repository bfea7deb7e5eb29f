package backend

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/httpx"
)

// The original backend read the brain's event store (schema events) for its
// event feed and LLM activity. Here the brain owns that schema alone: the
// backend asks the brain's HTTP API (BRAIN_CHAT_URL) and answers in the
// original's shapes (docs/compatibility.md).

// brainTimeout bounds one request to the brain.
const brainTimeout = 10 * time.Second

// FeedEvent is one item of GET /sensors/events.
type FeedEvent struct {
	Timestamp    time.Time      `json:"timestamp"`
	Zone         string         `json:"zone"`
	EventType    string         `json:"event_type"`
	SourceDevice *string        `json:"source_device"`
	Data         map[string]any `json:"data"`
}

// LLMActivity is GET /sensors/llm-activity.
type LLMActivity struct {
	Cycles         int     `json:"cycles"`
	TotalToolCalls int     `json:"total_tool_calls"`
	AvgDurationSec float64 `json:"avg_duration_sec"`
	Hours          int     `json:"hours"`
}

// LLMHour is one point of GET /sensors/llm-timeline.
type LLMHour struct {
	Timestamp      time.Time `json:"timestamp"`
	Cycles         int       `json:"cycles"`
	ToolCalls      int       `json:"tool_calls"`
	AvgDurationSec float64   `json:"avg_duration_sec"`
}

// LLMTimeline is GET /sensors/llm-timeline.
type LLMTimeline struct {
	Hours  int       `json:"hours"`
	Points []LLMHour `json:"points"`
}

// brainActivity is the brain's GET /decisions/activity.
type brainActivity struct {
	LLMActivity
	Timeline []LLMHour `json:"timeline"`
}

func (a *API) brainRoutes(r chi.Router) {
	r.Get("/sensors/events", a.sensorEvents)
	r.Get("/sensors/llm-activity", a.llmActivity)
	r.Get("/sensors/llm-timeline", a.llmTimeline)
}

// askBrain GETs path from the brain into out; on failure it answers the
// client (503 without a brain URL, 502 when the brain fails) and reports false.
func (a *API) askBrain(w http.ResponseWriter, r *http.Request, path string, out any) bool {
	if a.brainURL == "" {
		httpx.Error(w, http.StatusServiceUnavailable, "the brain is not configured (BRAIN_CHAT_URL)")
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), brainTimeout)
	defer cancel()
	c := httpx.Client{BaseURL: a.brainURL, HTTP: a.brainHTTP}
	if err := c.Do(ctx, http.MethodGet, path, nil, out); err != nil {
		a.log.WarnContext(r.Context(), "brain request failed", "path", path, "err", err)
		httpx.Error(w, http.StatusBadGateway, "the brain did not answer: "+err.Error())
		return false
	}
	return true
}

// boundedInt reads ?name= within [lo, hi], def when absent; 422 otherwise.
func boundedInt(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int) (int, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		httpx.Invalid(w, map[string]string{name: "an integer between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi)})
		return 0, false
	}
	return n, true
}

func (a *API) sensorEvents(w http.ResponseWriter, r *http.Request) {
	limit, ok := boundedInt(w, r, "limit", 50, 1, 200)
	if !ok {
		return
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if z := r.URL.Query().Get("zone"); z != "" {
		q.Set("zone", z)
	}
	out := []FeedEvent{}
	if a.askBrain(w, r, "/events?"+q.Encode(), &out) {
		for i := range out {
			if out[i].Data == nil {
				out[i].Data = map[string]any{}
			}
		}
		httpx.WriteJSON(w, http.StatusOK, out)
	}
}

func (a *API) activity(w http.ResponseWriter, r *http.Request) (brainActivity, bool) {
	var out brainActivity
	hours, ok := boundedInt(w, r, "hours", 24, 1, 720)
	if !ok {
		return out, false
	}
	if !a.askBrain(w, r, "/decisions/activity?hours="+strconv.Itoa(hours), &out) {
		return out, false
	}
	out.Hours = hours
	if out.Timeline == nil {
		out.Timeline = []LLMHour{}
	}
	return out, true
}

func (a *API) llmActivity(w http.ResponseWriter, r *http.Request) {
	if act, ok := a.activity(w, r); ok {
		httpx.WriteJSON(w, http.StatusOK, act.LLMActivity)
	}
}

func (a *API) llmTimeline(w http.ResponseWriter, r *http.Request) {
	if act, ok := a.activity(w, r); ok {
		httpx.WriteJSON(w, http.StatusOK, LLMTimeline{Hours: act.Hours, Points: act.Timeline})
	}
}
