package backend

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
)

func TestRegisterLoginMe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tok, err := e.anon.Register(ctx, backendapi.Register{Username: "hanako", Password: "correct horse", DisplayName: "花子"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "bearer" || tok.AccessToken == "" || tok.User.Role != RoleUser || !tok.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("token = %+v", tok)
	}
	_, err = e.anon.Register(ctx, backendapi.Register{Username: "hanako", Password: "another one"})
	assertStatus(t, err, http.StatusConflict)
	_, err = e.anon.Register(ctx, backendapi.Register{Username: "taro", Password: "password1", Role: RoleAdmin})
	assertStatus(t, err, http.StatusUnprocessableEntity)
	_, err = e.anon.Register(ctx, backendapi.Register{Username: "x", Password: "short"})
	assertStatus(t, err, http.StatusUnprocessableEntity)

	_, err = e.anon.Login(ctx, "hanako", "wrong password")
	assertStatus(t, err, http.StatusUnauthorized)
	_, err = e.anon.Login(ctx, "nobody", "correct horse")
	assertStatus(t, err, http.StatusUnauthorized)
	login, err := e.anon.Login(ctx, "hanako", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.anon.WithBearer(login.AccessToken).Me(ctx)
	if err != nil || u.Username != "hanako" || u.DisplayName != "花子" {
		t.Fatalf("me = %+v, %v", u, err)
	}

	_, err = e.anon.Me(ctx)
	assertStatus(t, err, http.StatusUnauthorized)
	_, err = e.anon.WithBearer("not.a.jwt").Me(ctx)
	assertStatus(t, err, http.StatusUnauthorized)
	_, err = e.svc.Me(ctx) // a service is not a person
	assertStatus(t, err, http.StatusUnauthorized)
	// A token signed with another secret is rejected.
	forged := &tokens{secret: []byte("some-other-secret-some-other-secret"), ttl: time.Hour, clock: e.clock}
	ftok, _, _ := forged.issue(u)
	_, err = e.anon.WithBearer(ftok).Me(ctx)
	assertStatus(t, err, http.StatusUnauthorized)
	// Tokens expire by the clock.
	e.clock.Advance(25 * time.Hour)
	_, err = e.anon.WithBearer(login.AccessToken).Me(ctx)
	assertStatus(t, err, http.StatusUnauthorized)
}

func TestUnauthorisedWritesRejected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.person(t, "alice")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x"}))
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
	}{
		{"create without token", "POST", "/tasks/", nil, 401},
		{"create with wrong token", "POST", "/tasks/", map[string]string{"X-Service-Token": "nope"}, 401},
		{"create as a person", "POST", "/tasks/", map[string]string{"Authorization": "Bearer " + alice.Bearer}, 403},
		{"malformed authorization", "GET", "/tasks/", map[string]string{"Authorization": "Basic abc"}, 401},
		{"accept for a person anonymously", "PUT", "/tasks/1/accept", nil, 401},
		{"complete with a wrong token", "PUT", "/tasks/1/complete", map[string]string{"X-Service-Token": "nope"}, 401},
		{"dispatch as a person", "PUT", "/tasks/1/dispatch", map[string]string{"Authorization": "Bearer " + alice.Bearer}, 403},
		{"reminded anonymously", "PUT", "/tasks/1/reminded", nil, 401},
		{"voice event anonymously", "POST", "/voice-events/", nil, 401},
		{"chitchat as a person", "POST", "/voice-events/chitchat-stock", map[string]string{"Authorization": "Bearer " + alice.Bearer}, 403},
		{"list users anonymously", "GET", "/users/", nil, 401},
		{"list users as a user", "GET", "/users/", map[string]string{"Authorization": "Bearer " + alice.Bearer}, 403},
		{"create user as a user", "POST", "/users/", map[string]string{"Authorization": "Bearer " + alice.Bearer}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(`{"title":"sneaky","user_id":1}`))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.status || body.Error == "" {
				t.Fatalf("%d %q, want %d with an error", resp.StatusCode, body.Error, tc.status)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	got, _ := e.anon.GetTask(ctx, task.ID)
	if got.AssignedTo != nil || got.IsCompleted {
		t.Fatalf("a rejected write changed the task: %+v", got)
	}
	if ts, _ := e.anon.ListTasks(ctx, backendapi.TaskFilter{}); len(ts) != 1 {
		t.Fatalf("a rejected create stored a task: %d tasks", len(ts))
	}
}

func TestUsersCRUD(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	root := e.admin(t, "root")
	alice := e.person(t, "alice")
	aliceID := me(t, alice).ID
	bob, err := root.CreateUser(ctx, backendapi.Register{Username: "bob", Password: "bob-password"})
	if err != nil || bob.Role != RoleUser {
		t.Fatalf("create = %+v, %v", bob, err)
	}
	us, err := root.ListUsers(ctx)
	if err != nil || len(us) != 3 {
		t.Fatalf("list = %+v, %v", us, err)
	}
	// People see and edit only themselves, and never their role.
	if _, err := alice.GetUser(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	_, err = alice.GetUser(ctx, bob.ID)
	assertStatus(t, err, http.StatusForbidden)
	name := "アリス"
	if u, err := alice.UpdateUser(ctx, aliceID, backendapi.UpdateUser{DisplayName: &name}); err != nil || u.DisplayName != name {
		t.Fatalf("update self = %+v, %v", u, err)
	}
	admin := RoleAdmin
	_, err = alice.UpdateUser(ctx, aliceID, backendapi.UpdateUser{Role: &admin})
	assertStatus(t, err, http.StatusForbidden)
	assertStatus(t, alice.DeleteUser(ctx, bob.ID), http.StatusForbidden)
	_, err = root.GetUser(ctx, 999)
	assertStatus(t, err, http.StatusNotFound)

	// Promotion takes effect on the next request (roles are read from the database).
	if _, err := root.UpdateUser(ctx, aliceID, backendapi.UpdateUser{Role: &admin}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ListUsers(ctx); err != nil {
		t.Fatalf("promoted user cannot list: %v", err)
	}
	// Deactivation locks the account out at once.
	if err := root.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.anon.Login(ctx, "bob", "bob-password")
	assertStatus(t, err, http.StatusUnauthorized)
	bobTok, _, _ := e.api.tokens.issue(bob)
	_, err = e.anon.WithBearer(bobTok).Me(ctx)
	assertStatus(t, err, http.StatusUnauthorized)
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x"}))
	_, err = e.svc.AcceptTask(ctx, task.ID, bob.ID)
	assertStatus(t, err, http.StatusBadRequest)
}

func TestBootstrapAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.api.users.ensureAdmin(ctx, "boss", "boss-password", t0); err != nil {
		t.Fatal(err)
	}
	if err := e.api.users.ensureAdmin(ctx, "boss", "new-password", t0); err != nil { // idempotent, resets the password
		t.Fatal(err)
	}
	tok, err := e.anon.Login(ctx, "boss", "new-password")
	if err != nil || tok.User.Role != RoleAdmin {
		t.Fatalf("login = %+v, %v", tok, err)
	}
	if err := e.api.users.ensureAdmin(ctx, "boss", "short", t0); err == nil {
		t.Fatal("a short bootstrap password was accepted")
	}
}

// TestEventStream reads the SSE stream over HTTP and waits for the created event.
func TestEventStream(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/events/stream?types=task", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	// The handler has subscribed once the preamble arrives.
	for lines.Scan() && lines.Text() != ": connected" {
	}
	go func() {
		_ = e.svc.PostVoiceEvent(ctx, backendapi.VoiceEvent{Message: "filtered out"})
		_, _ = e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "SSEで届くタスク", Location: "x"})
	}()
	var event, data string
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && event != "":
			if event != EventTaskCreated {
				t.Fatalf("unexpected event %s %s (the types filter should drop voice events)", event, data)
			}
			var task backendapi.Task
			if err := json.Unmarshal([]byte(data), &task); err != nil || task.Title != "SSEで届くタスク" {
				t.Fatalf("event data %s: %v", data, err)
			}
			return
		}
	}
	t.Fatalf("stream ended without a task.created event: %v", lines.Err())
}

func TestHubDropsSlowSubscribers(t *testing.T) {
	h := NewHub()
	slow, _ := h.Subscribe(1)
	fast, stop := h.Subscribe(8)
	defer stop()
	h.Publish("a", 1)
	h.Publish("b", 2) // slow's buffer is full: it is dropped
	if _, ok := <-slow; !ok {
		t.Fatal("first event lost")
	}
	if _, ok := <-slow; ok {
		t.Fatal("slow subscriber not closed")
	}
	if len(fast) != 2 || h.Subscribers() != 1 {
		t.Fatalf("fast got %d, subscribers %d", len(fast), h.Subscribers())
	}
}
