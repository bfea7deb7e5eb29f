package backend

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/topic"
)

func (a *API) createTask(w http.ResponseWriter, r *http.Request) {
	var in backendapi.CreateTask
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	now := a.clock.Now()
	res, err := a.tasks.create(r.Context(), in, now)
	if err != nil {
		a.log.ErrorContext(r.Context(), "create task", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not store the task")
		return
	}
	t := res.Task
	t.Status = t.StatusAt(now)
	if res.Outcome == outcomeCreated {
		a.metrics.tasksCreated.Inc()
		a.hub.Publish(EventTaskCreated, t)
		a.log.InfoContext(r.Context(), "task created", "id", t.ID, "title", t.Title, "zone", deref(t.Zone), "urgency", t.Urgency, "types", t.TaskType)
	} else {
		a.metrics.tasksMerged.WithLabelValues(res.Outcome).Inc()
		a.hub.Publish(EventTaskUpdated, t)
		a.log.InfoContext(r.Context(), "duplicate task updated in place", "id", t.ID, "title", t.Title, "new_title", in.Title,
			"zone", deref(t.Zone), "rule", res.Outcome, "category", res.Category)
	}
	// 200 in both cases: the original brain treats exactly 200 with an id as success.
	httpx.WriteJSON(w, http.StatusOK, t)
}

var listStatuses = map[string]bool{
	"": true, "all": true, backendapi.StatusOpen: true, backendapi.StatusAccepted: true, backendapi.StatusCompleted: true,
	backendapi.StatusExpired: true, backendapi.StatusQueued: true, backendapi.StatusActive: true,
}

func (a *API) listTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := backendapi.TaskFilter{Status: q.Get("status"), Zone: q.Get("zone"), Audience: q.Get("audience"), Limit: 100}
	if !listStatuses[f.Status] {
		httpx.Error(w, http.StatusBadRequest, "status must be one of open, accepted, completed, expired, queued, active, all")
		return
	}
	if f.Audience != "" && f.Audience != "user" && f.Audience != "admin" {
		httpx.Error(w, http.StatusBadRequest, "audience must be user or admin")
		return
	}
	limit, ok := limitParam(w, r, 100, 1000)
	if !ok {
		return
	}
	f.Limit = limit
	// offset pages past the limit: a list of more than 1000 tasks is read in pages.
	offset, ok := intParam(w, r, "offset", 0, 0, math.MaxInt32)
	if !ok {
		return
	}
	f.Offset = offset
	a.writeTasks(w, r, f)
}

func (a *API) writeTasks(w http.ResponseWriter, r *http.Request, f backendapi.TaskFilter) {
	now := a.clock.Now()
	ts, err := a.tasks.list(r.Context(), f, now)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list tasks", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not list tasks")
		return
	}
	for i := range ts {
		ts[i].Status = ts[i].StatusAt(now)
	}
	httpx.WriteJSON(w, http.StatusOK, ts)
}

// limitParam reads ?limit= within [1, max].
func limitParam(w http.ResponseWriter, r *http.Request, def, max int) (int, bool) {
	return intParam(w, r, "limit", def, 1, max)
}

// intParam reads the query parameter name within [lo, hi]; anything else is
// a 400 naming the range.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int) (int, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		httpx.Error(w, http.StatusBadRequest, name+" must be an integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		return 0, false
	}
	return n, true
}

func (a *API) taskQueue(w http.ResponseWriter, r *http.Request) {
	a.writeTasks(w, r, backendapi.TaskFilter{Status: backendapi.StatusQueued, Limit: 1000})
}

func taskID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		httpx.Error(w, http.StatusBadRequest, "task id must be a positive integer")
		return 0, false
	}
	return id, true
}

func (a *API) getTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	t, err := a.tasks.get(r.Context(), id)
	a.writeTask(w, "get task", id, t, err)
}

// writeTask answers with the task or maps the store's error to a status.
func (a *API) writeTask(w http.ResponseWriter, what string, id int64, t backendapi.Task, err error) bool {
	var (
		se *stateError
		fe *forbiddenError
		ue *unauthenticatedError
	)
	switch {
	case err == nil:
		t.Status = t.StatusAt(a.clock.Now())
		httpx.WriteJSON(w, http.StatusOK, t)
		return true
	case errors.Is(err, errNotFound):
		httpx.Error(w, http.StatusNotFound, "task "+strconv.FormatInt(id, 10)+" not found")
	case errors.As(err, &se):
		httpx.Error(w, http.StatusBadRequest, se.msg)
	case errors.As(err, &fe):
		httpx.Error(w, http.StatusForbidden, fe.msg)
	case errors.As(err, &ue):
		unauthorized(w, ue.msg)
	default:
		a.log.Error(what, "id", id, "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not "+what)
	}
	return false
}

