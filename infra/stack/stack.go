// Package stack is the acceptance suite's Docker Compose driver (infra/e2e;
// `SOMS_HARNESS=compose go test ./features` forwards there): it brings the
// stack of infra/ up through testcontainers-go's compose module, waits until
// every container is healthy
// and gives the tests the same handles as the native harness — service URLs,
// MQTT credentials, logs, a reset between scenarios, the simulated clock.
//
// By default it runs the virtual office (docker-compose.yml +
// docker-compose.edge-mock.yml) with every published port moved to a free
// loopback port (a generated override file), fresh random secrets and
// SOMS_CLOCK=sim, so several stacks can run side by side.
//
// Without a Docker engine Start fails fast with an error wrapping
// ErrNoEngine instead of hanging in the Docker client.
package stack

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	tccompose "github.com/testcontainers/testcontainers-go/modules/compose"

	infracompose "github.com/somsgo/soms/infra/compose"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/sim/edge"
)

// DefaultFiles is the virtual office on the production files: production
// services on the CPU plus simulators, third-party images replaced by the
// local stand-ins (make images).
var DefaultFiles = infracompose.TestFiles

// Infrastructure services survive Reset; everything else is an app service.
var Infrastructure = []string{"mosquitto", "postgres", "frontend", "voicevox", "ollama"}

// aliases map the native harness's names (soms subcommands) to compose
// service names, so tests address services the same way on both drivers.
var aliases = map[string]string{
	"mockllm": "mock-llm",
	"edge":    "virtual-edge",
	"voice":   "voice-service",
	"camera":  "virtual-camera",
}

// Options configure a compose stack.
type Options struct {
	// Dir is the directory of the compose files; empty: infra/ of the
	// repository containing the working directory.
	Dir string
	// Files are the compose files, relative to Dir (DefaultFiles if empty).
	Files []string
	// ProjectName isolates this stack's containers, networks and volumes;
	// empty: "soms-test-" plus a random suffix.
	ProjectName string
	// Env overrides the interpolation variables (what infra/.env holds).
	// The base is env.example with every secret replaced by a random one and
	// SOMS_CLOCK=sim.
	Env map[string]string
	// Profiles to enable in addition to the default ones.
	Profiles []string
	// StartTimeout bounds building images and waiting for health
	// (default 15 minutes: the first run builds every image).
	StartTimeout time.Duration
	// EngineTimeout bounds the engine check (default 3 seconds).
	EngineTimeout time.Duration
	// KeepVolumes leaves the named volumes behind on Stop (default: removed).
	KeepVolumes bool
	// Clock, when set, is published (retained) as soon as the broker is
	// healthy, before anything else starts: services running with
	// SOMS_CLOCK=sim are ready only once they have a clock.
	Clock *clock.State
	// Log receives progress messages; nil discards them.
	Log *slog.Logger
}

// Stack is a running compose project.
type Stack struct {
	opts    Options
	env     map[string]string
	project *types.Project
	dc      *tccompose.DockerCompose
	tmpDir  string
	log     *slog.Logger
	// ports maps service → container port → host port on 127.0.0.1.
	ports map[string]map[int]int
	main  map[string]int // the service's HTTP port (container side)

	mu  sync.Mutex
	bus *bus.Client
	// clock is the closed-loop clock the stack's services follow (clock.go).
	clock *composeClock
}

// secretVars get a fresh random value per stack.
var secretVars = []string{
	"MQTT_PASS", "MQTT_SIM_PASS", "MQTT_MONITOR_PASS", "MQTT_BRAIN_PASS", "MQTT_BACKEND_PASS",
	"MQTT_PERCEPTION_PASS", "MQTT_FOLLOWER_PASS", "MQTT_EDGE_BRIDGE_PASS", "MQTT_BRIDGE_PASS", "POSTGRES_PASSWORD",
	"SOMS_DB_BACKEND_PASSWORD", "SOMS_DB_WALLET_PASSWORD", "SOMS_DB_BRAIN_PASSWORD",
	"INTERNAL_SERVICE_TOKEN", "JWT_SECRET",
}

