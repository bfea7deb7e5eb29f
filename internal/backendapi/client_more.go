package backendapi

import (
	"context"
	"net/http"
	"strconv"
)

func taskPath(id int64, action string) string {
	p := "/tasks/" + strconv.FormatInt(id, 10)
	if action != "" {
		p += "/" + action
	}
	return p
}

// ActiveTasks lists tasks that are neither completed nor expired, newest first.
func (c *Client) ActiveTasks(ctx context.Context) ([]Task, error) {
	return c.ListTasks(ctx, TaskFilter{Status: StatusActive})
}

// Queue lists queued tasks (GET /tasks/queue) awaiting dispatch.
func (c *Client) Queue(ctx context.Context) ([]Task, error) {
	var ts []Task
	err := c.do(ctx, http.MethodGet, "/tasks/queue", nil, &ts)
	return ts, err
}

// Dispatch releases a queued task (PUT /tasks/{id}/dispatch, service token).
func (c *Client) Dispatch(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodPut, taskPath(id, "dispatch"), nil, nil)
}

// Reminded stamps a task's last reminder (PUT /tasks/{id}/reminded, service token).
func (c *Client) Reminded(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodPut, taskPath(id, "reminded"), nil, nil)
}

// AcceptTask assigns a task to userID (PUT /tasks/{id}/accept). The caller is
// a person (Client.Bearer) accepting for themselves, or a service.
func (c *Client) AcceptTask(ctx context.Context, id, userID int64) (Task, error) {
	var t Task
	err := c.do(ctx, http.MethodPut, taskPath(id, "accept"), AcceptTask{UserID: userID}, &t)
	return t, err
}

// CompleteTask reports a task done (PUT /tasks/{id}/complete) as its assignee.
func (c *Client) CompleteTask(ctx context.Context, id int64, in CompleteTask) (Task, error) {
	var t Task
	err := c.do(ctx, http.MethodPut, taskPath(id, "complete"), in, &t)
	return t, err
}

// TaskAudit returns a task's audit trail, oldest first.
func (c *Client) TaskAudit(ctx context.Context, id int64) ([]AuditEntry, error) {
	var es []AuditEntry
	err := c.do(ctx, http.MethodGet, taskPath(id, "audit"), nil, &es)
	return es, err
}

// TaskStats returns the task counters (GET /tasks/stats).
func (c *Client) TaskStats(ctx context.Context) (TaskStats, error) {
	var s TaskStats
	err := c.do(ctx, http.MethodGet, "/tasks/stats", nil, &s)
	return s, err
}

// PostVoiceEvent records something the office said (POST /voice-events/,
// service token).
func (c *Client) PostVoiceEvent(ctx context.Context, ev VoiceEvent) error {
	return c.do(ctx, http.MethodPost, "/voice-events/", ev, nil)
}

// RecentVoiceEvents lists the latest voice events, newest first.
func (c *Client) RecentVoiceEvents(ctx context.Context) ([]VoiceEvent, error) {
	var evs []VoiceEvent
	err := c.do(ctx, http.MethodGet, "/voice-events/recent", nil, &evs)
	return evs, err
}

// ChitchatStockStatus returns how many chit-chat phrases are in stock.
func (c *Client) ChitchatStockStatus(ctx context.Context) (int, error) {
	var s ChitchatStatus
	err := c.do(ctx, http.MethodGet, "/voice-events/chitchat-stock/status", nil, &s)
	return s.StockSize, err
}

// AddChitchat stocks one chit-chat phrase (POST /voice-events/chitchat-stock,
// service token).
func (c *Client) AddChitchat(ctx context.Context, in Chitchat) error {
	return c.do(ctx, http.MethodPost, "/voice-events/chitchat-stock", in, nil)
}

// RandomChitchat takes a random phrase out of the stock (404 when empty).
func (c *Client) RandomChitchat(ctx context.Context) (Chitchat, error) {
	var ch Chitchat
	err := c.do(ctx, http.MethodGet, "/voice-events/chitchat-stock/random", nil, &ch)
	return ch, err
}
