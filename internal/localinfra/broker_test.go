package localinfra_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestBrokerRefusesOversizedMessages: the broker (the harness's
// configuration) refuses a packet over localinfra.MaxPacketSize and
// disconnects its sender; one just under it is delivered.
func TestBrokerRefusesOversizedMessages(t *testing.T) {
	b := testenv.Broker(t)
	ctx := context.Background()
	sub := bus.New(b.Config(mqttacl.UserBackend), "sub", logging.Discard(), prometheus.NewRegistry())
	defer sub.Close()
	if err := sub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan bus.Message, 4)
	if err := sub.Subscribe(ctx, "office/limit/#", 1, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}

	// A plain paho client without reconnection: it must not resend the
	// refused packet.
	cfg := b.Config(mqttacl.UserLegacy)
	big := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + net.JoinHostPort(cfg.Broker, strconv.Itoa(cfg.Port))).
		SetClientID("oversized").SetUsername(cfg.User).SetPassword(cfg.Pass).SetAutoReconnect(false))
	if tok := big.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer big.Disconnect(0)
	tok := big.Publish("office/limit/sensor/x/big", 1, false, strings.Repeat("x", localinfra.MaxPacketSize))
	acked := tok.WaitTimeout(5*time.Second) && tok.Error() == nil
	if acked || big.IsConnectionOpen() {
		t.Fatalf("an oversized packet was acknowledged (%v) or its sender kept (%v)", acked, big.IsConnectionOpen())
	}

	pub := bus.New(b.Config(mqttacl.UserLegacy), "pub", logging.Discard(), prometheus.NewRegistry())
	defer pub.Close()
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, "office/limit/sensor/x/near", 1, false, []byte(strings.Repeat("y", localinfra.MaxPacketSize-1024))); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.Topic != "office/limit/sensor/x/near" {
			t.Fatalf("delivered %s (%d bytes)", m.Topic, len(m.Payload))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a message under the limit was not delivered")
	}
}

// TestComposeBrokersShareTheLimit: the compose and edge configurations set the
// harness's limit.
func TestComposeBrokersShareTheLimit(t *testing.T) {
	for _, f := range []string{"mosquitto.compose.conf", "mosquitto.edge.conf"} {
		b, err := os.ReadFile("../../infra/mosquitto/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "\nmax_packet_size "+strconv.Itoa(localinfra.MaxPacketSize)+"\n") {
			t.Errorf("%s does not set max_packet_size %d", f, localinfra.MaxPacketSize)
		}
	}
}

// TestLimitFitsLegitimateMessages: a hub heartbeat with the most children the
// parser takes, each as the virtual edge writes them, fits the limit twice.
func TestLimitFitsLegitimateMessages(t *testing.T) {
	children := make([]map[string]any, telemetry.MaxChildren)
	for i := range children {
		children[i] = map[string]any{"device_id": fmt.Sprintf("leaf_env_%03d", i), "device_type": "esp32c3_env", "status": "online",
			"power_mode": "DEEP_SLEEP", "battery_pct": 78, "battery_mv": 3712, "hops_to_mqtt": 1,
			"capabilities": []string{"temperature", "humidity"}, "next_wake_sec": 240}
	}
	b, err := json.Marshal(map[string]any{"status": "online", "uptime_sec": 86400, "device_id": "swarm_hub_01",
		"device_type": "swarm_hub", "power_mode": "ALWAYS_ON", "children": children,
		"queue_status": map[string]any{"queued_count": 0, "targets": []string{}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > localinfra.MaxPacketSize/2 {
		t.Fatalf("a %d-child heartbeat is %d bytes, over half the %d-byte limit", telemetry.MaxChildren, len(b), localinfra.MaxPacketSize)
	}
	if telemetry.MaxPayload < localinfra.MaxPacketSize {
		t.Fatal("the parser refuses payloads the broker passes")
	}
}

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
		Listen: localinfra.ListenAll, Passwords: map[string]string{mqttacl.UserLegacy: mqttacl.LegacyPassword},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	if b.Password(mqttacl.UserLegacy) != mqttacl.LegacyPassword || b.Password(mqttacl.UserSim) == "" || b.Password(mqttacl.UserSim) == mqttacl.LegacyPassword {
		t.Fatalf("passwords: soms %q sim %q", b.Password(mqttacl.UserLegacy), b.Password(mqttacl.UserSim))
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
	service := connect(b.Config(mqttacl.UserBackend), "backend")
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

// TestBrokerKeepsRetainedMessagesAcrossARestart: the harness's broker
// persists, so the retained clock and scenes are there after a restart.
func TestBrokerKeepsRetainedMessagesAcrossARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the broker's user must get in
		_ = os.Chmod(d, 0o755)
	}
	b, err := localinfra.StartBroker(ctx, filepath.Join(dir, "mosquitto"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := bus.New(b.Config(mqttacl.UserSim), "pub", logging.Discard(), nil)
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, "soms/sim/clock", 1, true, []byte(`{"step":7}`)); err != nil {
		t.Fatal(err)
	}
	pub.Close()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if b, err = localinfra.StartBrokerWith(ctx, filepath.Join(dir, "mosquitto"), b, nil); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	sub := bus.New(b.Config(mqttacl.UserFollower), "sub", logging.Discard(), nil)
	defer sub.Close()
	if err := sub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	if err := sub.Subscribe(ctx, "soms/sim/clock", 1, func(m bus.Message) { got <- string(m.Payload) }); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != `{"step":7}` {
			t.Fatalf("retained %s", m)
		}
	case <-ctx.Done():
		t.Fatal("the retained message did not survive the restart")
	}
}
