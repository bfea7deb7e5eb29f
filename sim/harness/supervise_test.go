package harness

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/scene"

	"github.com/somsgo/soms/internal/backendapi"
)

// somsBinary builds the soms binary once for the tests that run a real stack
// (as features/ does).
var somsBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "soms-harness-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "soms")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/soms")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building soms: %w", err)
	}
	return bin, nil
})

// TestSupervision runs the real native stack (Mosquitto, PostgreSQL, every
// service but the cameras) on the closed-loop clock and crashes its parts: a
// service that dies on its own is restarted and rejoins the clock; one killed
// on request stays down without holding the clock, and starts again; a
// broker that dies is restarted, the clock's step is published again and
// every process follows it on, a service started after it too; a database
// that dies is restarted and the services answer again.
func TestSupervision(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole stack; skipped with -short")
	}
	bin, err := somsBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s, err := Start(ctx, Options{Binary: bin, Start: start, Seed: 1, LogLevel: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	}()
	dumpOnFailure(t, s)

	// run advances the clock a minute and requires every process named to
	// have handled it.
	run := func(t *testing.T, want []string) {
		t.Helper()
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		defer rcancel()
		to := s.Stepper.State().SimTime.Add(time.Minute)
		if err := s.Stepper.RunUntil(rctx, to); err != nil {
			t.Fatalf("the clock did not reach %s: %v (waiting for %v)", to.Format(time.TimeOnly), err, s.Stepper.Processes())
		}
		if got := s.Stepper.Processes(); !subset(want, got) {
			t.Fatalf("processes following the clock: %v; want at least %v", got, want)
		}
	}
	run(t, nil)
	all := s.Stepper.Processes()
	for _, name := range []string{Backend, Brain, Edge, Wallet} {
		if !slices.Contains(all, name) {
			t.Fatalf("%s does not follow the clock: %v", name, all)
		}
	}

	t.Run("a crashed service is restarted", func(t *testing.T) {
		p := s.proc(Wallet)
		if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitIncident(t, ctx, s, Wallet, "restarted")
		if s.proc(Wallet) == p {
			t.Fatal("the wallet's process was not replaced")
		}
		if err := s.waitReady(ctx, Wallet); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-s.Failed():
			t.Logf("reported: %.80s…", err)
		default:
			t.Fatal("the crash was not reported on Failed")
		}
		run(t, all)
	})

	t.Run("a killed service stays down without holding the clock", func(t *testing.T) {
		if err := s.Kill(Wallet); err != nil {
			t.Fatal(err)
		}
		run(t, without(all, Wallet))
		if slices.Contains(s.Stepper.Processes(), Wallet) {
			t.Fatal("the killed wallet still follows the clock")
		}
		if done, _ := s.proc(Wallet).Exited(); !done {
			t.Fatal("the killed wallet was restarted")
		}
		if err := s.StartProcess(ctx, Wallet); err != nil {
			t.Fatal(err)
		}
		run(t, all)
	})

	t.Run("a crashed broker is restarted and the clock goes on", func(t *testing.T) {
		// Without its saved state the broker comes back empty: what is
		// retained after the restart was published again.
		if err := os.RemoveAll(filepath.Join(s.Dir, "mosquitto", "data", "mosquitto.db")); err != nil {
			t.Fatal(err)
		}
		if err := s.Broker().Kill(); err != nil { // behind the supervisor's back: a crash
			t.Fatal(err)
		}
		waitIncident(t, ctx, s, Mosquitto, "restarted")
		run(t, all)
		retained := map[string]bool{}
		var mu sync.Mutex
		got := make(chan struct{}, 1)
		mon := bus.New(s.MQTT(mqttacl.UserMonitor), "supervise-test", slog.New(slog.DiscardHandler), nil)
		defer mon.Close()
		for _, filter := range []string{topic.SimClock, scene.Topic("+")} {
			if err := mon.Subscribe(ctx, filter, 1, func(m bus.Message) {
				mu.Lock()
				retained[m.Topic] = true
				mu.Unlock()
				select {
				case got <- struct{}{}:
				default:
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{topic.SimClock, scene.Topic("meeting_room"), scene.Topic("main")}
		deadline := time.After(20 * time.Second)
		for {
			mu.Lock()
			have := slices.Collect(maps.Keys(retained))
			mu.Unlock()
			if subset(want, have) {
				break
			}
			select {
			case <-got:
			case <-deadline:
				t.Fatalf("retained after the broker restart: %v; want %v", have, want)
			}
		}
		// A service started after the restart finds the clock's step.
		if err := s.Restart(ctx, Edge); err != nil {
			t.Fatal(err)
		}
		run(t, all)
	})

	t.Run("a crashed database is restarted", func(t *testing.T) {
		if err := s.Postgres().Kill(); err != nil {
			t.Fatal(err)
		}
		waitIncident(t, ctx, s, Postgres, "restarted")
		client := backendapi.NewClient(s.URL(Backend), "")
		deadline := time.Now().Add(time.Minute)
		for {
			_, err := client.ListTasks(ctx, backendapi.TaskFilter{Limit: 1})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the backend does not answer after the database restart: %v", err)
			}
			time.Sleep(200 * time.Millisecond) // polling a real server; nothing to wait on
		}
		run(t, all)
	})
}

// waitIncident waits until the supervisor records what for process.
func waitIncident(t *testing.T, ctx context.Context, s *Stack, process, what string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, in := range s.Incidents() {
			if in.Process == process && in.What == what {
				return
			}
		}
		time.Sleep(100 * time.Millisecond) // the supervisor restarts in wall time
	}
	t.Fatalf("no %q incident for %s; incidents: %+v", what, process, s.Incidents())
}

func dumpOnFailure(t *testing.T, s *Stack) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, name := range append(s.names(), Mosquitto, Postgres) {
			t.Logf("--- %s\n%s", name, joinLines(s.Logs(name, 15)))
		}
		t.Logf("incidents: %+v\nclock: %+v", s.Incidents(), s.Stepper.Stats())
	})
}

func joinLines(l []string) string {
	out := ""
	for _, x := range l {
		out += x + "\n"
	}
	return out
}

func subset(want, got []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func without(l []string, name string) []string {
	return slices.DeleteFunc(slices.Clone(l), func(x string) bool { return x == name })
}
