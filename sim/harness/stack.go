// Package harness runs the whole SOMS stack natively: a private Mosquitto and
// PostgreSQL as child processes, then every service as its own `soms <service>`
// process wired by environment, all following one simulated clock. `soms sim`
// uses it interactively; the acceptance tests use the same Go API.
package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/cachedir"
	"github.com/somsgo/soms/internal/childproc"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/ffmpeg"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/sim/edge"
	"github.com/somsgo/soms/sim/stepper"

	"github.com/prometheus/client_golang/prometheus"
)

// Port names.
const (
	PortMQTT     = "mqtt"
	PortPostgres = "postgres"
	PortControl  = "control"
	PortRTSP     = "rtsp"
	PortHLS      = "hls"
)

// Service names, as in `soms <service>`.
const (
	Backend     = "backend"
	Brain       = "brain"
	MockLLM     = "mockllm"
	Edge        = "edge"
	Camera      = "camera"
	Perception  = "perception"
	Voice       = "voice"
	VoicevoxSim = "voicevox-sim"
	Wallet      = "wallet"
	Frontend    = "frontend"
)

// wellKnownPorts are used for an interactive run when free; they match the
// original SOMS (PostgreSQL is moved off 5432 to leave a system server alone).
var wellKnownPorts = map[string]int{
	PortMQTT: 1883, PortPostgres: 5433, PortControl: 8090, PortRTSP: 8554, PortHLS: 8888,
	Camera: 8015, Perception: 8019, Voice: 8002, VoicevoxSim: 50021, Wallet: 8003, Frontend: 8088,
	Backend: 8000, MockLLM: 8001, Edge: 8010, Brain: 8080,
}

// Options configure a native stack.
type Options struct {
	// Binary is the soms executable the services run from.
	Binary string
	// Dir keeps broker and database state; empty means a temporary directory
	// removed by Stop.
	Dir string
	// Speed is simulated seconds per wall second (0 starts paused).
	Speed float64
	// Start is the simulated time at start-up.
	Start time.Time
	// Layout is the edge's office layout (EDGE_LAYOUT).
	Layout string
	// Seed makes sensor noise reproducible.
	Seed uint64
	// FixedPorts prefers the well-known ports; otherwise all ports are free ones.
	FixedPorts bool
	// LogLevel of the services.
	LogLevel string
	// Output receives every process's prefixed log lines; nil discards them
	// (they are still kept for Logs).
	Output io.Writer
	// Env adds environment variables per service (name → "KEY=value" list).
	Env map[string][]string
	// Cameras adds the virtual cameras (mediamtx, H.264 encoded by ffmpeg)
	// and the perception service running the generated YOLO-contract model on
	// them.
	Cameras bool
	// CameraHLS also serves the cameras' H.264 streams over HLS for the
	// dashboard's live view (mediamtx remuxes them; no transcoding).
	CameraHLS bool
	// MQTTListen is the broker's address: loopback (default) or every
	// interface, for real devices (localinfra.ListenAll).
	MQTTListen string
	// MQTTPasswords fixes broker passwords per fixed account
	// (mqttacl.Accounts); others are random.
	MQTTPasswords map[string]string
	// Step is the simulated time per step of the closed-loop clock (default
	// 1s; sim/stepper).
	Step time.Duration
	// MQTTDevices are device accounts for real devices joining the
	// simulated office (hardware in the loop). The virtual devices get
	// theirs from the layout, with random passwords.
	MQTTDevices []mqttacl.Device
}

// service describes how to run one `soms <name>` process.
type service struct {
	name    string
	addrVar string
	env     func(s *Stack) []string
	// cameras marks the services that run only with Options.Cameras.
	cameras bool
	// late services start once the others are ready: they act on them at
	// once (the brain's first cycle talks to the backend and voice).
	late bool
}

// timeless are the services that keep no time (service.Options.Timeless):
// they do not follow the clock, so it does not wait for them.
var timeless = map[string]bool{Frontend: true, VoicevoxSim: true}

// services are started in this order; all are waited for together.
var services = []service{
	{MockLLM, "MOCKLLM_ADDR", nil, false, false},
	{Wallet, "WALLET_ADDR", func(s *Stack) []string {
		return []string{"DATABASE_URL=" + s.DatabaseURL(), "INTERNAL_SERVICE_TOKEN=" + s.Token}
	}, false, false},
	{Backend, "BACKEND_ADDR", func(s *Stack) []string {
		return []string{"DATABASE_URL=" + s.DatabaseURL(), "INTERNAL_SERVICE_TOKEN=" + s.Token, "WALLET_SERVICE_URL=" + s.URL(Wallet),
			"BRAIN_CHAT_URL=" + s.URL(Brain)}
	}, false, false},
	{Edge, "EDGE_ADDR", func(s *Stack) []string {
		return []string{
			"EDGE_LAYOUT=" + s.opts.Layout, "SOMS_SIM_SEED=" + strconv.FormatUint(s.opts.Seed, 10),
			// Scenes (soms/sim/scene/+) are simulator topics: only the sim account may write them.
			"EDGE_SCENE_MQTT_USER=" + mqttacl.UserSim, "EDGE_SCENE_MQTT_PASS=" + s.broker.Password(mqttacl.UserSim),
			// Each virtual device connects as itself; the original's demo
			// nodes (hydro, aqua) as the legacy device class.
			"MQTT_DEVICES=" + mqttacl.FormatDevices(s.virtualDevices),
			"EDGE_LEGACY_MQTT_PASS=" + s.broker.Password(mqttacl.UserLegacy),
		}
	}, false, false},
	{Camera, "CAMERA_ADDR", func(s *Stack) []string {
		env := []string{
			"CAMERA_RTSP_PORT=" + strconv.Itoa(s.Ports[PortRTSP]), "CAMERA_MEDIAMTX=" + s.mediamtx,
			"SOMS_SIM_SEED=" + strconv.FormatUint(s.opts.Seed, 10),
		}
		if s.opts.CameraHLS {
			env = append(env, "CAMERA_HLS=true", "CAMERA_HLS_PORT="+strconv.Itoa(s.Ports[PortHLS]))
		}
		return env
	}, true, false},
	{Perception, "PERCEPTION_ADDR", func(s *Stack) []string {
		rtsp := "rtsp://127.0.0.1:" + strconv.Itoa(s.Ports[PortRTSP]) + "/"
		return []string{
			"PERCEPTION_MODEL=builtin:synthetic", "ONNXRUNTIME_LIB=" + s.ortLib,
			"PERCEPTION_CAMERAS=cam_main@main=" + rtsp + "cam_main,cam_meeting@meeting_room=" + rtsp + "cam_meeting,cam_kitchen@kitchen=" + rtsp + "cam_kitchen",
		}
	}, true, false},
	{VoicevoxSim, "VOICEVOX_SIM_ADDR", nil, false, false},
	{Voice, "VOICE_ADDR", func(s *Stack) []string {
		return []string{
			"VOICEVOX_URL=" + s.URL(VoicevoxSim), "LLM_API_URL=" + s.URL(MockLLM) + "/v1", "LLM_MODEL=mock-qwen",
			"VOICE_AUDIO_DIR=" + filepath.Join(s.Dir, "voice"), "INTERNAL_SERVICE_TOKEN=" + s.Token,
			"VOICE_REJECTION_STOCK=5", "VOICE_ACCEPTANCE_STOCK=5",
		}
	}, false, false},
	{Brain, "BRAIN_ADDR", func(s *Stack) []string {
		return []string{
			"LLM_API_URL=" + s.URL(MockLLM) + "/v1", "LLM_MODEL=mock-qwen",
			"DASHBOARD_API_URL=" + s.URL(Backend), "INTERNAL_SERVICE_TOKEN=" + s.Token,
			"DATABASE_URL=" + s.DatabaseURL(), "VOICE_SERVICE_URL=" + s.URL(Voice),
		}
	}, false, true},
	{Frontend, "FRONTEND_ADDR", func(s *Stack) []string {
		env := []string{
			"BACKEND_URL=" + s.URL(Backend), "VOICE_URL=" + s.URL(Voice),
			"BRAIN_URL=" + s.URL(Brain), "EDGE_URL=" + s.URL(Edge), "MOCKLLM_URL=" + s.URL(MockLLM),
			"HARNESS_URL=" + s.URL(PortControl), "FRONTEND_REPORTS_DIR=" + s.reportsDir,
		}
		if s.opts.Cameras {
			env = append(env, "CAMERA_URL="+s.URL(Camera))
			if s.opts.CameraHLS {
				env = append(env, "HLS_URL="+s.URL(PortHLS))
			}
		}
		return env
	}, false, true},
}

// Stack is a running native SOMS.
type Stack struct {
	Dir   string
	Ports map[string]int
	// Token is the internal service token the services share.
	Token string
	// Clock mirrors the simulated clock every process follows (set at every
	// step).
	Clock *clock.Sim
	// Stepper drives the clock in closed loop.
	Stepper *stepper.Stepper

	opts   Options
	tmpDir bool
	// mediamtx and ortLib are resolved by the harness, whose working
	// directory is the checkout (the services run in Dir).
	mediamtx, ortLib string
	// reportsDir is where scenario reports are written (the checkout's
	// reports/), served by the dashboard.
	reportsDir string
	out        *childproc.Lines
	log        *slog.Logger
	bus        *bus.Client
	// virtualDevices are the virtual edge's device accounts.
	virtualDevices []mqttacl.Device

	mu       sync.Mutex
	broker   *localinfra.Broker
	postgres *localinfra.Postgres
	procs    map[string]*managed
	held     map[string]bool // infrastructure stopped on purpose
	// downOnPurpose is the broker's or database's instance last brought
	// down on request (its death is no crash).
	downOnPurpose map[string]any
	stopping      bool
	incidents     []Incident
	failed        chan error
	stopControl   context.CancelFunc
	controlDone   chan struct{}
	stopClock     context.CancelFunc
	// supervising ends when the stack stops.
	supervising     context.Context
	stopSupervising context.CancelFunc
}

// Start brings the stack up and returns once every service reports ready.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if err := localinfra.CheckPrograms(); err != nil {
		return nil, err
	}
	if opts.Binary == "" {
		if opts.Binary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("locating the soms binary: %w", err)
		}
	}
	if opts.Start.IsZero() {
		opts.Start = time.Now()
	}
	if opts.Layout == "" {
		opts.Layout = "builtin:office"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	s := &Stack{
		opts: opts, out: childproc.NewLines(out), Token: localinfra.Secret(),
		procs: map[string]*managed{}, held: map[string]bool{}, downOnPurpose: map[string]any{}, failed: make(chan error, 16),
	}
	s.log = slog.New(slog.NewTextHandler(lineWriter{s.out, "harness"}, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	s.supervising, s.stopSupervising = context.WithCancel(context.Background())
	if s.reportsDir, err = filepath.Abs("reports"); err != nil {
		return nil, err
	}
	if opts.Cameras {
		// Resolved here: the services run in Dir, away from the checkout.
		if s.mediamtx = cachedir.Find(cachedir.Mediamtx); s.mediamtx == "" {
			if s.mediamtx, err = exec.LookPath("mediamtx"); err != nil {
				return nil, errors.New("virtual cameras need mediamtx: run infra/scripts/mediamtx.sh (make deps does)")
			}
		}
		if s.ortLib = cachedir.Find(cachedir.ONNXRuntime); s.ortLib == "" {
			return nil, errors.New("perception needs the ONNX Runtime library: run infra/scripts/onnxruntime.sh (make deps does)")
		}
		// The cameras encode and perception decodes with it: say so now, not
		// in two services' logs.
		if _, err := ffmpeg.Find("", "CAMERA_FFMPEG and PERCEPTION_FFMPEG"); err != nil {
			return nil, fmt.Errorf("virtual cameras and perception: %w", err)
		}
	}
	if opts.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "soms-sim-"); err != nil {
			return nil, err
		}
		s.tmpDir = true
	} else {
		s.Dir = opts.Dir
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return nil, err
		}
	}
	// Children running as other users (postgres, mosquitto) must traverse it.
	_ = os.Chmod(s.Dir, 0o755)
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if s.Ports, err = allocatePorts(opts.FixedPorts); err != nil {
		return nil, err
	}
	layout, err := edge.LoadLayout(opts.Layout)
	if err != nil {
		return nil, err
	}
	s.virtualDevices = edge.Accounts(layout)
	for i := range s.virtualDevices {
		s.virtualDevices[i].Password = localinfra.Secret()
	}
	brokerOpts := localinfra.BrokerOptions{Listen: opts.MQTTListen, Passwords: opts.MQTTPasswords,
		Devices: append(slices.Clone(s.virtualDevices), opts.MQTTDevices...)}
	if s.broker, err = localinfra.StartBrokerOpts(ctx, filepath.Join(s.Dir, "mosquitto"), s.Ports[PortMQTT], brokerOpts, s.out); err != nil {
		return nil, err
	}
	s.bus = bus.New(s.MQTT(mqttacl.UserSim), "harness", slog.New(slog.DiscardHandler), nil)
	connectCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = s.bus.WaitConnected(connectCtx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("harness cannot reach its Mosquitto: %w", err)
	}
	if s.postgres, err = localinfra.StartPostgres(ctx, filepath.Join(s.Dir, "postgres"), s.Ports[PortPostgres], s.out); err != nil {
		return nil, err
	}
	if err := s.postgres.CreateDatabase(ctx, "soms", false); err != nil {
		return nil, err
	}
	s.Clock = clock.NewSim()
	s.Stepper = stepper.New(s.bus, s.Clock, stepper.Options{Step: opts.Step, Log: s.log})
	clockCtx, stopClock := context.WithCancel(context.Background())
	s.stopClock = stopClock
	// Paused while the services start: the clock waits for each anyway.
	if err := s.Stepper.Start(clockCtx, opts.Start, 0); err != nil {
		return nil, err
	}
	// A restarted broker may have lost the retained step (it saves them
	// every 10 s): publish it again whenever the harness reconnects.
	s.bus.OnConnect(func() {
		if err := s.Stepper.Republish(clockCtx); err != nil {
			s.log.Warn("clock step not republished after reconnecting", "err", err)
		}
	})
	if err := s.startControl(); err != nil {
		return nil, err
	}
	if err := s.startServices(ctx); err != nil {
		return nil, err
	}
	if err := s.Stepper.SetSpeed(opts.Speed); err != nil {
		return nil, err
	}
	s.superviseInfra()
	return s, nil
}

// allocatePorts picks the well-known ports when asked and free, else free ones.
func allocatePorts(fixed bool) (map[string]int, error) {
	ports := map[string]int{}
	for name, def := range wellKnownPorts {
		if fixed && childproc.PortFree(def) {
			ports[name] = def
			continue
		}
		p, err := childproc.FreePort()
		if err != nil {
			return nil, err
		}
		ports[name] = p
	}
	return ports, nil
}

// SetClock sets the shared simulated clock: a SimTime other than the
// current step's is a jump (made before SetClock returns), its pace the pace
// from now on (State.Pace: paused, as fast as the services allow, or a
// ceiling) — a state read back from the mirror keeps the clock as it was.
func (s *Stack) SetClock(ctx context.Context, st clock.State) error {
	if err := st.Validate(); err != nil {
		return err
	}
	if !st.SimTime.Equal(s.Stepper.State().SimTime) {
		if err := s.Stepper.Jump(ctx, st.SimTime); err != nil {
			return err
		}
	}
	return s.Stepper.SetSpeed(st.Pace())
}

// active are the services this stack runs.
func (s *Stack) active() []service {
	var out []service
	for _, svc := range services {
		if !svc.cameras || s.opts.Cameras {
			out = append(out, svc)
		}
	}
	return out
}

func (s *Stack) startServices(ctx context.Context) error {
	var early, late []service
	for _, svc := range s.active() {
		if svc.late {
			late = append(late, svc)
		} else {
			early = append(early, svc)
		}
	}
	if err := s.startGroup(ctx, early); err != nil {
		return err
	}
	return s.startGroup(ctx, late)
}

// startGroup starts services together and waits until all are ready.
func (s *Stack) startGroup(ctx context.Context, group []service) error {
	for _, svc := range group {
		env := append(childproc.BaseEnv(),
			svc.addrVar+"=127.0.0.1:"+strconv.Itoa(s.Ports[svc.name]),
			"MQTT_BROKER=127.0.0.1", "MQTT_PORT="+strconv.Itoa(s.Ports[PortMQTT]),
			"MQTT_USER="+mqttAccount(svc.name), "MQTT_PASS="+s.broker.Password(mqttAccount(svc.name)),
			"SOMS_CLOCK=sim", "LOG_LEVEL="+s.opts.LogLevel, "LOG_FORMAT=text",
		)
		if svc.env != nil {
			env = append(env, svc.env(s)...)
		}
		env = append(env, s.opts.Env[svc.name]...)
		m := &managed{svc: svc, env: env}
		s.mu.Lock()
		s.procs[svc.name] = m
		s.mu.Unlock()
		if !timeless[svc.name] {
			s.Stepper.Expect(svc.name)
		}
		if err := s.launch(m); err != nil {
			return err
		}
	}
	for _, svc := range group {
		if err := s.waitReady(ctx, svc.name); err != nil {
			return err
		}
	}
	return nil
}

// mqttAccount is the broker account a service connects as: its own for the
// brain, backend and perception; the others only follow the simulated clock
// (the virtual edge's devices and scenes have accounts of their own).
func mqttAccount(service string) string {
	switch service {
	case Brain:
		return mqttacl.UserBrain
	case Backend:
		return mqttacl.UserBackend
	case Perception:
		return mqttacl.UserPerception
	}
	return mqttacl.UserFollower
}

// waitReady polls a service's /readyz until it answers 200.
func (s *Stack) waitReady(ctx context.Context, name string) error {
	p := s.proc(name)
	if p == nil {
		return fmt.Errorf("%s is not running", name)
	}
	url := s.URL(name) + "/readyz"
	deadline := time.Now().Add(60 * time.Second)
	client := httpx.Client{HTTP: &http.Client{Timeout: 2 * time.Second}}
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited during start-up (%v); last output:\n%s", name, err, strings.Join(p.Logs(30), "\n"))
		}
		_, err := client.Send(ctx, httpx.Request{Method: http.MethodGet, Path: url})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 60s (%v); last output:\n%s", name, err, strings.Join(p.Logs(30), "\n"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// RestartServices gives the next scenario a fresh office: services are
// stopped, the database recreated, the clock moved to start and the services
// started again (the clock waits for them), then it runs at start's speed.
// Broker and database server keep running.
func (s *Stack) RestartServices(ctx context.Context, start clock.State) error {
	if err := s.Stepper.SetSpeed(0); err != nil {
		return err
	}
	if err := s.stopServices(); err != nil {
		return err
	}
	if err := s.Postgres().CreateDatabase(ctx, "soms", true); err != nil {
		return err
	}
	if err := s.Stepper.Jump(ctx, start.SimTime); err != nil {
		return err
	}
	if err := s.startServices(ctx); err != nil {
		return err
	}
	return s.Stepper.SetSpeed(start.Pace())
}

func (s *Stack) stopServices() error {
	s.mu.Lock()
	procs := s.procs
	s.procs = map[string]*managed{}
	s.mu.Unlock()
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for name, m := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.halt(m, syscall.SIGTERM); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			s.Stepper.Forget(name)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stop shuts everything down: services first, then the clock, the database
// and the broker.
func (s *Stack) Stop() error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	if s.stopSupervising != nil {
		s.stopSupervising()
	}
	errs := []error{s.stopServices()}
	if s.stopControl != nil {
		s.stopControl()
		<-s.controlDone
	}
	if s.stopClock != nil {
		s.stopClock()
	}
	if s.bus != nil {
		s.bus.Close()
	}
	errs = append(errs, s.Postgres().Stop(), s.Broker().Stop())
	if s.tmpDir {
		errs = append(errs, os.RemoveAll(s.Dir))
	}
	return errors.Join(errs...)
}

// Failed delivers an error when a service, the broker or the database dies
// without being stopped (the harness restarts it too).
func (s *Stack) Failed() <-chan error { return s.failed }

// URL is the base URL of a service or of the harness control API.
func (s *Stack) URL(name string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.Ports[name])
}

// DatabaseURL is the services' connection URL.
func (s *Stack) DatabaseURL() string {
	return s.Postgres().URL("soms")
}

// MQTT is a broker configuration for an account: a fixed one
// (mqttacl.Accounts) or a device's (a virtual device's id, or one in
// Options.MQTTDevices).
func (s *Stack) MQTT(user string) bus.Config {
	return s.Broker().Config(user)
}

// Broker is the running Mosquitto (replaced when it is restarted).
func (s *Stack) Broker() *localinfra.Broker {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broker
}

// Postgres is the running PostgreSQL (replaced when it is restarted).
func (s *Stack) Postgres() *localinfra.Postgres {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.postgres
}

// Logs returns the last n output lines of a process (a service, mosquitto or
// postgres).
func (s *Stack) Logs(name string, n int) []string {
	switch name {
	case Mosquitto:
		return s.Broker().Logs(n)
	case Postgres:
		return s.Postgres().Logs(n)
	}
	p := s.proc(name)
	if p == nil {
		return nil
	}
	return p.Logs(n)
}

// Services lists the service names in start order.
func Services() []string {
	out := make([]string, len(services))
	for i, svc := range services {
		out[i] = svc.name
	}
	return out
}

// startControl serves the harness's control API (the shared clock, the
// processes, GET /stack). It listens on loopback only, whatever
// MQTTListen says: it is an admin API — it kills processes and hands out the
// service token and broker passwords — for this machine's users alone.
func (s *Stack) startControl() error {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.Ports[PortControl]))
	if err != nil {
		return fmt.Errorf("harness control API: %w", err)
	}
	srv := httpx.New("harness", slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	// PUT /clock with run_until answers when the clock gets there: at a
	// low speed, later than any write timeout would allow.
	srv.Limits.Write = 0
	s.controlRoutes(srv)
	ctx, cancel := context.WithCancel(context.Background())
	s.stopControl = cancel
	s.controlDone = make(chan struct{})
	go func() {
		defer close(s.controlDone)
		_ = srv.Serve(ctx, ln)
	}()
	return nil
}
