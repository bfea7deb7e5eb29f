package backendapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// ServiceTokenHeader authenticates service-to-service writes.
const ServiceTokenHeader = "X-Service-Token"

// Client calls the backend service.
type Client struct {
	BaseURL string
	// Token is sent as X-Service-Token when non-empty.
	Token string
	// Bearer is a person's JWT, sent as "Authorization: Bearer" when non-empty.
	Bearer string
	HTTP   *http.Client
}

// NewClient returns a client with a bounded default timeout.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 15 * time.Second}}
}

// APIError is a non-2xx answer from the backend.
type APIError = httpx.APIError

// TaskFilter narrows GET /tasks/.
type TaskFilter struct {
	Status   string // open, accepted, completed, expired, queued, active (not completed, not expired)
	Zone     string
	Audience string
	Limit    int
	Offset   int // skip this many in list order (pages past the backend's 1000 per answer)
}

// CreateTask posts a task; the backend may return an existing duplicate.
func (c *Client) CreateTask(ctx context.Context, in CreateTask) (Task, error) {
	var t Task
	err := c.do(ctx, http.MethodPost, "/tasks/", in, &t)
	return t, err
}

// ListTasks lists tasks, newest first.
func (c *Client) ListTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Zone != "" {
		q.Set("zone", f.Zone)
	}
	if f.Audience != "" {
		q.Set("audience", f.Audience)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	path := "/tasks/"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var ts []Task
	err := c.do(ctx, http.MethodGet, path, nil, &ts)
	return ts, err
}

// MaxListLimit is the most tasks the backend returns in one answer.
const MaxListLimit = 1000

// AllTasks lists every task matching f, page by page (f.Limit tasks a page,
// MaxListLimit when unset; f.Offset is ignored). Pages are read one after
// another, so a task created or completed meanwhile may be missed or seen
// twice; read a quiet system.
func (c *Client) AllTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	var all []Task
	if f.Limit <= 0 || f.Limit > MaxListLimit {
		f.Limit = MaxListLimit
	}
	for f.Offset = 0; ; f.Offset += f.Limit {
		page, err := c.ListTasks(ctx, f)
		if err != nil {
			return all, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
	}
}

// GetTask fetches one task.
func (c *Client) GetTask(ctx context.Context, id int64) (Task, error) {
	var t Task
	err := c.do(ctx, http.MethodGet, "/tasks/"+strconv.FormatInt(id, 10), nil, &t)
	return t, err
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	h := http.Header{}
	if c.Token != "" {
		h.Set(ServiceTokenHeader, c.Token)
	}
	if c.Bearer != "" {
		h.Set("Authorization", "Bearer "+c.Bearer)
	}
	api := httpx.Client{BaseURL: c.BaseURL, Header: h, HTTP: c.HTTP}
	return api.Do(ctx, method, path, in, out)
}
