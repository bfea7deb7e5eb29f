package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/harness"
)

// process carries out a process step. A kill is asked for: the harness
// does not restart it, and it is no crash of the run.
func (r *run) process(ctx context.Context, p *ProcessStep) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	switch p.Action {
	case ProcessKill:
		return r.target.Kill(ctx, p.Name)
	case ProcessStart:
		return r.target.Start(ctx, p.Name)
	case ProcessRestart:
		return r.target.Restart(ctx, p.Name)
	}
	return fmt.Errorf("process action %q", p.Action)
}

// person is an account complete_task steps act as.
type person struct {
	user backendapi.User
	dash *backendapi.Client
}

// account is name's account, registered on first use (in a running office
// an earlier run may have registered it: then it logs in).
func (r *run) account(ctx context.Context, name string) (*person, error) {
	if p, ok := r.people[name]; ok {
		return p, nil
	}
	backend := r.target.URL(harness.Backend)
	dash, pass := backendapi.NewClient(backend, ""), "scenario-"+name+"-password"
	tok, err := dash.Register(ctx, backendapi.Register{Username: name, Password: pass, DisplayName: name})
	if httpx.IsStatus(err, http.StatusConflict) {
		if tok, err = dash.Login(ctx, name, pass); err == nil {
			err = r.obs.noteLedger(ctx, tok.User.ID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registering %s: %w", name, err)
	}
	p := &person{user: tok.User, dash: backendapi.NewClient(backend, "").WithBearer(tok.AccessToken)}
	r.people[name] = p
	r.obs.watchLedger(tok.User.ID)
	return p, nil
}

// completeTask has a person accept and complete the oldest open task that
// matches, as on the dashboard (a queued task is dispatched first, as the
// brain would).
func (r *run) completeTask(ctx context.Context, c *CompleteTaskStep) error {
	p, err := r.account(ctx, c.Person)
	if err != nil {
		return err
	}
	service := backendapi.NewClient(r.target.URL(harness.Backend), r.target.Token())
	tasks, err := service.AllTasks(ctx, backendapi.TaskFilter{Zone: c.Zone, Status: backendapi.StatusOpen})
	if err != nil {
		return err
	}
	slices.SortFunc(tasks, func(a, b backendapi.Task) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, t := range tasks {
		if r.obs.existed(t.ID) || t.IsCompleted || t.AssignedTo != nil || !strings.Contains(strings.ToLower(t.Title), strings.ToLower(c.Title)) {
			continue
		}
		if t.IsQueued {
			if err := service.Dispatch(ctx, t.ID); err != nil {
				return fmt.Errorf("dispatching #%d: %w", t.ID, err)
			}
		}
		if _, err := p.dash.AcceptTask(ctx, t.ID, p.user.ID); err != nil {
			return fmt.Errorf("%s accepting #%d: %w", c.Person, t.ID, err)
		}
		if _, err := p.dash.CompleteTask(ctx, t.ID, backendapi.CompleteTask{ReportStatus: backendapi.ReportResolved}); err != nil {
			return fmt.Errorf("%s completing #%d: %w", c.Person, t.ID, err)
		}
		r.obs.completed(t.ID)
		return nil
	}
	return errors.New("no open task matches")
}
