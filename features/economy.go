package features

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/wallet"
	"github.com/somsgo/soms/sim/harness"
)

// person is someone with a dashboard account in a scenario.
type person struct {
	user backendapi.User
	dash *backendapi.Client // signed in as them
}

func (o *office) registerEconomy(sc *godog.ScenarioContext) {
	sc.Step(`^"([^"]+)" has an account on the dashboard$`, o.hasAccount)
	sc.Step(`^"([^"]+)" accepts the ventilation task for "([^"]+)"$`, o.acceptsVentilation)
	sc.Step(`^"([^"]+)" completes it reporting "([^"]+)" with the note "([^"]+)"$`, o.completes)
	sc.Step(`^within (\d+) simulated minutes "([^"]+)"'s wallet holds the task's reward$`, o.walletHoldsReward)
	sc.Step(`^completing it again does not pay "([^"]+)" twice$`, o.completeAgain)
	sc.Step(`^within (\d+) simulated minutes the brain hears the report "([^"]+)" for "([^"]+)"$`, o.brainHearsReport)
	sc.Step(`^a service posts the task "([^"]+)" for "([^"]+)" (\d+) times?$`, o.servicePostsTask)
	sc.Step(`^the dashboard lists (\d+) tasks? titled "([^"]+)" for "([^"]+)"$`, o.listsTasksTitled)
	sc.Step(`^posting a task without the service token is refused with (\d+)$`, o.postWithoutToken)
	sc.Step(`^accepting the task "([^"]+)" without signing in is refused with (\d+)$`, o.acceptAnonymously)
	sc.Step(`^"([^"]+)" accepting the task "([^"]+)" for "([^"]+)" is refused with (\d+)$`, o.acceptForOther)
}

func (o *office) hasAccount(ctx context.Context, name string) error {
	tok, err := o.dash.Register(ctx, backendapi.Register{Username: name, Password: "correct-horse-" + name, DisplayName: name})
	if err != nil {
		return fmt.Errorf("registering %s: %w", name, err)
	}
	o.people[name] = &person{user: tok.User, dash: backendapi.NewClient(o.sys.URL(harness.Backend), "").WithBearer(tok.AccessToken)}
	return nil
}

func (o *office) who(name string) (*person, error) {
	p, ok := o.people[name]
	if !ok {
		return nil, fmt.Errorf("%s has no account in this scenario", name)
	}
	return p, nil
}

func (o *office) acceptsVentilation(ctx context.Context, name, zone string) error {
	p, err := o.who(name)
	if err != nil {
		return err
	}
	ts, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
	if err != nil {
		return err
	}
	for _, t := range ts {
		if isVentilation(t) {
			if t.IsQueued {
				if err := backendapi.NewClient(o.sys.URL(harness.Backend), o.sys.Token()).Dispatch(ctx, t.ID); err != nil {
					return err
				}
			}
			got, err := p.dash.AcceptTask(ctx, t.ID, p.user.ID)
			if err != nil {
				return fmt.Errorf("%s accepting #%d: %w", name, t.ID, err)
			}
			o.task = &got
			return nil
		}
	}
	return fmt.Errorf("no ventilation task for %s", zone)
}

func (o *office) completes(ctx context.Context, name, status, note string) error {
	p, err := o.who(name)
	if err != nil {
		return err
	}
	if o.task == nil {
		return errors.New("no task was accepted")
	}
	_, err = p.dash.CompleteTask(ctx, o.task.ID, backendapi.CompleteTask{ReportStatus: status, CompletionNote: note})
	return err
}

func (o *office) walletClient() *wallet.Client {
	// The wallet answers services only (people read theirs through the
	// backend); the suite observes as a service.
	return wallet.NewClient(o.sys.URL(harness.Wallet), o.sys.Token(), nil)
}

func (o *office) walletHoldsReward(ctx context.Context, minutes int, name string) error {
	p, err := o.who(name)
	if err != nil {
		return err
	}
	want := int64(o.task.Bounty) * wallet.MilliPerCredit
	var got int64 = -1
	err = o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		w, err := o.walletClient().Wallet(ctx, p.user.ID)
		if httpx.IsStatus(err, http.StatusNotFound) {
			return false, nil // opened with the first payment
		}
		if err != nil {
			return false, err
		}
		got = w.Balance
		return got == want, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("%s's balance is %d milli-credits, want %d (bounty %d): %w", name, got, want, o.task.Bounty, err)
	}
	return err
}

