package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/topic"
)

func TestAcceptRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := e.person(t, "alice"), e.person(t, "bob")
	aliceID, bobID := me(t, alice).ID, me(t, bob).ID
	exp := t0.Add(30 * time.Minute)
	open, _ := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "open task", Location: "a"})
	taken, _ := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "taken task", Location: "b"})
	done, _ := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "done task", Location: "c"})
	soon, _ := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "expiring task", Location: "d", ExpiresAt: &exp})
	mustOK(t)(bob.AcceptTask(ctx, taken.ID, bobID))
	mustOK(t)(bob.AcceptTask(ctx, done.ID, bobID))
	mustOK(t)(bob.CompleteTask(ctx, done.ID, backendapi.CompleteTask{}))
	e.clock.Advance(time.Hour) // soon has expired

	tests := []struct {
		name   string
		c      *backendapi.Client
		id     int64
		user   int64
		status int
	}{
		{"anonymous", e.anon, open.ID, aliceID, http.StatusUnauthorized},
		{"for someone else", alice, open.ID, bobID, http.StatusForbidden},
		{"unknown task", alice, 9999, aliceID, http.StatusNotFound},
		{"already accepted by another", alice, taken.ID, aliceID, http.StatusBadRequest},
		{"completed", alice, done.ID, aliceID, http.StatusBadRequest},
		{"expired", alice, soon.ID, aliceID, http.StatusBadRequest},
		{"unknown user via service", e.svc, open.ID, 4242, http.StatusBadRequest},
		{"self", alice, open.ID, aliceID, http.StatusOK},
		{"self again is a no-op", alice, open.ID, aliceID, http.StatusOK},
		{"taken now", bob, open.ID, bobID, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task, err := tc.c.AcceptTask(ctx, tc.id, tc.user)
			if tc.status == http.StatusOK {
				if err != nil || task.AssignedTo == nil || *task.AssignedTo != tc.user || task.Status != backendapi.StatusAccepted {
					t.Fatalf("accept = %+v, %v", task, err)
				}
				return
			}
			assertStatus(t, err, tc.status)
		})
	}
	// Omitting user_id accepts for the signed-in person.
	other, _ := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "another", Location: "e"})
	task, err := alice.AcceptTask(ctx, other.ID, 0)
	if err != nil || *task.AssignedTo != aliceID {
		t.Fatalf("accept without user_id = %+v, %v", task, err)
	}
}

func me(t *testing.T, c *backendapi.Client) backendapi.User {
	t.Helper()
	u, err := c.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustOK(t *testing.T) func(backendapi.Task, error) backendapi.Task {
	return func(task backendapi.Task, err error) backendapi.Task {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
}

func TestCompleteRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := e.person(t, "alice"), e.person(t, "bob")
	aliceID := me(t, alice).ID
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "コーヒー豆を補充", Location: "kitchen", Zone: zone("kitchen")}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, aliceID))

	_, err := e.anon.CompleteTask(ctx, task.ID, backendapi.CompleteTask{})
	assertStatus(t, err, http.StatusUnauthorized)
	_, err = bob.CompleteTask(ctx, task.ID, backendapi.CompleteTask{})
	assertStatus(t, err, http.StatusForbidden)
	_, err = alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{ReportStatus: "finished"})
	assertStatus(t, err, http.StatusUnprocessableEntity)
	_, err = alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{CompletionNote: strings.Repeat("x", 501)})
	assertStatus(t, err, http.StatusUnprocessableEntity)
	_, err = alice.CompleteTask(ctx, 9999, backendapi.CompleteTask{})
	assertStatus(t, err, http.StatusNotFound)

	e.clock.Advance(5 * time.Minute)
	done, err := alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{ReportStatus: "resolved", CompletionNote: "補充しました"})
	if err != nil {
		t.Fatal(err)
	}
	if !done.IsCompleted || done.Status != backendapi.StatusCompleted || *done.ReportStatus != "resolved" ||
		*done.CompletionNote != "補充しました" || !done.CompletedAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("completed = %+v", done)
	}
	_, err = alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{})
	assertStatus(t, err, http.StatusBadRequest)

	audit, err := e.svc.TaskAudit(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+"/"+a.Actor)
	}
	want := "created/service accepted/user:1 completed/user:1"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit = %v, want %s", actions, want)
	}
	// The reward is recorded even without a wallet.
	p, err := e.api.payments.get(ctx, task.ID)
	if err != nil || p.Status != "pending" || p.Amount != int64(task.Bounty)*1000 || p.UserID != aliceID {
		t.Fatalf("payment = %+v, %v", p, err)
	}
	st, err := e.anon.TaskStats(ctx)
	if err != nil || st.Completed != 1 || st.CompletedToday != 1 || st.PaymentsPending != 1 || st.ByReportStatus["resolved"] != 1 {
		t.Fatalf("stats = %+v, %v", st, err)
	}
}

func TestAdminMayCompleteForAssignee(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, root := e.person(t, "alice"), e.admin(t, "root")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x"}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, me(t, alice).ID))
	done := mustOK(t)(root.CompleteTask(ctx, task.ID, backendapi.CompleteTask{ReportStatus: "cannot_resolve"}))
	if done.Status != backendapi.StatusCompleted {
		t.Fatal(done.Status)
	}
}

func TestConcurrentCompletionsCompleteOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.person(t, "alice")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x"}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, me(t, alice).ID))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		oks  int
		errs int
	)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				oks++
			} else {
				errs++
			}
		}()
	}
	wg.Wait()
	if oks != 1 || errs != 11 {
		t.Fatalf("%d completions succeeded, %d failed; want exactly one", oks, errs)
	}
}

func TestDispatchRemindedQueue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	yes := true
	q1 := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "queued low", Location: "a", IsQueued: &yes, Urgency: ptr(1)}))
	q2 := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "queued high", Location: "b", IsQueued: &yes, Urgency: ptr(3)}))
	mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "not queued", Location: "c"}))
	q, err := e.anon.Queue(ctx)
	if err != nil || len(q) != 2 || q[0].ID != q2.ID || q[1].ID != q1.ID {
		t.Fatalf("queue = %+v, %v", q, err)
	}
	// Service token only.
	assertStatus(t, e.anon.Dispatch(ctx, q1.ID), http.StatusUnauthorized)
	assertStatus(t, e.person(t, "alice").Dispatch(ctx, q1.ID), http.StatusForbidden)
	assertStatus(t, e.svc.Dispatch(ctx, 9999), http.StatusNotFound)
	e.clock.Advance(time.Minute)
	if err := e.svc.Dispatch(ctx, q1.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.anon.GetTask(ctx, q1.ID)
	if got.IsQueued || got.DispatchedAt == nil || !got.DispatchedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("dispatched = %+v", got)
	}
	if q, _ := e.anon.ListTasks(ctx, backendapi.TaskFilter{Status: backendapi.StatusQueued}); len(q) != 1 || q[0].ID != q2.ID {
		t.Fatalf("queued after dispatch = %+v", q)
	}
	assertStatus(t, e.anon.Reminded(ctx, q2.ID), http.StatusUnauthorized)
	if err := e.svc.Reminded(ctx, q2.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = e.anon.GetTask(ctx, q2.ID)
	if got.LastRemindedAt == nil || !got.LastRemindedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("reminded = %+v", got.LastRemindedAt)
	}
	var all []backendapi.AuditEntry
	if s := send(t, e, e.svc, http.MethodGet, "/tasks/audit?limit=2", nil, &all); s != 200 || len(all) != 2 || all[0].Action != "reminded" {
		t.Fatalf("global audit = %+v, %d", all, s)
	}
}

func ptr[T any](v T) *T { return &v }

func getJSON(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &backendapi.APIError{Method: "GET", Path: url, Status: resp.StatusCode}
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func TestCategoryDuplicates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "会議室の換気をお願いします", Description: "CO2 1200ppm",
		Zone: zone("meeting_room"), Location: "meeting_room", Urgency: ptr(2), TaskType: []string{"environment"}}))
	tests := []struct {
		name  string
		in    backendapi.CreateTask
		merge bool
	}{
		{"same category, same zone", backendapi.CreateTask{Title: "CO2濃度が高いので窓を開けてください", Description: "CO2 1500ppm",
			Zone: zone("meeting_room"), Location: "meeting_room", Urgency: ptr(3), TaskType: []string{"urgent"}}, true},
		{"same category, other zone", backendapi.CreateTask{Title: "換気してください", Zone: zone("kitchen"), Location: "kitchen"}, false},
		{"other category, same zone (description mentions CO2)", backendapi.CreateTask{Title: "室温を下げてください", Description: "CO2も高め",
			Zone: zone("meeting_room"), Location: "meeting_room"}, false},
		{"no category", backendapi.CreateTask{Title: "会議の準備", Zone: zone("meeting_room"), Location: "meeting_room"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustOK(t)(e.svc.CreateTask(ctx, tc.in))
			if (got.ID == first.ID) != tc.merge {
				t.Fatalf("merged = %v, want %v (%+v)", got.ID == first.ID, tc.merge, got)
			}
		})
	}
	merged, _ := e.anon.GetTask(ctx, first.ID)
	if merged.Title != first.Title || merged.Urgency != 3 || merged.Description != "CO2 1500ppm" ||
		!merged.HasType("environment") || !merged.HasType("urgent") {
		t.Fatalf("merged task = %+v", merged)
	}
}

func TestCategoryTable(t *testing.T) {
	tests := []struct{ title, desc, want string }{
		{"換気をお願いします", "", "ventilation"},
		{"Please open a window: CO2 is high", "", "ventilation"},
		{"室温が高すぎます", "CO2 900", "temperature"},
		{"確認してください", "湿度が70%", "humidity"},
		{"コーヒー豆を補充", "", "supplies_coffee"},
		{"トナーを交換", "", "supplies_printer"},
		{"床のゴミを片付けて", "", "cleaning"},
		{"センサーの電池交換", "", "device_check"},
		{"会議の準備", "", ""},
	}
	for _, tc := range tests {
		got := taskCategories(tc.title, tc.desc)
		if (tc.want == "" && len(got) != 0) || (tc.want != "" && (len(got) == 0 || got[0] != tc.want)) {
			t.Errorf("%q/%q: %v, want %q", tc.title, tc.desc, got, tc.want)
		}
	}
	if sharedCategory(taskCategories("コーヒー豆を補充", ""), taskCategories("トナーを補充", "")) != "" {
		t.Error("coffee and toner share a category")
	}
}

func TestExpirySweep(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exp := t0.Add(10 * time.Minute)
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x", ExpiresAt: &exp}))
	evs, stop := e.api.Hub().Subscribe(16)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- e.api.ExpiryLoop(time.Minute)(ctx) }()
	if err := e.clock.BlockUntil(ctx, 1); err != nil { // the loop's ticker is armed
		t.Fatal(err)
	}
	e.clock.Advance(11 * time.Minute)
	ev := awaitEvent(t, evs, EventTaskExpired)
	var got backendapi.Task
	if err := json.Unmarshal(ev.Data, &got); err != nil || got.ID != task.ID || got.Status != backendapi.StatusExpired {
		t.Fatalf("expired event = %s", ev.Data)
	}
	if active, _ := e.anon.ActiveTasks(ctx); len(active) != 0 {
		t.Fatalf("expired task still active: %+v", active)
	}
	audit, _ := e.svc.TaskAudit(ctx, task.ID)
	if len(audit) != 2 || audit[1].Action != "expired" {
		t.Fatalf("audit = %+v", audit)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func awaitEvent(t *testing.T, evs <-chan Event, typ string) Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatal("subscription closed")
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestTaskReportPublished(t *testing.T) {
	e := newEnvWith(t, envOpts{mqtt: true})
	ctx := context.Background()
	z := uniq("zone")
	watcher := connectBus(t, mqttacl.UserMonitor, "watcher")
	got := make(chan bus.Message, 4)
	if err := watcher.Subscribe(ctx, "office/"+z+"/task_report/#", 1, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	alice := e.person(t, "alice")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "換気", Zone: &z, Location: z}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
	mustOK(t)(alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{ReportStatus: "needs_followup", CompletionNote: "窓が開かない"}))
	select {
	case m := <-got:
		var rep backendapi.TaskReport
		if err := json.Unmarshal(m.Payload, &rep); err != nil {
			t.Fatal(err)
		}
		want := backendapi.TaskReport{TaskID: task.ID, Title: "換気", ReportStatus: "needs_followup", CompletionNote: "窓が開かない", Zone: z}
		if m.Topic != topic.TaskReport(z, "1") || rep != want {
			t.Fatalf("report %s %+v, want %+v", m.Topic, rep, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no task report on MQTT")
	}
}

// A list longer than one answer is read in pages: ?offset= skips in list
// order, and AllTasks reads every page once (the e2e economy checks hold more
// than the 1000 tasks one answer carries).
func TestListPages(t *testing.T) {
	e := newEnvWith(t, envOpts{server: true})
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 5; i++ {
		task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "page " + itoa(int64(i)), Location: "x"}))
		ids = append(ids, task.ID)
	}
	newest := func(ts []backendapi.Task) []int64 {
		out := []int64{}
		for _, tk := range ts {
			out = append(out, tk.ID)
		}
		return out
	}
	for _, tc := range []struct {
		limit, offset int
		want          []int64
	}{
		{2, 0, []int64{ids[4], ids[3]}},
		{2, 2, []int64{ids[2], ids[1]}},
		{2, 4, []int64{ids[0]}},
		{2, 5, []int64{}},
	} {
		ts, err := e.svc.ListTasks(ctx, backendapi.TaskFilter{Limit: tc.limit, Offset: tc.offset})
		if err != nil {
			t.Fatal(err)
		}
		if got := newest(ts); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("limit %d offset %d: %v, want %v", tc.limit, tc.offset, got, tc.want)
		}
	}
	for _, page := range []int{1, 2, 5, 0} {
		all, err := e.svc.AllTasks(ctx, backendapi.TaskFilter{Limit: page})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := newest(all), []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages of %d: %v, want %v", page, got, want)
		}
	}
	for _, bad := range []string{"-1", "x", "2147483648"} {
		if s := send(t, e, e.svc, http.MethodGet, "/tasks/?offset="+bad, nil, nil); s != http.StatusBadRequest {
			t.Errorf("offset %s: %d, want 400", bad, s)
		}
	}
}
