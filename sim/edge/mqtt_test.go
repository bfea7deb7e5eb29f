package edge

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/scene"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func connect(t *testing.T, cfg bus.Config, name string) *bus.Client {
	t.Helper()
	c := bus.New(cfg, name, slog.New(slog.DiscardHandler), nil)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEdgeOverRealMosquitto runs the office against the real broker with the
// project's ACL, each device on its own account: scenes are published
// retained as user sim, the swarm hub forwards leaf readings with dotted ids,
// a command for the sleeping door leaf comes back queued, and the air
// conditioner refuses a set-point outside its schema with an error reply.
func TestEdgeOverRealMosquitto(t *testing.T) {
	b := testenv.Broker(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	layout := DefaultLayout()
	layout.Zones[1].ID, layout.Devices[1].Zone, layout.Devices[4].Zone, layout.Devices[6].Zone = "mqtt_test_room", "mqtt_test_room", "mqtt_test_room", "mqtt_test_room"
	accounts := Accounts(layout)
	for i := range accounts {
		accounts[i].Password = localinfra.Secret()
	}
	if err := b.AddDevices(ctx, accounts...); err != nil {
		t.Fatal(err)
	}
	simUser := connect(t, b.Config(mqttacl.UserSim), "edge-test-scene")
	watcher := connect(t, b.Config(mqttacl.UserMonitor), "edge-test-watch")
	brain := connect(t, b.Config(mqttacl.UserBrain), "edge-test-brain")

	cfg := Config{Seed: 1, PhysicsStep: time.Second, ReportInterval: time.Second, HeartbeatInterval: time.Second, SwarmTick: 100 * time.Millisecond, MCPLatency: 10 * time.Millisecond}
	o, err := newOffice(cfg, layout, clock.Wall{}, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	devices, err := connectDevices(b.Config(""), mqttacl.FormatDevices(accounts), "", layout, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer devices.close()
	o.link, o.scenes = devices.link, simUser

	got := make(chan bus.Message, 1024)
	for _, f := range []string{scene.Topic("mqtt_test_room"), "office/main/sensor/+/+", "mcp/+/response/#"} {
		if err := watcher.Subscribe(ctx, f, 1, func(m bus.Message) { got <- m }); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.subscribeRequests(ctx, devices); err != nil {
		t.Fatal(err)
	}
	for id, c := range devices {
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		err := c.WaitConnected(wctx)
		wcancel()
		if err != nil {
			t.Fatalf("device %s: %v", id, err)
		}
	}
	go func() { _ = o.run(ctx) }()

	if _, err := o.addPerson("mqtt_test_room", scene.Person{ID: "alice", Posture: scene.Fallen, X: 0.5, Y: 0.5}); err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(mcp.NewRequest("req-1", "set_interval", map[string]any{"seconds": 30}))
	cold, _ := json.Marshal(mcp.NewRequest("req-cold", "set_temperature", map[string]any{"temperature": -40}))
	if err := brain.Publish(ctx, topic.MCPRequest("hvac_01"), 1, false, cold); err != nil {
		t.Fatal(err)
	}
	sentCommand := false
	var sawScene, sawLeaf, sawQueued, sawRefusal bool
	deadline := time.After(20 * time.Second)
	for !(sawScene && sawLeaf && sawQueued && sawRefusal) {
		select {
		case m := <-got:
			switch {
			case strings.HasPrefix(m.Topic, "soms/sim/scene/"):
				sc, err := scene.Decode(m.Payload)
				if err == nil && len(sc.People) == 1 && sc.People[0].ID == "alice" && sc.People[0].Posture == scene.Fallen {
					sawScene = true
				}
			case strings.HasPrefix(m.Topic, "office/main/sensor/swarm_hub_01.leaf_door_01/"):
				sawLeaf = true
				if !sentCommand { // the leaf has reported once, so it is asleep now
					sentCommand = true
					if err := brain.Publish(ctx, topic.MCPRequest("swarm_hub_01.leaf_door_01"), 1, false, req); err != nil {
						t.Fatal(err)
					}
				}
			case m.Topic == topic.MCPResponse("swarm_hub_01.leaf_door_01", "req-1"):
				var resp struct {
					Result map[string]any `json:"result"`
				}
				_ = json.Unmarshal(m.Payload, &resp)
				if resp.Result["status"] != "queued" {
					t.Fatalf("sleeping leaf answered %s", m.Payload)
				}
				sawQueued = true
			case m.Topic == topic.MCPResponse("hvac_01", "req-cold"):
				var resp mcp.Response
				if err := json.Unmarshal(m.Payload, &resp); err != nil || !strings.Contains(string(resp.Error), "-40 is out of range 16..30") {
					t.Fatalf("set_temperature -40 answered %s", m.Payload)
				}
				sawRefusal = true
			}
		case <-deadline:
			t.Fatalf("scene %v, leaf report %v, queued reply %v, refusal %v", sawScene, sawLeaf, sawQueued, sawRefusal)
		}
	}
	o.mu.Lock()
	setpoint := o.zones["main"].HVACSetpoint
	o.mu.Unlock()
	if setpoint != nil {
		t.Fatalf("a refused set-point was applied: %v", *setpoint)
	}
	if o.zones["mqtt_test_room"].People != 1 {
		t.Fatalf("occupancy did not follow the scene: %d", o.zones["mqtt_test_room"].People)
	}
}
