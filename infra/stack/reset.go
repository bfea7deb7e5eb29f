package stack

import (
	"context"

	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// Reset gives the next scenario a fresh office, the compose counterpart of
// the native harness's RestartServices:
//
//  1. the app services (everything but Infrastructure: broker, database,
//     frontend, engines) are stopped, last-started first;
//  2. inside the postgres container the soms database is dropped WITH
//     (FORCE) and created again, and the image's init scripts
//     (/docker-entrypoint-initdb.d/*.sh: roles and schemas) run again;
//  3. the app services are started in dependency order and Reset waits
//     until each reports healthy. Each migrates its schema afresh.
//
// Host ports stay the same (they were fixed at Start). Retained MQTT
// messages survive, as in the native harness; publish the clock for the next
// scenario with SetClock.
//
// The clock is published paused at start while the services start and left
// so: publish the running clock with SetClock when the scenario begins, so it
// begins at its start time however long the restart took.
func (s *Stack) Reset(ctx context.Context, start time.Time) error {
	apps := s.appServices()
	stopTimeout := 10 * time.Second
	for i := len(apps) - 1; i >= 0; i-- {
		c, err := s.dc.ServiceContainer(ctx, apps[i])
		if err != nil {
			return fmt.Errorf("reset: container of %s: %w", apps[i], err)
		}
		if err := c.Stop(ctx, &stopTimeout); err != nil {
			return fmt.Errorf("reset: stopping %s: %w", apps[i], err)
		}
	}
	if err := s.recreateDatabase(ctx); err != nil {
		return err
	}
	if err := s.SetClock(ctx, clock.State{SimTime: start, WallTime: time.Now()}); err != nil {
		return err
	}
	for _, name := range apps {
		c, err := s.dc.ServiceContainer(ctx, name)
		if err != nil {
			return fmt.Errorf("reset: container of %s: %w", name, err)
		}
		if err := c.Start(ctx); err != nil {
			return fmt.Errorf("reset: starting %s: %w", name, err)
		}
	}
	for _, name := range apps {
		if err := s.waitHealthy(ctx, name, 3*time.Minute); err != nil {
			return err
		}
	}
	return nil
}

// recreateScript runs inside the postgres container, whose environment holds
// POSTGRES_USER and the role passwords the init scripts read.
const recreateScript = `set -e
psql -v ON_ERROR_STOP=1 --no-psqlrc -U "$POSTGRES_USER" -d postgres \
  -c 'DROP DATABASE IF EXISTS soms WITH (FORCE)' -c 'CREATE DATABASE soms'
for f in /docker-entrypoint-initdb.d/*.sh; do
  [ -e "$f" ] || continue
  POSTGRES_DB=soms sh "$f"
done`

func (s *Stack) recreateDatabase(ctx context.Context) error {
	c, err := s.dc.ServiceContainer(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("reset: postgres container: %w", err)
	}
	code, out, err := c.Exec(ctx, []string{"sh", "-c", recreateScript})
	if err != nil {
		return fmt.Errorf("reset: recreating the database: %w", err)
	}
	if code != 0 {
		msg, _ := io.ReadAll(io.LimitReader(out, 8192))
		return fmt.Errorf("reset: recreating the database exited %d: %s", code, msg)
	}
	return nil
}

// waitHealthy polls the container's health status (Docker offers no event
// to await here short of the events API) until healthy, a failed state, or
// timeout.
func (s *Stack) waitHealthy(ctx context.Context, name string, timeout time.Duration) error {
	c, err := s.dc.ServiceContainer(ctx, name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := c.State(ctx)
		if err == nil {
			switch {
			case st.Health != nil && st.Health.Status == "healthy":
				return nil
			case !st.Running && st.Status == "exited":
				return fmt.Errorf("reset: %s exited (code %d); last output:\n%s", name, st.ExitCode, joinLines(s.Logs(name, 30)))
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("reset: %s not healthy after %s; last output:\n%s", name, timeout, joinLines(s.Logs(name, 30)))
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }
