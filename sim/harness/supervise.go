package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/childproc"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/localinfra"
)

// Infrastructure names, as in Logs, Kill, Stop, Start and Restart.
const (
	Mosquitto = "mosquitto"
	Postgres  = "postgres"
)

// restartPolicy spaces out the restarts of something that keeps dying; a
// process that ran for restartReset starts over at the shortest delay.
var restartPolicy = backoff.Policy{Min: 500 * time.Millisecond, Max: 30 * time.Second}

const restartReset = time.Minute

var errUnknownProcess = errors.New("no such process in this stack")

// managed is one service process the harness supervises.
type managed struct {
	svc     service
	env     []string
	proc    *childproc.Proc
	started time.Time
	// held: stopped on purpose (Kill, Stop), not restarted until Start.
	held bool
	bo   *backoff.Backoff
}

// Incident is something the supervisor saw or did: a process that died on
// its own and its restart, or one a fault scenario killed.
type Incident struct {
	Wall    time.Time `json:"wall"`
	Sim     time.Time `json:"sim"`
	Process string    `json:"process"`
	// What: "crashed", "restarted", "killed", "stopped", "started".
	What string `json:"what"`
	Err  string `json:"error,omitempty"`
}

// Incidents lists what the supervisor saw and did, oldest first.
func (s *Stack) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Incident(nil), s.incidents...)
}

func (s *Stack) incident(process, what string, err error) {
	in := Incident{Wall: time.Now(), Sim: s.Clock.Now(), Process: process, What: what}
	if err != nil {
		in.Err = err.Error()
	}
	s.mu.Lock()
	s.incidents = append(s.incidents, in)
	s.mu.Unlock()
}

// proc is the running process of a service (nil if none).
func (s *Stack) proc(name string) *childproc.Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.procs[name]; m != nil {
		return m.proc
	}
	return nil
}

// launch starts m's process and watches it.
func (s *Stack) launch(m *managed) error {
	p, err := childproc.Start(childproc.Spec{Name: m.svc.name, Path: s.opts.Binary, Args: []string{m.svc.name}, Env: m.env, Dir: s.Dir}, s.out)
	if err != nil {
		return err
	}
	s.mu.Lock()
	m.proc, m.started, m.held = p, time.Now(), false
	if m.bo == nil {
		m.bo = backoff.New(clock.Wall{}, restartPolicy)
	}
	s.mu.Unlock()
	go s.watch(m, p)
	return nil
}

// watch restarts a service that exits without being asked to, with back-off,
// and says so. The clock stops waiting for it meanwhile; it rejoins when it
// acknowledges a step again.
func (s *Stack) watch(m *managed, p *childproc.Proc) {
	<-p.Done()
	name := m.svc.name
	s.mu.Lock()
	gone := s.stopping || m.held || m.proc != p || !p.Unexpected()
	ran := time.Since(m.started)
	s.mu.Unlock()
	if gone {
		return
	}
	s.Stepper.Forget(name)
	_, err := p.Exited()
	s.incident(name, "crashed", err)
	s.fail(fmt.Errorf("%s exited unexpectedly (%v); last output:\n%s", name, err, strings.Join(p.Logs(30), "\n")))
	if ran > restartReset {
		m.bo.Reset()
	}
	d := m.bo.Next()
	s.log.Warn("service exited unexpectedly; restarting", "service", name, "err", err, "after", ran.Round(time.Millisecond), "in", d)
	if m.bo.Wait(s.supervising, d) != nil { // wall time: the supervisor is outside the simulation
		return
	}
	s.mu.Lock()
	gone = s.stopping || m.held || m.proc != p
	s.mu.Unlock()
	if gone {
		return
	}
	if err := s.launch(m); err != nil {
		s.log.Error("service could not be restarted", "service", name, "err", err)
		return
	}
	s.incident(name, "restarted", nil)
	s.log.Info("service restarted", "service", name, "failures", m.bo.Failures())
}

// fail reports an unexpected death on Failed, if anyone listens.
func (s *Stack) fail(err error) {
	select {
	case s.failed <- err:
	default:
	}
}

// halt stops m's process with sig (SIGTERM: gracefully; SIGKILL: a crash)
// and keeps it down.
func (s *Stack) halt(m *managed, sig syscall.Signal) error {
	s.mu.Lock()
	m.held = true
	p := m.proc
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.Stop(sig, 10*time.Second)
}

// Kill kills a service, the broker (Mosquitto) or the database (Postgres) at
// once, as a crash would, and keeps it down until Start: the fault a
// scenario asks for.
func (s *Stack) Kill(name string) error { return s.bring(context.Background(), name, "killed") }

// StopProcess stops a service, the broker or the database gracefully and
// keeps it down until Start.
func (s *Stack) StopProcess(name string) error {
	return s.bring(context.Background(), name, "stopped")
}

// StartProcess starts a service, the broker or the database that Kill or
// StopProcess brought down, and waits until it is ready.
func (s *Stack) StartProcess(ctx context.Context, name string) error {
	return s.bring(ctx, name, "started")
}

// Restart stops (gracefully) and starts a service, the broker or the
// database, and waits until it is ready.
func (s *Stack) Restart(ctx context.Context, name string) error {
	if err := s.bring(ctx, name, "stopped"); err != nil {
		return err
	}
	return s.bring(ctx, name, "started")
}

