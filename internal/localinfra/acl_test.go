package localinfra_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/childproc"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/tlscert"
)

// The devices of the matrix: two plain ones and a swarm hub with one leaf.
func matrixDevices() []mqttacl.Device {
	return []mqttacl.Device{
		{ID: "env_01", Password: "env-01-password"},
		{ID: "hvac_01", Password: "hvac-01-password"},
		{ID: "swarm_hub_01", Password: "hub-01-password", Leaves: []string{"leaf_env_01"}},
	}
}

// pubCase: may account publish on topic?
type pubCase struct {
	who, topic string
	allowed    bool
}

// subCase: subscribed to filter, does account receive what from publishes
// on topic?
type subCase struct {
	who, filter, from, topic string
	allowed                  bool
}

// The ACL matrix (docs/mqtt-acl.md): what each account may and may not do.
var pubCases = []pubCase{
	// Device commands: only the brain sends them.
	{mqttacl.UserBrain, "mcp/hvac_01/request/call_tool", true},
	{"env_01", "mcp/hvac_01/request/call_tool", false},
	{"env_01", "mcp/env_01/request/call_tool", false},
	{"hvac_01", "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserLegacy, "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserBackend, "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserPerception, "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserSim, "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserFollower, "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserMonitor, "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserBridge, "mcp/hvac_01/request/call_tool", false},
	// A device: its own telemetry, heartbeats, state and replies; nobody else's.
	{"env_01", "office/main/sensor/env_01/temperature", true},
	{"env_01", "office/main/sensor/env_01/heartbeat", true},
	{"env_01", "mcp/env_01/response/req-1", true},
	{"hvac_01", "office/main/hvac/hvac_01", true},
	{"env_01", "office/main/sensor/hvac_01/temperature", false},
	{"env_01", "office/main/sensor/hvac_01/heartbeat", false},
	{"env_01", "mcp/hvac_01/response/req-1", false},
	{"env_01", "office/main/hvac/hvac_01", false},
	{"env_01", "office/main/occupancy", false},
	{"env_01", "office/main/safety/fall", false},
	{"env_01", "office/main/task_report/1", false},
	{"env_01", "soms/sim/clock", false},
	{"env_01", "hydro/lettuce_raft/status", false},
	// A swarm hub: its leaves too, only those listed.
	{"swarm_hub_01", "office/main/sensor/swarm_hub_01.leaf_env_01/temperature", true},
	{"swarm_hub_01", "mcp/swarm_hub_01.leaf_env_01/response/req-1", true},
	{"swarm_hub_01", "office/main/sensor/swarm_hub_01.leaf_other/temperature", false},
	{"env_01", "office/main/sensor/swarm_hub_01.leaf_env_01/temperature", false},
	// The legacy device class: any device's topics (it cannot tell devices
	// apart), nothing else.
	{mqttacl.UserLegacy, "office/main/sensor/hvac_01/temperature", true},
	{mqttacl.UserLegacy, "mcp/hvac_01/response/req-1", true},
	{mqttacl.UserLegacy, "hydro/lettuce_raft/status", true},
	{mqttacl.UserLegacy, "office/main/occupancy", false},
	{mqttacl.UserLegacy, "office/main/task_report/1", false},
	{mqttacl.UserLegacy, "soms/sim/clock", false},
	// Services: what they produce, nothing of the devices'.
	{mqttacl.UserPerception, "office/main/occupancy", true},
	{mqttacl.UserPerception, "office/main/safety/fall", true},
	{mqttacl.UserPerception, "office/main/sensor/env_01/temperature", false},
	{mqttacl.UserBackend, "office/main/task_report/7", true},
	{mqttacl.UserBackend, "office/shopping/added", true},
	{mqttacl.UserBackend, "office/main/sensor/env_01/temperature", false},
	{mqttacl.UserBrain, "office/main/sensor/env_01/temperature", false},
	{mqttacl.UserBrain, "office/main/sensor/brain/temperature", false}, // an account is no device
	{mqttacl.UserMonitor, "office/main/sensor/monitor/temperature", false},
	{mqttacl.UserMonitor, "office/main/sensor/env_01/temperature", false},
	{mqttacl.UserBridge, "office/main/occupancy", true},
	{mqttacl.UserBridge, "mcp/env_01/response/req-1", true},
	// The simulated clock and scenes: the harness (sim) only.
	{mqttacl.UserSim, "soms/sim/clock", true},
	{mqttacl.UserSim, "soms/sim/scene/main", true},
	{mqttacl.UserSim, "office/main/sensor/env_01/temperature", true}, // scenario injection
	{mqttacl.UserBrain, "soms/sim/clock", false},
	{mqttacl.UserBackend, "soms/sim/clock", false},
	{mqttacl.UserPerception, "soms/sim/clock", false},
	{mqttacl.UserFollower, "soms/sim/clock", false},
	{mqttacl.UserBridge, "soms/sim/clock", false},
	// Acknowledging the closed-loop clock's steps: every process that follows
	// it, a service with its own account under its own name only.
	{mqttacl.UserBrain, "soms/sim/progress/brain", true},
	{mqttacl.UserBackend, "soms/sim/progress/backend", true},
	{mqttacl.UserPerception, "soms/sim/progress/perception", true},
	{mqttacl.UserFollower, "soms/sim/progress/wallet", true},
	{mqttacl.UserFollower, "soms/sim/progress/edge", true},
	{mqttacl.UserBrain, "soms/sim/progress/backend", false},
	{mqttacl.UserFollower, "soms/sim/scene/main", false},
	{"env_01", "soms/sim/progress/env_01", false},
	{mqttacl.UserLegacy, "soms/sim/progress/edge", false},
	{mqttacl.UserBridge, "soms/sim/progress/edge", false},
}

var subCases = []subCase{
	// Nobody but monitor reads everything: a device's "#" brings only its
	// own requests.
	{"env_01", "#", mqttacl.UserBrain, "mcp/env_01/request/call_tool", true},
	{"env_01", "#", mqttacl.UserBrain, "mcp/hvac_01/request/call_tool", false},
	{"env_01", "#", "hvac_01", "office/main/sensor/hvac_01/temperature", false},
	{"env_01", "mcp/hvac_01/request/#", mqttacl.UserBrain, "mcp/hvac_01/request/call_tool", false},
	{"hvac_01", "mcp/hvac_01/request/#", mqttacl.UserBrain, "mcp/hvac_01/request/call_tool", true},
	{"swarm_hub_01", "mcp/swarm_hub_01.leaf_env_01/request/#", mqttacl.UserBrain, "mcp/swarm_hub_01.leaf_env_01/request/call_tool", true},
	{mqttacl.UserLegacy, "#", "hvac_01", "office/main/sensor/hvac_01/temperature", false},
	{mqttacl.UserLegacy, "#", mqttacl.UserBrain, "mcp/hvac_01/request/call_tool", true},
	{mqttacl.UserSim, "#", "hvac_01", "office/main/sensor/hvac_01/temperature", false},
	{mqttacl.UserFollower, "#", "hvac_01", "office/main/sensor/hvac_01/temperature", false},
	{mqttacl.UserFollower, "#", mqttacl.UserSim, "soms/sim/clock", true},
	{mqttacl.UserPerception, "#", "hvac_01", "office/main/sensor/hvac_01/temperature", false},
	{mqttacl.UserBackend, "#", "hvac_01", "office/main/sensor/hvac_01/temperature", true},
	{mqttacl.UserBackend, "#", mqttacl.UserBrain, "mcp/hvac_01/request/call_tool", false},
	{mqttacl.UserBrain, "#", "hvac_01", "mcp/hvac_01/response/req-1", true},
	{mqttacl.UserBrain, "#", mqttacl.UserSim, "soms/sim/scene/main", false},
	{mqttacl.UserMonitor, "#", mqttacl.UserBrain, "mcp/hvac_01/request/call_tool", true},
}

// fences are, per account, a publisher and topic the account may read: a
// message published after the probe, so that the probe's absence is known
// once the fence arrives (Mosquitto queues a QoS 1 message to subscribers
// before acknowledging it, and delivers each subscriber's queue in order).
var fences = map[string][2]string{
	mqttacl.UserMonitor:    {mqttacl.UserSim, "office/fence/sensor/x/fence"},
	mqttacl.UserBackend:    {mqttacl.UserSim, "office/fence/sensor/x/fence"},
	mqttacl.UserBrain:      {mqttacl.UserSim, "office/fence/sensor/x/fence"},
	mqttacl.UserPerception: {mqttacl.UserSim, "soms/sim/clock"},
	mqttacl.UserFollower:   {mqttacl.UserSim, "soms/sim/fence"},
	mqttacl.UserSim:        {mqttacl.UserSim, "soms/sim/fence"},
	mqttacl.UserLegacy:     {mqttacl.UserBrain, "mcp/fence/request/call_tool"},
	"env_01":               {mqttacl.UserBrain, "mcp/env_01/request/fence"},
	"hvac_01":              {mqttacl.UserBrain, "mcp/hvac_01/request/fence"},
	"swarm_hub_01":         {mqttacl.UserBrain, "mcp/swarm_hub_01.leaf_env_01/request/fence"},
}

// runMatrix checks every case against a running broker, connect giving the
// client configuration of an account.
func runMatrix(t *testing.T, connect func(account string) bus.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clients := map[string]*bus.Client{}
	client := func(account string) *bus.Client {
		if c, ok := clients[account]; ok {
			return c
		}
		c := bus.New(connect(account), "matrix-"+account, logging.Discard(), nil)
		t.Cleanup(c.Close)
		if err := c.WaitConnected(ctx); err != nil {
			t.Fatalf("%s cannot connect: %v", account, err)
		}
		clients[account] = c
		return c
	}
	seq := 0
	// observe subscribes account to filter, runs publish (the probe), then
	// publishes the account's fence, and reports whether the probe arrived
	// before the fence.
	observe := func(account, filter, probeTopic string, publish func(payload []byte) error) bool {
		t.Helper()
		seq++
		probe, fence := fmt.Sprintf("probe-%d", seq), fmt.Sprintf("fence-%d", seq)
		var mu sync.Mutex
		seen := false
		fenced := make(chan struct{})
		var once sync.Once
		sub := bus.New(connect(account), "matrix-sub-"+account+"-"+strconv.Itoa(seq), logging.Discard(), nil)
		defer sub.Close()
		if err := sub.WaitConnected(ctx); err != nil {
			t.Fatalf("%s cannot connect: %v", account, err)
		}
		f := fences[account]
		h := func(m bus.Message) {
			switch string(m.Payload) {
			case probe:
				if m.Topic == probeTopic {
					mu.Lock()
					seen = true
					mu.Unlock()
				}
			case fence:
				once.Do(func() { close(fenced) })
			}
		}
		for _, flt := range []string{filter, f[1]} {
			if err := sub.Subscribe(ctx, flt, 1, h); err != nil {
				t.Fatal(err)
			}
		}
		if err := publish([]byte(probe)); err != nil {
			t.Fatal(err)
		}
		if err := client(f[0]).Publish(ctx, f[1], 1, false, []byte(fence)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-fenced:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never got its fence %s", account, f[1])
		}
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
	for _, c := range pubCases {
		got := observe(mqttacl.UserMonitor, c.topic, c.topic, func(p []byte) error {
			return client(c.who).Publish(ctx, c.topic, 1, false, p)
		})
		if got != c.allowed {
			t.Errorf("%s publishing %s: delivered %v, want %v", c.who, c.topic, got, c.allowed)
		}
	}
	for _, c := range subCases {
		got := observe(c.who, c.filter, c.topic, func(p []byte) error {
			return client(c.from).Publish(ctx, c.topic, 1, false, p)
		})
		if got != c.allowed {
			t.Errorf("%s subscribed to %s, %s publishing %s: received %v, want %v", c.who, c.filter, c.from, c.topic, got, c.allowed)
		}
	}
}

// TestACLMatrix runs the matrix against the native harness's broker.
func TestACLMatrix(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := localinfra.StartBrokerOpts(ctx, brokerDir(t), 0, localinfra.BrokerOptions{Devices: matrixDevices()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	runMatrix(t, b.Config)
}

// TestComposeEntrypointMatrix runs the compose broker's start-up script
// (infra/docker/mosquitto-entrypoint.sh) on the generated aclfile with the
// matrix's accounts in its environment: the ACL it writes is the Go
// rendering, and a Mosquitto started on its files enforces the same matrix.
func TestComposeEntrypointMatrix(t *testing.T) {
	dir := brokerDir(t)
	run := filepath.Join(dir, "run")
	pass := map[string]string{}
	env := append(os.Environ(), "MOSQUITTO_RUN_DIR="+run, "MOSQUITTO_ACL_SOURCE=../../infra/mosquitto/aclfile",
		"MOSQUITTO_TLS_DIR="+filepath.Join(dir, "tls"), "MOSQUITTO_OWNER="+brokerOwner(),
		"MQTT_DEVICES="+mqttacl.FormatDevices(matrixDevices()))
	for _, a := range mqttacl.Accounts() {
		pass[a.Name] = localinfra.Secret()
		env = append(env, a.PassVar+"="+pass[a.Name])
	}
	if out, err := entrypoint(env); err != nil {
		t.Fatalf("entrypoint: %v\n%s", err, out)
	}
	acl, err := os.ReadFile(filepath.Join(run, "aclfile"))
	if err != nil {
		t.Fatal(err)
	}
	if string(acl) != mqttacl.File(matrixDevices()) {
		t.Fatalf("the entrypoint's ACL differs from internal/mqttacl's:\n%s", acl)
	}
	if _, err := os.Stat(filepath.Join(run, "conf.d", "tls.conf")); err == nil {
		t.Fatal("a TLS listener without a certificate")
	}
	port := startMosquitto(t, dir, fmt.Sprintf("per_listener_settings false\nallow_anonymous false\npassword_file %s\nacl_file %s\nlistener %%d 127.0.0.1\n",
		filepath.Join(run, "passwd"), filepath.Join(run, "aclfile")))
	runMatrix(t, func(account string) bus.Config {
		p := pass[account]
		for _, d := range matrixDevices() {
			if d.ID == account {
				p = d.Password
			}
		}
		return bus.Config{Broker: "127.0.0.1", Port: port, User: account, Pass: p}
	})
}

// TestComposeEntrypointTLS: with a certificate in the TLS directory the
// entrypoint adds the 8883 listener on a copy of the key; a Mosquitto started
// on its files (the listener moved to a free loopback port) takes a client
// that trusts the certificate's CA over TLS, with the same accounts.
func TestComposeEntrypointTLS(t *testing.T) {
	dir := brokerDir(t)
	tls := filepath.Join(dir, "tls")
	if err := os.Mkdir(tls, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := tlscert.Ensure(tls, []string{"mosquitto", "127.0.0.1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	env := append(os.Environ(), "MOSQUITTO_RUN_DIR="+run, "MOSQUITTO_ACL_SOURCE=../../infra/mosquitto/aclfile",
		"MOSQUITTO_TLS_DIR="+tls, "MOSQUITTO_OWNER="+brokerOwner(), "MQTT_MONITOR_PASS=monitor-password",
		"MQTT_PERCEPTION_PASS=perception-password")
	if out, err := entrypoint(env); err != nil {
		t.Fatalf("entrypoint: %v\n%s", err, out)
	}
	conf, err := os.ReadFile(filepath.Join(run, "conf.d", "tls.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), "listener 8883 0.0.0.0\n") || !strings.Contains(string(conf), "keyfile "+filepath.Join(run, "tls", "server.key")) {
		t.Fatalf("tls.conf:\n%s", conf)
	}

	tlsPort, err := childproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := entrypoint(append(env, fmt.Sprintf("MOSQUITTO_TLS_LISTEN=%d 127.0.0.1", tlsPort))); err != nil {
		t.Fatalf("entrypoint: %v\n%s", err, out)
	}
	// As mosquitto.compose.conf: the plain listener, then conf.d.
	startMosquitto(t, dir, fmt.Sprintf("per_listener_settings false\nallow_anonymous false\npassword_file %s\nacl_file %s\nlistener %%d 127.0.0.1\ninclude_dir %s\n",
		filepath.Join(run, "passwd"), filepath.Join(run, "aclfile"), filepath.Join(run, "conf.d")))
	cfg := func(user, pass string) bus.Config {
		return bus.Config{Broker: "127.0.0.1", Port: tlsPort, User: user, Pass: pass, TLS: true, TLSCA: filepath.Join(tls, tlscert.CAFile)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watcher := bus.New(cfg(mqttacl.UserMonitor, "monitor-password"), "tls-monitor", logging.Discard(), nil)
	defer watcher.Close()
	pub := bus.New(cfg(mqttacl.UserPerception, "perception-password"), "tls-perception", logging.Discard(), nil)
	defer pub.Close()
	for _, c := range []*bus.Client{watcher, pub} {
		if err := c.WaitConnected(ctx); err != nil {
			t.Fatalf("over TLS: %v", err)
		}
	}
	got := make(chan bus.Message, 1)
	if err := watcher.Subscribe(ctx, "office/+/occupancy", 1, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, "office/tls/occupancy", 1, false, []byte(`{"person_count":1}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("nothing delivered over the entrypoint's TLS listener")
	}
	wrong := bus.New(cfg(mqttacl.UserPerception, "not-the-password"), "tls-wrong", logging.Discard(), nil)
	defer wrong.Close()
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
	defer wcancel()
	if err := wrong.WaitConnected(wctx); err == nil {
		t.Fatal("a wrong password connected over TLS")
	}
}

// The entrypoint refuses what the Go side refuses, and placeholders.
func TestComposeEntrypointRefuses(t *testing.T) {
	base := func(t *testing.T) []string {
		run := filepath.Join(t.TempDir(), "run")
		return append(os.Environ(), "MOSQUITTO_RUN_DIR="+run, "MOSQUITTO_ACL_SOURCE=../../infra/mosquitto/aclfile",
			"MOSQUITTO_OWNER=nobody-here", "MQTT_MONITOR_PASS=monitor-password")
	}
	var bad []string
	for _, a := range mqttacl.Accounts() {
		bad = append(bad, "MQTT_DEVICES="+a.Name+":0123456789abcdef") // a service's name
	}
	bad = append(bad,
		"MQTT_DEVICES=env_01", "MQTT_DEVICES=env_01:short", "MQTT_DEVICES=env/01:0123456789abcdef",
		"MQTT_DEVICES=env.01:0123456789abcdef", "MQTT_DEVICES=a:0123456789abcdef,a:0123456789abcdef",
		"MQTT_DEVICES=hub:0123456789abcdef:leaf+le#f", "MQTT_DEVICES=hub:0123456789abcdef:leaf+leaf", "MQTT_DEVICES=a:b:c:d",
		"MQTT_BRAIN_PASS=change-me-mqtt-brain", "MQTT_PASS=short",
	)
	for _, b := range bad {
		if _, err := mqttacl.ParseDevices(strings.TrimPrefix(b, "MQTT_DEVICES=")); strings.HasPrefix(b, "MQTT_DEVICES=") && err == nil {
			t.Errorf("Go accepts %s", b)
		}
		if out, err := entrypoint(append(base(t), b)); err == nil {
			t.Errorf("the entrypoint accepts %s:\n%s", b, out)
		}
	}
	if out, err := entrypoint(base(t)); err != nil {
		t.Fatalf("the minimal environment is refused: %v\n%s", err, out)
	}
	if out, err := entrypoint(append(base(t), "MQTT_MONITOR_PASS=")); err == nil {
		t.Fatalf("no monitor password accepted:\n%s", out)
	}
}

// brokerOwner is who the entrypoint gives its files to: the broker's user
// when we are root (the broker drops to it), else nobody (we run it).
func brokerOwner() string {
	if os.Geteuid() == 0 {
		return "mosquitto"
	}
	return "nobody-here"
}

// entrypoint runs the compose entrypoint with env, exec'ing true.
func entrypoint(env []string) ([]byte, error) {
	cmd := exec.Command("sh", "../../infra/docker/mosquitto-entrypoint.sh", "true")
	cmd.Env = env
	return cmd.CombinedOutput()
}

// startMosquitto runs mosquitto on conf (with %d for a free port) in dir.
func startMosquitto(t *testing.T, dir, conf string) int {
	t.Helper()
	port, err := childproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(conf, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	p, err := childproc.Start(childproc.Spec{Name: "mosquitto", Path: bin, Args: []string{"-c", path}, Env: childproc.BaseEnv(), Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(15, 5*time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := childproc.WaitTCP(ctx, p, port); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(p.Logs(20), "\n"))
	}
	return port
}