// Start brings the stack up and returns when every service is healthy.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if _, err := DetectEngine(ctx, os.Getenv, opts.EngineTimeout); err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		if opts.Dir, err = findInfra(); err != nil {
			return nil, err
		}
	}
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, err
	}
	if len(opts.Files) == 0 {
		opts.Files = DefaultFiles
	}
	if opts.ProjectName == "" {
		opts.ProjectName = "soms-test-" + randomHex(4)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 15 * time.Minute
	}
	env, err := stackEnv(opts)
	if err != nil {
		return nil, err
	}
	project, err := infracompose.Load(ctx, opts.Dir, opts.Files, env, opts.Profiles)
	if err != nil {
		return nil, fmt.Errorf("compose files: %w", err)
	}
	s := &Stack{opts: opts, env: env, project: project, log: opts.Log, ports: map[string]map[int]int{}, main: map[string]int{}}
	if s.tmpDir, err = os.MkdirTemp("", "soms-compose-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	ports, err := s.testOverride()
	if err != nil {
		return nil, err
	}
	override := filepath.Join(s.tmpDir, "docker-compose.test.yml")
	if err := os.WriteFile(override, []byte(ports), 0o600); err != nil {
		return nil, err
	}
	if s.dc, err = s.newCompose(); err != nil {
		return nil, err
	}
	if err := s.up(ctx, opts.Clock); err != nil {
		return nil, err
	}
	return s, nil
}

// up starts the stack and waits until every service is healthy. With a
// clock, the broker comes first and the clock is published (retained, paused)
// before the rest starts: services running with SOMS_CLOCK=sim are ready only
// once they have one. It runs at st's speed once every service is healthy.
func (s *Stack) up(ctx context.Context, st *clock.State) error {
	upCtx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	if st != nil {
		s.log.Info("compose up: the broker first, for the simulated clock", "project", s.opts.ProjectName)
		broker, err := s.withDependencies("mosquitto")
		if err != nil {
			return err
		}
		if err := s.dc.Up(upCtx, tccompose.RunServices(broker...), tccompose.Wait(true), tccompose.RemoveOrphans(true)); err != nil {
			return fmt.Errorf("compose up %s (mosquitto): %w%s", s.opts.ProjectName, err, s.unhealthyReport(ctx))
		}
		// Paused while the services start, as the native harness does: a
		// service joins the clock with its first acknowledgement.
		paused := *st
		paused.Speed = 0
		if err := s.SetClock(upCtx, paused); err != nil {
			return err
		}
	}
	s.log.Info("compose up", "project", s.opts.ProjectName, "files", s.opts.Files)
	if err := s.dc.Up(upCtx, tccompose.Wait(true), tccompose.RemoveOrphans(true)); err != nil {
		return fmt.Errorf("compose up %s: %w%s", s.opts.ProjectName, err, s.unhealthyReport(ctx))
	}
	if st != nil {
		return s.SetClock(upCtx, *st)
	}
	return nil
}

// withDependencies is name and every service it depends on (the broker's
// certificate one-shot): compose up of a selection starts only what is named.
func (s *Stack) withDependencies(name string) ([]string, error) {
	p, err := s.project.WithSelectedServices([]string{name}, types.IncludeDependencies)
	if err != nil {
		return nil, fmt.Errorf("compose: the services %s needs: %w", name, err)
	}
	return p.ServiceNames(), nil
}

// newCompose is the testcontainers handle of the stack's files and project.
func (s *Stack) newCompose() (*tccompose.DockerCompose, error) {
	stackOpts := []tccompose.ComposeStackOption{
		tccompose.WithStackFiles(s.Files()...),
		tccompose.StackIdentifier(s.opts.ProjectName),
		tccompose.WithLogger(logAdapter{s.log}),
	}
	if len(s.opts.Profiles) > 0 {
		stackOpts = append(stackOpts, tccompose.WithProfiles(s.opts.Profiles...))
	}
	dc, err := tccompose.NewDockerComposeWith(stackOpts...)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	dc.WithEnv(s.env)
	return dc, nil
}

