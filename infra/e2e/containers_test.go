package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/features"
	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/wallet"
)

// What only containers show: healthchecks, published ports, restarts, volumes,
// the backup and restore scripts. "Nothing lost" means what the system
// acknowledged — tasks created, completions, payments; QoS 0 telemetry may be
// lost by design.

// testHealthchecks: every healthcheck passes in its own container (Start
// waited for that); one-shot jobs finished successfully.
func testHealthchecks(t *testing.T) {
	ctx := context.Background()
	for _, name := range sys.Services() {
		in, err := sys.Inspect(ctx, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		st := in.State
		switch {
		case st.Health == nil && st.Status == "exited" && st.ExitCode == 0:
			// a one-shot job (test-model) that did its work
		case st.Health == nil:
			t.Errorf("%s has no healthcheck (state %s)", name, st.Status)
		case st.Health.Status != "healthy":
			t.Errorf("%s is %s", name, st.Health.Status)
		}
	}
}

// testExposure: PostgreSQL is published on loopback only and the wallet not at
// all; from another address of this host PostgreSQL does not answer.
func testExposure(t *testing.T) {
	ctx := context.Background()
	wal, err := sys.Inspect(ctx, "wallet")
	if err != nil {
		t.Fatal(err)
	}
	for port, bindings := range wal.NetworkSettings.Ports {
		if len(bindings) > 0 {
			t.Errorf("the wallet publishes %s on the host: %v", port, bindings)
		}
	}
	pg, err := sys.Inspect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	var hostPort string
	for port, bindings := range pg.NetworkSettings.Ports {
		for _, b := range bindings {
			if !b.HostIP.IsLoopback() {
				t.Errorf("postgres publishes %s on %s", port, b.HostIP)
			}
			hostPort = b.HostPort
		}
	}
	if hostPort == "" {
		t.Fatal("postgres is not published on loopback (the backup scripts and operators use it)")
	}
	ip := otherAddress(t)
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, hostPort), 2*time.Second)
	if err == nil {
		c.Close()
		t.Errorf("postgres answers on %s:%s, not only on loopback", ip, hostPort)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", hostPort), 2*time.Second); err != nil {
		t.Errorf("postgres does not answer on loopback: %v", err)
	} else {
		c.Close()
	}
}

// otherAddress is a non-loopback IPv4 address of this host.
func otherAddress(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Fatal("this host has no non-loopback IPv4 address to try")
	return ""
}

// testRestarts: `docker restart` of mosquitto, postgres and the wallet while
// people create, accept and complete tasks; afterwards every acknowledged
// task and completion is there, every completed task is paid exactly once,
// and the brain still turns a reading into a task.
func testRestarts(t *testing.T) {
	ctx := context.Background()
	e := newEconomy(t, ctx)
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
		errs []error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for _, svc := range []string{"mosquitto", "postgres", "wallet"} {
			time.Sleep(2 * time.Second) // let some work happen around each restart
			if err := sys.Restart(ctx, svc); err != nil {
				errs = append(errs, fmt.Errorf("restarting %s: %w", svc, err))
				return
			}
			t.Logf("restarted %s", svc)
		}
	}()
	acked := e.workUntil(ctx, done)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// A little more work once everything is back.
	more := e.work(ctx, 3)
	acked.add(more)
	if len(acked.completed) <= len(more.completed) {
		t.Fatal("no completion was acknowledged while the containers restarted")
	}
	t.Logf("acknowledged: %d tasks created, %d completed (%d operations refused during the restarts)", len(acked.created), len(acked.completed), acked.failures)
	e.checkNothingLost(t, ctx, acked)
	e.brainStillWorks(t, ctx)
}

// testDownUp: `docker compose down` then `up` keeps tasks and balances (named
// volumes).
func testDownUp(t *testing.T) {
	ctx := context.Background()
	e := newEconomy(t, ctx)
	e.work(ctx, 3)
	before := e.settledSnapshot(t, ctx)
	if err := sys.Down(ctx); err != nil {
		t.Fatal(err)
	}
	st := containerClock()
	if err := sys.Up(ctx, &st); err != nil {
		t.Fatal(err)
	}
	after, err := e.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before.mustEqual(t, after)
}

// testBackupRestore: backup.sh, then the volumes removed, then restore.sh
// give back the same tasks and balances. The scripts run as an operator runs
// them, with the Compose v2 CLI, against this stack's files and settings.
func testBackupRestore(t *testing.T) {
	ctx := context.Background()
	e := newEconomy(t, ctx)
	e.work(ctx, 3)
	before := e.settledSnapshot(t, ctx)

	dir := t.TempDir()
	envFile := filepath.Join(dir, "stack.env")
	if err := writeEnvFile(envFile, sys.Env()); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup")
	script(t, "backup.sh", envFile, "--no-models", backup)
	if err := sys.Down(ctx); err != nil {
		t.Fatal(err)
	}
	removeVolumes(t, ctx)
	script(t, "restore.sh", envFile, "--keep-env", backup)
	if err := sys.Reattach(); err != nil {
		t.Fatal(err)
	}
	// The restored broker holds the clock retained at backup time; start
	// this one from where the tests are.
	if err := sys.SetClock(ctx, containerClock()); err != nil {
		t.Fatal(err)
	}
	after, err := e.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before.mustEqual(t, after)
}

