package stack

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/moby/moby/api/types/container"
	tccompose "github.com/testcontainers/testcontainers-go/modules/compose"

	"github.com/somsgo/soms/internal/clock"
)

// What tests (and the fault steps of scenarios) do to a running stack, the way
// an operator or a failure would: restart, kill and start containers, take the
// stack down and up again keeping its volumes.

// Project is the compose project name (container, network and volume prefix).
func (s *Stack) Project() string { return s.opts.ProjectName }

// Files are the stack's compose files as absolute paths, the generated test
// override last: `docker compose -f ...` with these addresses this stack.
func (s *Stack) Files() []string {
	files := make([]string, 0, len(s.opts.Files)+1)
	for _, f := range s.opts.Files {
		files = append(files, filepath.Join(s.opts.Dir, f))
	}
	return append(files, filepath.Join(s.tmpDir, "docker-compose.test.yml"))
}

// Env is the interpolation environment of the stack (what infra/.env holds
// for a deployment), fresh secrets included.
func (s *Stack) Env() map[string]string {
	out := make(map[string]string, len(s.env))
	for k, v := range s.env {
		out[k] = v
	}
	return out
}

// Restart is `docker restart`: the service's container is stopped (10 s
// grace, then killed) and started again; it returns once it is healthy.
func (s *Stack) Restart(ctx context.Context, name string) error {
	name = service(name)
	c, err := s.dc.ServiceContainer(ctx, name)
	if err != nil {
		return err
	}
	grace := 10 * time.Second
	if err := c.Stop(ctx, &grace); err != nil {
		return fmt.Errorf("restart %s: stopping: %w", name, err)
	}
	return s.Start(ctx, name)
}

// Kill sends SIGKILL to the service's container, as a crash would. Docker does
// not apply the restart policy to a killed container: it stays down until
// Start.
func (s *Stack) Kill(ctx context.Context, name string) error {
	name = service(name)
	c, err := s.dc.ServiceContainer(ctx, name)
	if err != nil {
		return err
	}
	zero := time.Duration(0)
	if err := c.Stop(ctx, &zero); err != nil {
		return fmt.Errorf("kill %s: %w", name, err)
	}
	s.forgetProcess(name) // a killed process cannot say it left the clock
	return nil
}

// Start starts the service's stopped container and waits until it is
// healthy.
func (s *Stack) Start(ctx context.Context, name string) error {
	name = service(name)
	c, err := s.dc.ServiceContainer(ctx, name)
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return s.waitHealthy(ctx, name, 3*time.Minute)
}

// Down removes the stack's containers and network and keeps its named
// volumes, as `docker compose down` does; Up brings it back.
func (s *Stack) Down(ctx context.Context) error {
	if err := s.dc.Down(ctx, tccompose.RemoveOrphans(true), tccompose.RemoveVolumes(false)); err != nil {
		return fmt.Errorf("compose down %s: %w", s.opts.ProjectName, err)
	}
	s.forgetAll()
	return s.Reattach()
}

// Up creates and starts the stack's containers (after Down, or after the
// backup and restore scripts changed it) and waits until every service is
// healthy; st, when set, is the simulated clock to publish first (see Start).
func (s *Stack) Up(ctx context.Context, st *clock.State) error {
	if err := s.Reattach(); err != nil {
		return err
	}
	return s.up(ctx, st)
}

// Reattach forgets the containers the driver knows, so it finds them anew:
// after Down, or after something else (the restore script, an operator's
// `docker compose up`) recreated them.
func (s *Stack) Reattach() error {
	dc, err := s.newCompose()
	if err != nil {
		return err
	}
	_ = s.dc.Close()
	s.dc = dc
	return nil
}

// Inspect is `docker inspect` of the service's container: state, health,
// published ports.
func (s *Stack) Inspect(ctx context.Context, name string) (*container.InspectResponse, error) {
	c, err := s.dc.ServiceContainer(ctx, service(name))
	if err != nil {
		return nil, err
	}
	return c.Inspect(ctx)
}
