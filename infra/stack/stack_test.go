package stack

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	infracompose "github.com/somsgo/soms/infra/compose"
)

// TestTestOverride generates the test override for the virtual office and
// loads it with the base files through the compose loader: every service the
// tests talk to is published once, on a distinct loopback port, and the
// secrets are fresh.
func TestTestOverride(t *testing.T) {
	t.Parallel()
	dir, err := findInfra()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: dir, Files: DefaultFiles, Env: map[string]string{"LOG_LEVEL": "warn"}}
	env, err := stackEnv(opts)
	if err != nil {
		t.Fatal(err)
	}
	example, err := infracompose.ReadEnvFile(filepath.Join(dir, "env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range secretVars {
		if env[k] == "" || env[k] == example[k] {
			t.Errorf("%s is not a fresh secret: %q", k, env[k])
		}
	}
	if env["SOMS_CLOCK"] != "sim" || env["LOG_LEVEL"] != "warn" {
		t.Errorf("SOMS_CLOCK=%q LOG_LEVEL=%q", env["SOMS_CLOCK"], env["LOG_LEVEL"])
	}
	project, err := infracompose.Load(context.Background(), dir, DefaultFiles, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{opts: opts, env: env, project: project, ports: map[string]map[int]int{}, main: map[string]int{}}
	override, err := s.testOverride()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "docker-compose.test.yml")
	if err := os.WriteFile(path, []byte(override), 0o600); err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{WorkingDir: dir, Environment: env}
	for _, f := range append(append([]string{}, DefaultFiles...), path) {
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: f, Content: data})
	}
	merged, err := infracompose.LoadDetails(context.Background(), details, nil)
	if err != nil {
		t.Fatalf("override does not load: %v\n%s", err, override)
	}
	seen := map[string]string{}
	for name, svc := range merged.Services {
		if h := svc.HealthCheck; h != nil && !h.Disable && (h.Interval == nil || time.Duration(*h.Interval) != 2*time.Second) {
			t.Errorf("%s probes its health every %v, want 2s in a test stack", name, h.Interval)
		}
		if name == "wallet" && len(svc.Ports) > 0 {
			t.Errorf("the test stack publishes the wallet: %v", svc.Ports)
		}
		for _, p := range svc.Ports {
			if p.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %d on %q", name, p.Target, p.HostIP)
			}
			if other, dup := seen[p.Published]; dup {
				t.Errorf("host port %s used by %s and %s", p.Published, name, other)
			}
			seen[p.Published] = name
			if want := s.ports[name][int(p.Target)]; p.Published != itoa(want) {
				t.Errorf("%s:%d published on %s, the stack expects %d", name, p.Target, p.Published, want)
			}
		}
	}
	for _, name := range []string{"backend", "brain", "wallet", "mockllm", "edge", "voice", "camera", "voicevox-sim", "perception", "frontend"} {
		if !strings.HasPrefix(s.URL(name), "http://127.0.0.1:") {
			t.Errorf("URL(%s) = %q", name, s.URL(name))
		}
	}
	if s.URL("wallet") == s.URL("backend") {
		t.Error("wallet and backend share a URL")
	}
	if !strings.HasPrefix(s.RTSP(), "rtsp://127.0.0.1:") || s.RTSP() == "rtsp://127.0.0.1:0" {
		t.Errorf("RTSP() = %q", s.RTSP())
	}
	mq := s.MQTT("sim")
	if mq.Port == 0 || mq.Pass != env["MQTT_SIM_PASS"] || mq.User != "sim" {
		t.Errorf("MQTT(sim) = %+v", mq)
	}
	if !strings.Contains(s.DatabaseURL(), env["POSTGRES_PASSWORD"]) {
		t.Errorf("DatabaseURL %s", s.DatabaseURL())
	}
	apps := s.appServices()
	for _, infra := range Infrastructure {
		for _, a := range apps {
			if a == infra {
				t.Errorf("Reset would restart %s", infra)
			}
		}
	}
	if len(apps) < 8 {
		t.Errorf("app services %v", apps)
	}
	// The broker comes up first, alone with what it needs (its certificate).
	broker, err := s.withDependencies("mosquitto")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(broker)
	if want := []string{"mosquitto", "mqtt-tls"}; !slices.Equal(broker, want) {
		t.Errorf("the broker's services = %v, want %v", broker, want)
	}
}

func TestLastLines(t *testing.T) {
	t.Parallel()
	got := lastLines(strings.NewReader("a\nb\nc\nd\n"), 2)
	if strings.Join(got, ",") != "c,d" {
		t.Errorf("got %v", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
