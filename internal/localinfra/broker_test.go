package localinfra_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
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
	sub := bus.New(b.Config(mqttacl.UserService), "sub", logging.Discard(), prometheus.NewRegistry())
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
	cfg := b.Config(mqttacl.UserService)
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

	pub := bus.New(b.Config(mqttacl.UserService), "pub", logging.Discard(), prometheus.NewRegistry())
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
