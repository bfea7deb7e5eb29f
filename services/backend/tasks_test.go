package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// token is the service token, generated as the harness does: the services
// run here on the wall clock check it as in production.
var token = localinfra.Secret()

func zone(s string) *string { return &s }

func TestCreateAndList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	exp := t0.Add(time.Hour)
	created, err := e.svc.CreateTask(ctx, backendapi.CreateTask{
		Title: "換気を行ってください", Description: "CO2 1400ppm", Zone: zone("meeting_room"),
		TaskType: []string{"environment"}, ExpiresAt: &exp,
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 || created.Status != backendapi.StatusOpen || created.Urgency != 2 || created.Bounty != backendapi.DefaultBounty {
		t.Fatalf("created = %+v", created)
	}
	if !created.CreatedAt.Equal(t0) {
		t.Fatalf("created_at = %v, want the clock's %v", created.CreatedAt, t0)
	}
	if created.Location != "Office" {
		t.Fatalf("location default = %q", created.Location)
	}
	list, err := e.anon.ListTasks(ctx, backendapi.TaskFilter{Zone: "meeting_room"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != created.ID {
		t.Fatalf("list = %+v", list)
	}
	got, err := e.anon.GetTask(ctx, created.ID)
	if err != nil || got.Title != created.Title {
		t.Fatalf("get = %+v, %v", got, err)
	}
	// Expiry follows the clock.
	e.clock.Advance(time.Hour)
	active, _ := e.anon.ListTasks(ctx, backendapi.TaskFilter{Status: "active"})
	expired, _ := e.anon.ListTasks(ctx, backendapi.TaskFilter{Status: backendapi.StatusExpired})
	if len(active) != 0 || len(expired) != 1 || expired[0].Status != backendapi.StatusExpired {
		t.Fatalf("after expiry: active %d, expired %d", len(active), len(expired))
	}
}

func TestDuplicateUpdatesInPlace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	req := backendapi.CreateTask{Title: "室温を下げてください", Description: "29℃", Location: "main"}
	first, err := e.svc.CreateTask(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Description = "30℃"
	second, err := e.svc.CreateTask(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Description != "30℃" {
		t.Fatalf("duplicate created a new task or was not updated: %+v", second)
	}
	other, _ := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "室温を下げてください", Description: "x", Location: "kitchen"})
	if other.ID == first.ID {
		t.Fatal("same title in another location was merged")
	}
}

func TestConcurrentDuplicatesCreateOneTask(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make(chan int64, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task, err := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "コーヒー豆を補充してください", Description: "空", Location: "kitchen"})
			if err != nil {
				t.Error(err)
				return
			}
			ids <- task.ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 {
		t.Fatalf("concurrent identical creates produced %d tasks", len(seen))
	}
}

func TestWriteAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.anon.CreateTask(ctx, backendapi.CreateTask{Title: "x", Description: "y"})
	assertStatus(t, err, http.StatusUnauthorized)
	bad := backendapi.NewClient(e.srv.URL, "not-the-token")
	_, err = bad.CreateTask(ctx, backendapi.CreateTask{Title: "x", Description: "y"})
	assertStatus(t, err, http.StatusUnauthorized)
	// A signed-in person is not a service.
	_, err = e.person(t, "alice").CreateTask(ctx, backendapi.CreateTask{Title: "x", Description: "y"})
	assertStatus(t, err, http.StatusForbidden)
	if list, _ := e.anon.ListTasks(ctx, backendapi.TaskFilter{}); len(list) != 0 {
		t.Fatal("a rejected write stored a task")
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"missing title", `{"description":"d"}`, 422, "title"},
		{"urgency too high", `{"title":"t","urgency":5}`, 422, "urgency"},
		{"bounty below the floor", `{"title":"t","bounty":100}`, 422, "bounty"},
		{"bad audience", `{"title":"t","audience":"everyone"}`, 422, "audience"},
		{"wrong type", `{"title":"t","urgency":"high"}`, 400, ""},
		{"malformed json", `{"title":`, 400, ""},
		{"empty body", ``, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/tasks/", bytes.NewBufferString(tc.body))
			req.Header.Set(backendapi.ServiceTokenHeader, token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error  string            `json:"error"`
				Fields map[string]string `json:"fields"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.status || body.Error == "" {
				t.Fatalf("status %d body %+v, want %d with an error message", resp.StatusCode, body, tc.status)
			}
			if tc.field != "" && body.Fields[tc.field] == "" {
				t.Fatalf("field %s not named: %+v", tc.field, body.Fields)
			}
		})
	}
}

func TestGetAndListErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.anon.GetTask(ctx, 999)
	assertStatus(t, err, http.StatusNotFound)
	_, err = e.anon.ListTasks(ctx, backendapi.TaskFilter{Status: "sleeping"})
	assertStatus(t, err, http.StatusBadRequest)
	resp, err := http.Get(e.srv.URL + "/tasks/abc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("non-numeric id: %d", resp.StatusCode)
	}
}

func assertStatus(t *testing.T, err error, status int) {
	t.Helper()
	var ae *backendapi.APIError
	if !errors.As(err, &ae) || ae.Status != status || ae.Message == "" {
		t.Fatalf("err = %v, want HTTP %d with a message", err, status)
	}
}