// bring takes name to state what: killed, stopped or started.
func (s *Stack) bring(ctx context.Context, name, what string) error {
	var err error
	switch name {
	case Mosquitto, Postgres:
		err = s.bringInfra(ctx, name, what)
	default:
		s.mu.Lock()
		m := s.procs[name]
		s.mu.Unlock()
		if m == nil {
			return fmt.Errorf("%w: %q (services: %s; infrastructure: %s, %s)", errUnknownProcess, name, strings.Join(s.names(), ", "), Mosquitto, Postgres)
		}
		switch what {
		case "killed":
			err = s.halt(m, syscall.SIGKILL)
			s.Stepper.Forget(name)
		case "stopped":
			err = s.halt(m, syscall.SIGTERM)
			s.Stepper.Forget(name)
		default:
			if p := s.proc(name); p != nil {
				if done, _ := p.Exited(); !done {
					return fmt.Errorf("%s is running", name)
				}
			}
			s.Stepper.Expect(name)
			if err = s.launch(m); err == nil {
				err = s.waitReady(ctx, name)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, name, err)
	}
	s.incident(name, what, nil)
	s.log.Info("process "+what+" on request", "process", name)
	return nil
}

func (s *Stack) names() []string {
	var out []string
	for _, svc := range s.active() {
		out = append(out, svc.name)
	}
	return out
}

// bringInfra kills, stops or starts the broker or the database.
func (s *Stack) bringInfra(ctx context.Context, name, what string) error {
	s.mu.Lock()
	s.held[name] = what != "started"
	b, pg := s.broker, s.postgres
	if what != "started" {
		// This instance goes down on purpose, whenever its supervisor gets
		// to look: a restart may already have cleared held by then.
		s.downOnPurpose[name] = s.infraLocked(name)
	}
	s.mu.Unlock()
	switch what {
	case "killed":
		if name == Mosquitto {
			return b.Kill()
		}
		return pg.Kill()
	case "stopped":
		if name == Mosquitto {
			return b.Stop()
		}
		return pg.Stop()
	}
	return s.startInfra(ctx, name)
}

// startInfra starts the broker (same port, passwords and persistence) or the
// database (same data directory) again and supervises it. Clients reconnect
// on their own; the retained state is published again when they do (the
// clock's step by the harness, the scenes by the edge).
func (s *Stack) startInfra(ctx context.Context, name string) error {
	s.mu.Lock()
	b, pg := s.broker, s.postgres
	s.mu.Unlock()
	if name == Mosquitto {
		select {
		case <-b.Done():
		default:
			return errors.New("the broker is running")
		}
		nb, err := localinfra.StartBrokerWith(ctx, filepath.Join(s.Dir, "mosquitto"), b, s.out)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.broker = nb
		s.mu.Unlock()
		go s.superviseBroker(nb)
		return nil // the clock's step is published again on reconnection (Start)
	}
	select {
	case <-pg.Done():
	default:
		return errors.New("the database is running")
	}
	npg, err := localinfra.StartPostgres(ctx, filepath.Join(s.Dir, "postgres"), pg.Port, s.out)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.postgres = npg
	s.mu.Unlock()
	go s.supervisePostgres(npg)
	return nil
}

// superviseInfra watches the broker and the database.
func (s *Stack) superviseInfra() {
	go s.superviseBroker(s.Broker())
	go s.supervisePostgres(s.Postgres())
}

func (s *Stack) superviseBroker(b *localinfra.Broker) {
	<-b.Done()
	s.restartInfra(Mosquitto, b)
}

func (s *Stack) supervisePostgres(pg *localinfra.Postgres) {
	<-pg.Done()
	s.restartInfra(Postgres, pg)
}

// infraLocked is the running instance of the broker or the database.
func (s *Stack) infraLocked(name string) any {
	if name == Mosquitto {
		return s.broker
	}
	return s.postgres
}

// restartInfra brings back the broker or the database after instance died
// on its own, with back-off. An instance brought down on purpose (Kill,
// Stop, Restart) or already replaced is left alone.
func (s *Stack) restartInfra(name string, instance any) {
	bo := backoff.New(clock.Wall{}, restartPolicy)
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		gone := s.stopping || s.held[name] || s.downOnPurpose[name] == instance || s.infraLocked(name) != instance
		s.mu.Unlock()
		if gone {
			return
		}
		if attempt == 0 {
			s.incident(name, "crashed", nil)
			s.fail(fmt.Errorf("%s exited unexpectedly; last output:\n%s", name, strings.Join(s.Logs(name, 20), "\n")))
		}
		d := bo.Next()
		s.log.Warn("infrastructure exited unexpectedly; restarting", "process", name, "in", d, "attempt", attempt+1)
		if bo.Wait(s.supervising, d) != nil { // wall time: the supervisor is outside the simulation
			return
		}
		ctx, cancel := context.WithTimeout(s.supervising, time.Minute)
		err := s.startInfra(ctx, name)
		cancel()
		if err == nil {
			s.incident(name, "restarted", nil)
			s.log.Info("infrastructure restarted", "process", name)
			return
		}
		s.log.Error("infrastructure could not be restarted", "process", name, "err", err)
	}
}

// lineWriter turns a logger's output into prefixed harness lines.
type lineWriter struct {
	out    *childproc.Lines
	prefix string
}

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.out.Line(w.prefix, l)
	}
	return len(p), nil
}

var _ io.Writer = lineWriter{}

// dropTime leaves the timestamp out of the harness's log lines, as the
// services' text logs do... and keeps them short next to them.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