// script runs infra/scripts/NAME against this stack.
func script(t *testing.T, name, envFile string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "scripts", name), args...)
	cmd.Env = append(os.Environ(),
		"COMPOSE_PROJECT="+sys.Project(),
		"COMPOSE_FILES="+strings.Join(sys.Files(), " "),
		"ENV_FILE="+envFile,
		"ALPINE_IMAGE=soms-local/debian:bookworm", // the scripts need sh, find and tar
	)
	out, err := cmd.CombinedOutput()
	t.Logf("%s:\n%s", name, out)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func writeEnvFile(path string, env map[string]string) error {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// removeVolumes deletes every named volume of the project.
func removeVolumes(t *testing.T, ctx context.Context) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+sys.Project()).Output()
	if err != nil {
		t.Fatal(err)
	}
	vols := strings.Fields(string(out))
	if len(vols) == 0 {
		t.Fatal("the project has no volumes to remove")
	}
	if out, err := exec.CommandContext(ctx, "docker", append([]string{"volume", "rm"}, vols...)...).CombinedOutput(); err != nil {
		t.Fatalf("docker volume rm: %v\n%s", err, out)
	}
	t.Logf("removed volumes %v", vols)
}

// containerClock runs the office at 10× from 10:00: slow enough that no
// demurrage period (UTC midnight) or task expiry falls inside a check.
func containerClock() clock.State {
	st := features.Start()
	st.SimTime = st.SimTime.Add(time.Hour)
	st.Speed = 10
	st.WallTime = time.Now()
	return st
}

// economy is the part of the office the container checks drive: people who
// create, accept and complete tasks, and the wallet that pays them.
type economy struct {
	svc    *backendapi.Client // the internal service token
	wallet *wallet.Client
	people []person
}

type person struct {
	user backendapi.User
	dash *backendapi.Client
}

func newEconomy(t testing.TB, ctx context.Context) *economy {
	t.Helper()
	if err := sys.Reset(ctx, containerClock()); err != nil {
		t.Fatal(err)
	}
	e := &economy{
		svc:    backendapi.NewClient(sys.URL("backend"), sys.Token()),
		wallet: wallet.NewClient(sys.URL("wallet"), sys.Token(), nil), // the wallet answers services only
	}
	anon := backendapi.NewClient(sys.URL("backend"), "")
	for _, name := range []string{"hanako", "taro", "yuki"} {
		tok, err := anon.Register(ctx, backendapi.Register{Username: name, Password: "correct-horse-" + name, DisplayName: name})
		if err != nil {
			t.Fatalf("registering %s: %v", name, err)
		}
		e.people = append(e.people, person{user: tok.User, dash: anon.WithBearer(tok.AccessToken)})
	}
	return e
}

// acked is what the system acknowledged (a 2xx answer).
type acked struct {
	created   []int64
	completed map[int64]int64 // task → who completed it
	failures  int
}

func (a *acked) add(b acked) {
	a.created = append(a.created, b.created...)
	for k, v := range b.completed {
		a.completed[k] = v
	}
	a.failures += b.failures
}

// cycle creates a task, has someone accept and complete it, and records what
// was acknowledged; a refused step ends the cycle (the service may be down).
func (e *economy) cycle(ctx context.Context, i int, a *acked) bool {
	bounty := 500 + 10*(i%400) // the backend's range: 500–5000
	title := "Restock the printer paper #" + strconv.Itoa(i)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	task, err := e.svc.CreateTask(ctx, backendapi.CreateTask{Title: title, Description: "container check", Location: "main", Bounty: &bounty})
	if err != nil {
		a.failures++
		return false
	}
	a.created = append(a.created, task.ID)
	p := e.people[i%len(e.people)]
	if _, err := p.dash.AcceptTask(ctx, task.ID, p.user.ID); err != nil {
		a.failures++
		return false
	}
	if _, err := p.dash.CompleteTask(ctx, task.ID, backendapi.CompleteTask{ReportStatus: "resolved"}); err != nil {
		a.failures++
		return false
	}
	a.completed[task.ID] = p.user.ID
	return true
}

func (e *economy) work(ctx context.Context, n int) acked {
	a := acked{completed: map[int64]int64{}}
	for i := 0; i < n; i++ {
		e.cycle(ctx, i, &a)
	}
	return a
}

// workUntil runs cycles until done is closed, backing off while a service is
// down as a client would.
func (e *economy) workUntil(ctx context.Context, done <-chan struct{}) acked {
	a := acked{completed: map[int64]int64{}}
	retry := backoff.New(clock.Wall{}, backoff.Policy{Min: 50 * time.Millisecond, Max: time.Second})
	for i := 1000; ; i++ {
		select {
		case <-done:
			return a
		default:
		}
		if e.cycle(ctx, i, &a) {
			retry.Reset()
		} else if err := retry.Wait(ctx, retry.Next()); err != nil {
			return a
		}
	}
}

