package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
)

// put sends a raw PUT (body may be empty) and decodes the answer.
func put(t *testing.T, url, body string, header http.Header, out any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func auditTrail(t *testing.T, e *env, id int64) string {
	t.Helper()
	es, err := e.svc.TaskAudit(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range es {
		note := ""
		if a.Note != nil {
			note = " (" + *a.Note + ")"
		}
		out = append(out, a.Action+"/"+a.Actor+note)
	}
	return strings.Join(out, "; ")
}

// The wall kiosk completes tasks without a person, as in the original: an
// empty body, no credential, a task nobody accepted. Nobody is paid, and the
// audit and the answer say so.
func TestKioskCompletesWithoutAPerson(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "ホワイトボードを消す", Location: "meeting_room"}))
	var done backendapi.CompletedTask
	if code := put(t, e.srv.URL+"/tasks/"+itoa(task.ID)+"/complete", "", nil, &done); code != http.StatusOK {
		t.Fatalf("anonymous empty-body completion: %d", code)
	}
	if !done.IsCompleted || done.PaidTo != nil || done.Reward != backendapi.RewardNone || *done.ReportStatus != backendapi.ReportNoIssue {
		t.Fatalf("completed = %+v paid_to %v reward %q", done.Task, done.PaidTo, done.Reward)
	}
	if _, err := e.api.payments.get(ctx, task.ID); err != errNotFound {
		t.Fatalf("a payment was recorded for a kiosk completion: %v", err)
	}
	want := "created/service; completed/anonymous (no_issue; nobody paid: completed without a person)"
	if got := auditTrail(t, e, task.ID); got != want {
		t.Fatalf("audit = %s, want %s", got, want)
	}
	if code := put(t, e.srv.URL+"/tasks/"+itoa(task.ID)+"/complete", "", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("completing again: %d, want 400", code)
	}
}

// A kiosk may accept for nobody (user_id omitted); a person may still take
// the task over and is then paid. Naming a person without their credential
// is refused: it would direct their reward.
func TestKioskAcceptAndTakeOver(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.person(t, "alice")
	aliceID := me(t, alice).ID
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "植物に水をやる", Location: "main"}))
	url := e.srv.URL + "/tasks/" + itoa(task.ID) + "/accept"
	if code := put(t, url, `{"user_id": `+itoa(aliceID)+`}`, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("anonymous accept for alice: %d, want 401", code)
	}
	var got backendapi.Task
	if code := put(t, url, "", nil, &got); code != http.StatusOK || got.AssignedTo != nil || got.AcceptedAt == nil || got.Status != backendapi.StatusAccepted {
		t.Fatalf("kiosk accept: %d %+v", code, got)
	}
	if code := put(t, url, "{}", nil, &got); code != http.StatusOK {
		t.Fatalf("kiosk accept again: %d", code)
	}
	if open, _ := e.anon.ListTasks(ctx, backendapi.TaskFilter{Status: backendapi.StatusOpen}); len(open) != 0 {
		t.Fatalf("a kiosk-accepted task is listed open: %+v", open)
	}
	taken := mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
	if *taken.AssignedTo != aliceID {
		t.Fatalf("take-over = %+v", taken)
	}
	// Now a person's task: the kiosk may not complete it.
	if code := put(t, e.srv.URL+"/tasks/"+itoa(task.ID)+"/complete", "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("anonymous completion of alice's task: %d, want 401", code)
	}
	var done backendapi.CompletedTask
	h := http.Header{"Authorization": {"Bearer " + alice.Bearer}}
	if code := put(t, e.srv.URL+"/tasks/"+itoa(task.ID)+"/complete", "", h, &done); code != http.StatusOK || done.PaidTo == nil || *done.PaidTo != aliceID || done.Reward != backendapi.RewardPending {
		t.Fatalf("alice completes: %d paid_to %v reward %q", code, done.PaidTo, done.Reward)
	}
}

// A person completing a task nobody accepted takes it and is paid; a
// service doing so pays nobody.
func TestCompleteUnacceptedTask(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.person(t, "alice")
	aliceID := me(t, alice).ID
	mine := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "コピー用紙を補充", Location: "main"}))
	var done backendapi.CompletedTask
	h := http.Header{"Authorization": {"Bearer " + alice.Bearer}}
	if code := put(t, e.srv.URL+"/tasks/"+itoa(mine.ID)+"/complete", `{"report_status": "resolved"}`, h, &done); code != http.StatusOK {
		t.Fatalf("alice completes an unaccepted task: %d", code)
	}
	if done.AssignedTo == nil || *done.AssignedTo != aliceID || done.AcceptedAt == nil || *done.PaidTo != aliceID {
		t.Fatalf("completed = %+v, paid_to %v", done.Task, done.PaidTo)
	}
	if p, err := e.api.payments.get(ctx, mine.ID); err != nil || p.UserID != aliceID {
		t.Fatalf("payment = %+v, %v", p, err)
	}
	want := "created/service; accepted/user:1 (user 1, on completion); completed/user:1 (resolved)"
	if got := auditTrail(t, e, mine.ID); got != want {
		t.Fatalf("audit = %s, want %s", got, want)
	}
	svc := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "自動で片付いた", Location: "main"}))
	hs := http.Header{backendapi.ServiceTokenHeader: {token}}
	if code := put(t, e.srv.URL+"/tasks/"+itoa(svc.ID)+"/complete", "null", hs, &done); code != http.StatusOK || done.PaidTo != nil || done.Reward != backendapi.RewardNone {
		t.Fatalf("service completion: %d paid_to %v reward %q", code, done.PaidTo, done.Reward)
	}
}

// GET /tasks/stats carries the original's keys beside ours.
func TestStatsOriginalKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	yes := true
	a := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "a", Location: "x"}))
	mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "b", Location: "x"}))
	mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "held", Location: "x", IsQueued: &yes}))
	if code := put(t, e.srv.URL+"/tasks/"+itoa(a.ID)+"/complete", "", nil, nil); code != http.StatusOK {
		t.Fatal(code)
	}
	var raw map[string]any
	if err := getJSON(e.srv.URL+"/tasks/stats", &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"tasks_created": 3, "tasks_completed": 1, "tasks_active": 1, "tasks_queued": 1, "tasks_completed_last_hour": 1}
	for k, v := range want {
		if raw[k] != v {
			t.Errorf("%s = %v, want %v", k, raw[k], v)
		}
	}
	e.clock.Advance(61 * time.Minute)
	if err := getJSON(e.srv.URL+"/tasks/stats", &raw); err != nil || raw["tasks_completed_last_hour"] != 0.0 {
		t.Fatalf("an hour later: %v, %v", raw["tasks_completed_last_hour"], err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