func (a *API) acceptTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	var in backendapi.AcceptTask
	if !httpx.DecodeOptionalOrError(w, r, &in) {
		return
	}
	p := principalFrom(r.Context())
	switch {
	case in.UserID < 0:
		httpx.Invalid(w, map[string]string{"user_id": "must be a positive user id"})
		return
	case in.UserID == 0 && p.User != nil:
		in.UserID = p.User.ID // a person accepting for themselves may omit it
	case in.UserID > 0 && !p.authenticated():
		// Accepting for a person without their credential would let anyone
		// direct that person's reward.
		unauthorized(w, "accepting for a person needs their sign-in (Authorization: Bearer <token>) or "+backendapi.ServiceTokenHeader)
		return
	}
	if p.User != nil && !p.admin() && p.User.ID != in.UserID {
		httpx.Error(w, http.StatusForbidden, "you may only accept tasks for yourself")
		return
	}
	var (
		t       backendapi.Task
		changed bool
		err     error
	)
	if in.UserID == 0 {
		t, changed, err = a.tasks.acceptUnassigned(r.Context(), id, p.actor(), a.clock.Now())
	} else {
		t, changed, err = a.tasks.accept(r.Context(), id, in.UserID, p.actor(), a.clock.Now())
	}
	if a.writeTask(w, "accept task", id, t, err) && changed {
		t.Status = t.StatusAt(a.clock.Now())
		a.hub.Publish(EventTaskAccepted, t)
		a.log.InfoContext(r.Context(), "task accepted", "id", id, "user", in.UserID, "by", p.actor())
	}
}

func (a *API) completeTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	var in backendapi.CompleteTask
	if !httpx.DecodeOptionalOrError(w, r, &in) {
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	p := principalFrom(r.Context())
	t, paidTo, err := a.tasks.complete(r.Context(), id, p, in, a.payments, a.clock.Now())
	if err != nil {
		a.writeTask(w, "complete task", id, t, err)
		return
	}
	t.Status = t.StatusAt(a.clock.Now())
	a.metrics.tasksCompleted.WithLabelValues(in.ReportStatus).Inc()
	out := backendapi.CompletedTask{Task: t, PaidTo: paidTo, Reward: backendapi.RewardPending}
	if paidTo == nil {
		out.Reward = backendapi.RewardNone
		a.log.InfoContext(r.Context(), "task completed without a person; nobody is paid", "id", id, "by", p.actor(), "report_status", in.ReportStatus)
	} else {
		a.log.InfoContext(r.Context(), "task completed", "id", id, "user", *paidTo, "by", p.actor(), "report_status", in.ReportStatus)
	}
	a.publishReport(r.Context(), t)
	a.hub.Publish(EventTaskCompleted, t)
	if paidTo != nil {
		// Pay now; if the wallet is down the payment loop retries later.
		a.payDue(r.Context(), id)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// publishReport tells the brain how the task went, on
// office/{zone}/task_report/{id} (zone "main" when the task has none).
func (a *API) publishReport(ctx context.Context, t backendapi.Task) {
	if a.bus == nil {
		return
	}
	zone := deref(t.Zone)
	if zone == "" {
		zone = "main"
	}
	rep := backendapi.TaskReport{TaskID: t.ID, Title: t.Title, ReportStatus: deref(t.ReportStatus), CompletionNote: deref(t.CompletionNote), Zone: zone}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.bus.PublishJSON(ctx, topic.TaskReport(zone, strconv.FormatInt(t.ID, 10)), 1, false, rep); err != nil {
		a.log.ErrorContext(ctx, "publish task report", "id", t.ID, "err", err)
	}
}

func (a *API) dispatchTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	t, err := a.tasks.dispatch(r.Context(), id, a.clock.Now())
	if a.writeTask(w, "dispatch task", id, t, err) {
		t.Status = t.StatusAt(a.clock.Now())
		a.hub.Publish(EventTaskDispatched, t)
	}
}

func (a *API) remindedTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	t, err := a.tasks.reminded(r.Context(), id, a.clock.Now())
	if a.writeTask(w, "stamp the reminder", id, t, err) {
		t.Status = t.StatusAt(a.clock.Now())
		a.hub.Publish(EventTaskReminded, t)
	}
}

func (a *API) taskStats(w http.ResponseWriter, r *http.Request) {
	st, err := a.tasks.stats(r.Context(), a.clock.Now())
	if err != nil {
		a.log.ErrorContext(r.Context(), "task stats", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not count tasks")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

func (a *API) auditLog(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r, 100, 1000)
	if !ok {
		return
	}
	a.writeAudit(w, r, 0, limit)
}

func (a *API) taskAudit(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	if _, err := a.tasks.get(r.Context(), id); err != nil {
		a.writeTask(w, "read the audit", id, backendapi.Task{}, err)
		return
	}
	a.writeAudit(w, r, id, 1000)
}

func (a *API) writeAudit(w http.ResponseWriter, r *http.Request, id int64, limit int) {
	es, err := a.tasks.auditLog(r.Context(), id, limit)
	if err != nil {
		a.log.ErrorContext(r.Context(), "audit log", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read the audit log")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, es)
}

// ExpiryLoop records task expiry (audit entry, live event) every interval of
// clock time. Expiry itself is derived from expires_at and the clock, so the
// API is right even between sweeps.
func (a *API) ExpiryLoop(interval time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		t := a.clock.NewTicker(interval)
		defer t.Stop()
		for {
			ts, err := a.tasks.noteExpired(ctx, a.clock.Now())
			if err != nil && ctx.Err() == nil {
				a.log.ErrorContext(ctx, "expiry sweep", "err", err)
			}
			for _, task := range ts {
				task.Status = backendapi.StatusExpired
				a.hub.Publish(EventTaskExpired, task)
				a.log.InfoContext(ctx, "task expired", "id", task.ID, "title", task.Title)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C():
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
