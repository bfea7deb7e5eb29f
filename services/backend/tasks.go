package backend

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/dashboard"
	"github.com/somsgo/soms/internal/httpx"
)

func (a *API) createTask(w http.ResponseWriter, r *http.Request) {
	var in dashboard.CreateTask
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	now := a.clock.Now()
	t, created, err := a.tasks.create(r.Context(), in, now)
	if err != nil {
		a.log.Error("create task", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not store the task")
		return
	}
	t.Status = t.StatusAt(now)
	if created {
		a.log.Info("task created", "id", t.ID, "title", t.Title, "zone", deref(t.Zone), "urgency", t.Urgency, "types", t.TaskType)
	} else {
		a.log.Info("duplicate task updated in place", "id", t.ID, "title", t.Title, "zone", deref(t.Zone))
	}
	// 200 in both cases: the original brain treats exactly 200 with an id as success.
	httpx.WriteJSON(w, http.StatusOK, t)
}

func (a *API) listTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := dashboard.TaskFilter{Status: q.Get("status"), Zone: q.Get("zone"), Audience: q.Get("audience"), Limit: 100}
	switch f.Status {
	case "", "all", dashboard.StatusOpen, dashboard.StatusAccepted, dashboard.StatusCompleted, dashboard.StatusExpired, "active":
	default:
		httpx.Error(w, http.StatusBadRequest, "status must be one of open, accepted, completed, expired, active, all")
		return
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			httpx.Error(w, http.StatusBadRequest, "limit must be an integer between 1 and 1000")
			return
		}
		f.Limit = n
	}
	now := a.clock.Now()
	ts, err := a.tasks.list(r.Context(), f, now)
	if err != nil {
		a.log.Error("list tasks", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not list tasks")
		return
	}
	for i := range ts {
		ts[i].Status = ts[i].StatusAt(now)
	}
	httpx.WriteJSON(w, http.StatusOK, ts)
}

func (a *API) getTask(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		httpx.Error(w, http.StatusBadRequest, "task id must be a positive integer")
		return
	}
	t, err := a.tasks.get(r.Context(), id)
	if errors.Is(err, errNotFound) {
		httpx.Error(w, http.StatusNotFound, "task "+strconv.FormatInt(id, 10)+" not found")
		return
	}
	if err != nil {
		a.log.Error("get task", "id", id, "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read the task")
		return
	}
	t.Status = t.StatusAt(a.clock.Now())
	httpx.WriteJSON(w, http.StatusOK, t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