// stackEnv is env.example, random secrets, SOMS_CLOCK=sim, then opts.Env.
func stackEnv(opts Options) (map[string]string, error) {
	env, err := infracompose.ReadEnvFile(filepath.Join(opts.Dir, "env.example"))
	if err != nil {
		return nil, err
	}
	for _, k := range secretVars {
		env[k] = randomHex(16)
	}
	// Each virtual device has its own account, as a real one would.
	layout, err := edge.LoadLayout(env["EDGE_LAYOUT"])
	if err != nil {
		return nil, err
	}
	devices := edge.Accounts(layout)
	for i := range devices {
		devices[i].Password = randomHex(12)
	}
	env["MQTT_DEVICES"] = mqttacl.FormatDevices(devices)
	env["SOMS_CLOCK"] = "sim"
	env["LOG_LEVEL"] = "debug"
	for k, v := range opts.Env {
		env[k] = v
	}
	return env, nil
}

// testOverride is the generated override of a test stack. It publishes
// every service's ports — those the files publish plus the HTTP port of each
// soms service, but never a service production keeps unpublished — on free
// loopback ports chosen here, so stacks never collide with each other or with
// a native run, and a container restarted by Reset keeps its port. And it
// probes health every 2 s instead of the files' 10 s: Docker reports a
// container healthy only at its next probe, and the test stack starts and
// resets services along a dependency chain many times.
func (s *Stack) testOverride() (string, error) {
	var b strings.Builder
	b.WriteString("# Generated by infra/stack: free loopback ports and quick health probes for a test stack.\nservices:\n")
	names := s.project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		svc := s.project.Services[name]
		targets := map[int]bool{}
		for _, p := range svc.Ports {
			targets[int(p.Target)] = true
		}
		if port := mainPort(svc); port > 0 {
			s.main[name] = port
			if _, hidden := unpublished[name]; !hidden {
				targets[port] = true
			}
		}
		probed := svc.HealthCheck != nil && !svc.HealthCheck.Disable
		if len(targets) == 0 && !probed {
			continue
		}
		fmt.Fprintf(&b, "  %s:\n", name)
		if probed {
			b.WriteString("    healthcheck:\n      interval: 2s\n")
		}
		if len(targets) == 0 {
			continue
		}
		s.ports[name] = map[int]int{}
		b.WriteString("    ports: !override\n")
		for _, t := range sortedKeys(targets) {
			host, err := freePort()
			if err != nil {
				return "", err
			}
			s.ports[name][t] = host
			fmt.Fprintf(&b, "      - \"127.0.0.1:%d:%d\"\n", host, t)
		}
	}
	return b.String(), nil
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// mainPort is the container port a service's URL points at: its *_ADDR
// listen port, else its first published port.
func mainPort(svc types.ServiceConfig) int {
	var keys []string
	for k := range svc.Environment {
		if strings.HasSuffix(k, "_ADDR") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := svc.Environment[k]; v != nil {
			if _, port, ok := strings.Cut(*v, ":"); ok {
				if n, err := strconv.Atoi(port); err == nil {
					return n
				}
			}
		}
	}
	if len(svc.Ports) > 0 {
		return int(svc.Ports[0].Target)
	}
	return 0
}

// service resolves a harness name (backend, mockllm, edge, ...) to the
// compose service name.
func service(name string) string {
	if a, ok := aliases[name]; ok {
		return a
	}
	return name
}

// unpublished are services the production files never publish on the host
// (the wallet, known issue M-9); tests reach them as the dashboard does,
// through the frontend's proxy at the given path.
var unpublished = map[string]string{"wallet": "/api/wallet"}

// URL is the base URL of a service on the host ("" when it publishes none).
func (s *Stack) URL(name string) string {
	name = service(name)
	if prefix, ok := unpublished[name]; ok {
		return s.URL("frontend") + prefix
	}
	port := s.ports[name][s.main[name]]
	if port == 0 {
		return ""
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// HostPort is the host port a service's container port is published on.
func (s *Stack) HostPort(name string, containerPort int) int {
	return s.ports[service(name)][containerPort]
}

// RTSP is the virtual cameras' RTSP base URL (rtsp://127.0.0.1:port); a
// camera's stream is RTSP() + "/" + its id.
func (s *Stack) RTSP() string {
	return "rtsp://127.0.0.1:" + strconv.Itoa(s.HostPort("virtual-camera", 8554))
}

// MQTT is the broker configuration for an account: a fixed one
// (mqttacl.Accounts, its password from .env) or a virtual device's
// (MQTT_DEVICES).
func (s *Stack) MQTT(user string) bus.Config {
	pass := ""
	for _, a := range mqttacl.Accounts() {
		if a.Name == user {
			pass = s.env[a.PassVar]
		}
	}
	devices, _ := mqttacl.ParseDevices(s.env["MQTT_DEVICES"])
	for _, d := range devices {
		if d.ID == user {
			pass = d.Password
		}
	}
	return bus.Config{Broker: "127.0.0.1", Port: s.HostPort("mosquitto", 1883), User: user, Pass: pass}
}

// DatabaseURL is the superuser's URL of the soms database (for assertions).
func (s *Stack) DatabaseURL() string {
	u := url.URL{
		Scheme: "postgres", User: url.UserPassword(s.env["POSTGRES_USER"], s.env["POSTGRES_PASSWORD"]),
		Host: "127.0.0.1:" + strconv.Itoa(s.HostPort("postgres", 5432)), Path: "/soms", RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Token is the internal service token the services share.
func (s *Stack) Token() string { return s.env["INTERNAL_SERVICE_TOKEN"] }

// Services lists the running compose services.
func (s *Stack) Services() []string {
	names := s.project.ServiceNames()
	sort.Strings(names)
	return names
}

// Logs returns the last n lines a service's container wrote.
func (s *Stack) Logs(name string, n int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := s.dc.ServiceContainer(ctx, service(name))
	if err != nil {
		return []string{fmt.Sprintf("(no container for %s: %v)", name, err)}
	}
	rc, err := c.Logs(ctx)
	if err != nil {
		return []string{fmt.Sprintf("(logs of %s: %v)", name, err)}
	}
	defer rc.Close()
	return lastLines(rc, n)
}

func lastLines(r io.Reader, n int) []string {
	var ring []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		ring = append(ring, sc.Text())
		if len(ring) > n {
			ring = ring[1:]
		}
	}
	return ring
}

// Stop removes the containers, networks and (unless KeepVolumes) volumes.
func (s *Stack) Stop() error {
	var errs []error
	s.mu.Lock()
	if s.clock != nil {
		s.clock.stop()
		s.clock = nil
	}
	if s.bus != nil {
		s.bus.Close()
		s.bus = nil
	}
	s.mu.Unlock()
	if s.dc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		errs = append(errs, s.dc.Down(ctx, tccompose.RemoveOrphans(true), tccompose.RemoveVolumes(!s.opts.KeepVolumes)))
		errs = append(errs, s.dc.Close())
	}
	if s.tmpDir != "" {
		errs = append(errs, os.RemoveAll(s.tmpDir))
	}
	return errors.Join(errs...)
}

// appServices are the services Reset restarts, in dependency order: not the
// infrastructure, and not one-shot jobs (restart "no"), whose work is done.
func (s *Stack) appServices() []string {
	var out []string
	_ = s.project.ForEachService(nil, func(name string, svc *types.ServiceConfig) error {
		if !slices.Contains(Infrastructure, name) && svc.Restart != types.RestartPolicyNo {
			out = append(out, name)
		}
		return nil
	})
	return out
}

// unhealthyReport adds the last log lines of services that did not become
// healthy to a start-up error.
func (s *Stack) unhealthyReport(ctx context.Context) string {
	if s.dc == nil {
		return ""
	}
	var b strings.Builder
	for _, name := range s.Services() {
		c, err := s.dc.ServiceContainer(ctx, name)
		if err != nil {
			continue
		}
		st, err := c.State(ctx)
		if err != nil || (st.Health != nil && st.Health.Status == "healthy") {
			continue
		}
		fmt.Fprintf(&b, "\n--- %s (%s) ---\n%s", name, st.Status, strings.Join(s.Logs(name, 20), "\n"))
	}
	return b.String()
}

func findInfra() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "infra", "docker-compose.yml")); err == nil {
			return filepath.Join(dir, "infra"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("compose: infra/docker-compose.yml not found above the working directory; set Options.Dir")
		}
		dir = parent
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// logAdapter routes testcontainers' Printf logging to slog.
type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Printf(format string, v ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