func (o *office) completeAgain(ctx context.Context, name string) error {
	p, err := o.who(name)
	if err != nil {
		return err
	}
	_, err = p.dash.CompleteTask(ctx, o.task.ID, backendapi.CompleteTask{ReportStatus: "resolved"})
	var ae *backendapi.APIError
	if err == nil || !errors.As(err, &ae) || ae.Status/100 != 4 {
		return fmt.Errorf("completing a completed task: %v, want a 4xx refusal", err)
	}
	// Give a wrong second payment every chance to land, then look.
	if err := o.waitSim(ctx, 2*time.Minute); err != nil {
		return err
	}
	w, err := o.walletClient().Wallet(ctx, p.user.ID)
	if err != nil {
		return err
	}
	if want := int64(o.task.Bounty) * wallet.MilliPerCredit; w.Balance != want {
		return fmt.Errorf("balance %d after a second completion, want %d", w.Balance, want)
	}
	return nil
}

// waitSim lets d of simulated time pass.
func (o *office) waitSim(ctx context.Context, d time.Duration) error {
	err := o.within(ctx, d, func() (bool, error) { return false, nil })
	if errTimedOut(err) {
		return nil
	}
	return err
}

func (o *office) brainHearsReport(ctx context.Context, minutes int, status, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var evs []struct {
			Zone string         `json:"zone"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/world/events", nil, &evs); err != nil {
			return false, err
		}
		for _, e := range evs {
			if e.Type == "task_report" && e.Zone == zone && e.Data["report_status"] == status {
				return true, nil
			}
		}
		return false, nil
	})
}

func (o *office) servicePostsTask(ctx context.Context, title, zone string, n int) error {
	svc := backendapi.NewClient(o.sys.URL(harness.Backend), o.sys.Token())
	for i := range n {
		z := zone
		if _, err := svc.CreateTask(ctx, backendapi.CreateTask{Title: title, Description: fmt.Sprintf("依頼 %d", i+1), Location: zone, Zone: &z}); err != nil {
			return err
		}
	}
	return nil
}

func (o *office) listsTasksTitled(ctx context.Context, n int, title, zone string) error {
	ts, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
	if err != nil {
		return err
	}
	got := 0
	for _, t := range ts {
		if t.Title == title {
			got++
			o.task = &t
		}
	}
	if got != n {
		return fmt.Errorf("%d tasks titled %q for %s, want %d", got, title, zone, n)
	}
	return nil
}

func wantStatus(err error, status int) error {
	var ae *backendapi.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("got %v, want HTTP %d", err, status)
	}
	if ae.Status != status {
		return fmt.Errorf("got HTTP %d (%s), want %d", ae.Status, ae.Message, status)
	}
	if strings.TrimSpace(ae.Message) == "" {
		return fmt.Errorf("HTTP %d without a message", status)
	}
	return nil
}

func (o *office) postWithoutToken(ctx context.Context, status int) error {
	_, err := o.dash.CreateTask(ctx, backendapi.CreateTask{Title: "勝手なタスク", Description: "x"})
	return wantStatus(err, status)
}

func (o *office) taskID(ctx context.Context, title string) (int64, error) {
	ts, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{})
	if err != nil {
		return 0, err
	}
	for _, t := range ts {
		if t.Title == title {
			return t.ID, nil
		}
	}
	return 0, fmt.Errorf("no task titled %q", title)
}

func (o *office) acceptAnonymously(ctx context.Context, title string, status int) error {
	id, err := o.taskID(ctx, title)
	if err != nil {
		return err
	}
	_, err = o.dash.AcceptTask(ctx, id, 1)
	return wantStatus(err, status)
}

func (o *office) acceptForOther(ctx context.Context, name, title, other string, status int) error {
	p, err := o.who(name)
	if err != nil {
		return err
	}
	q, err := o.who(other)
	if err != nil {
		return err
	}
	id, err := o.taskID(ctx, title)
	if err != nil {
		return err
	}
	_, err = p.dash.AcceptTask(ctx, id, q.user.ID)
	return wantStatus(err, status)
}
