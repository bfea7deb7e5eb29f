package localinfra_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
)

// brokerDir is a directory the broker can read after dropping root (the
// test's temporary directories are private to their user).
func brokerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Hardware in the loop: a broker given the original firmware's password
// admits a device using it, on the original's demo-device roots too, while
// the other accounts keep random passwords and a wrong password is refused.
func TestBrokerWithTheLegacyCredential(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := localinfra.StartBrokerOpts(ctx, brokerDir(t), 0, localinfra.BrokerOptions{
		Listen: localinfra.ListenAll, Passwords: map[string]string{mqttacl.UserService: mqttacl.LegacyPassword},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	if b.Password(mqttacl.UserService) != mqttacl.LegacyPassword || b.Password(mqttacl.UserSim) == "" || b.Password(mqttacl.UserSim) == mqttacl.LegacyPassword {
		t.Fatalf("passwords: soms %q sim %q", b.Password(mqttacl.UserService), b.Password(mqttacl.UserSim))
	}
	connect := func(cfg bus.Config, name string) *bus.Client {
		t.Helper()
		c := bus.New(cfg, name, logging.Discard(), prometheus.NewRegistry())
		t.Cleanup(c.Close)
		return c
	}
	device := connect(bus.Config{Broker: "127.0.0.1", Port: b.Port, User: "soms", Pass: "soms_dev_mqtt"}, "esp32")
	if err := device.WaitConnected(ctx); err != nil {
		t.Fatalf("the original firmware's credential is refused: %v", err)
	}
	service := connect(b.Config(mqttacl.UserService), "backend")
	if err := service.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	if err := service.Subscribe(ctx, "hydro/#", 0, func(m bus.Message) { got <- m.Topic }); err != nil {
		t.Fatal(err)
	}
	if err := device.PublishJSON(ctx, "hydro/lettuce_raft/status", 1, false, map[string]any{"ph": 7.5, "ec": 1.2}); err != nil {
		t.Fatal(err)
	}
	select {
	case tp := <-got:
		if tp != "hydro/lettuce_raft/status" {
			t.Fatal(tp)
		}
	case <-ctx.Done():
		t.Fatal("the device's hydro/ message never arrived")
	}
	wrong := connect(bus.Config{Broker: "127.0.0.1", Port: b.Port, User: "soms", Pass: "nope"}, "intruder")
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
	defer wcancel()
	if err := wrong.WaitConnected(wctx); err == nil {
		t.Fatal("a wrong password was admitted")
	}
	if _, err := localinfra.StartBrokerOpts(ctx, brokerDir(t), 0, localinfra.BrokerOptions{Listen: "192.0.2.1"}, nil); err == nil {
		t.Fatal("an unsupported listen address was accepted")
	}
}