// snapshot is what must survive: every task's state and every person's
// balance.
type snapshot struct {
	tasks    map[int64]string // id → "status assignee bounty"
	balances map[int64]int64  // person → milli-credits
}

func (e *economy) snapshot(ctx context.Context) (snapshot, error) {
	s := snapshot{tasks: map[int64]string{}, balances: map[int64]int64{}}
	ts, err := e.svc.AllTasks(ctx, backendapi.TaskFilter{})
	if err != nil {
		return s, err
	}
	for _, t := range ts {
		who := int64(0)
		if t.AssignedTo != nil {
			who = *t.AssignedTo
		}
		s.tasks[t.ID] = fmt.Sprintf("%s %d %d", t.Status, who, t.Bounty)
	}
	for _, p := range e.people {
		w, err := e.wallet.Wallet(ctx, p.user.ID)
		switch {
		case httpx.IsStatus(err, http.StatusNotFound):
			s.balances[p.user.ID] = 0
		case err != nil:
			return s, err
		default:
			s.balances[p.user.ID] = w.Balance
		}
	}
	return s, nil
}

// owed is what each person must hold: the bounties of the tasks the backend
// shows completed by them, each paid once.
func (s snapshot) owed(ts []backendapi.Task) map[int64]int64 {
	out := map[int64]int64{}
	for _, t := range ts {
		if t.IsCompleted && t.AssignedTo != nil {
			out[*t.AssignedTo] += int64(t.Bounty) * wallet.MilliPerCredit
		}
	}
	return out
}

// settled waits until every completed task is paid (payments are retried
// asynchronously) and returns the snapshot; it fails when a balance is
// still wrong after two minutes.
func (e *economy) settledSnapshot(t *testing.T, ctx context.Context) snapshot {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		s, err := e.snapshot(ctx)
		var ts []backendapi.Task
		if err == nil {
			ts, err = e.svc.AllTasks(ctx, backendapi.TaskFilter{})
		}
		var wrong []string
		if err == nil {
			owed := s.owed(ts)
			for _, p := range e.people {
				if got, want := s.balances[p.user.ID], owed[p.user.ID]; got != want {
					wrong = append(wrong, fmt.Sprintf("%s holds %d, is owed %d", p.user.Username, got, want))
				}
			}
			if len(wrong) == 0 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("payments did not settle within 2 minutes: %v %v", err, wrong)
		}
		time.Sleep(time.Second) // polling the product's public API; no event to await
	}
}

func (s snapshot) mustEqual(t *testing.T, after snapshot) {
	t.Helper()
	for id, st := range s.tasks {
		if after.tasks[id] != st {
			t.Errorf("task #%d was %q, is %q", id, st, after.tasks[id])
		}
	}
	if len(after.tasks) != len(s.tasks) {
		t.Errorf("%d tasks before, %d after", len(s.tasks), len(after.tasks))
	}
	for id, b := range s.balances {
		if after.balances[id] != b {
			t.Errorf("person %d held %d, holds %d", id, b, after.balances[id])
		}
	}
}

// checkNothingLost: every acknowledged task exists, every acknowledged
// completion is completed by the same person, and balances equal the
// bounties of completed tasks exactly once.
func (e *economy) checkNothingLost(t *testing.T, ctx context.Context, a acked) {
	t.Helper()
	e.settledSnapshot(t, ctx)
	ts, err := e.svc.AllTasks(ctx, backendapi.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]backendapi.Task{}
	for _, tk := range ts {
		byID[tk.ID] = tk
	}
	for _, id := range a.created {
		if _, ok := byID[id]; !ok {
			t.Errorf("acknowledged task #%d is gone", id)
		}
	}
	for id, who := range a.completed {
		tk := byID[id]
		if !tk.IsCompleted || tk.AssignedTo == nil || *tk.AssignedTo != who {
			t.Errorf("acknowledged completion of #%d by %d is lost: %+v", id, who, tk)
		}
	}
}

// brainStillWorks: after the broker and database came back, a CO2 reading
// still becomes a ventilation task (the brain and the edge reconnected).
func (e *economy) brainStillWorks(t *testing.T, ctx context.Context) {
	t.Helper()
	api := httpx.Client{HTTP: &http.Client{Timeout: 10 * time.Second}}
	if err := api.Do(ctx, http.MethodPatch, sys.URL("edge")+"/zones/kitchen", map[string]any{"co2": 1500, "people": 3}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		ts, err := e.svc.ListTasks(ctx, backendapi.TaskFilter{Zone: "kitchen"})
		if err == nil {
			for _, tk := range ts {
				if tk.HasType("environment") {
					return
				}
			}
		}
		time.Sleep(time.Second) // polling the product's public API
	}
	t.Error("no environment task for the kitchen's 1500 ppm within 3 minutes after the restarts")
}
