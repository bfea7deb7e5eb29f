package bus_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func connect(t *testing.T, cfg bus.Config, name string) *bus.Client {
	t.Helper()
	c := bus.New(cfg, name, logging.Discard(), prometheus.NewRegistry())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func receive(t *testing.T, ch <-chan bus.Message, within time.Duration) (bus.Message, bool) {
	t.Helper()
	select {
	case m := <-ch:
		return m, true
	case <-time.After(within):
		return bus.Message{}, false
	}
}

func TestPublishSubscribe(t *testing.T) {
	b := testenv.Broker(t)
	sub := connect(t, b.Config(mqttacl.UserService), "sub")
	pub := connect(t, b.Config(mqttacl.UserService), "pub")
	got := make(chan bus.Message, 4)
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "office/#", 1, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	if err := pub.PublishJSON(ctx, "office/main/sensor/env_01/co2", 1, false, map[string]int{"value": 812}); err != nil {
		t.Fatal(err)
	}
	m, ok := receive(t, got, 5*time.Second)
	if !ok {
		t.Fatal("message not delivered")
	}
	if m.Topic != "office/main/sensor/env_01/co2" || string(m.Payload) != `{"value":812}` {
		t.Fatalf("got %s %s", m.Topic, m.Payload)
	}
}

func TestACLKeepsServicesOffTheClock(t *testing.T) {
	b := testenv.Broker(t)
	watcher := connect(t, b.Config(mqttacl.UserMonitor), "watch")
	got := make(chan bus.Message, 4)
	ctx := context.Background()
	if err := watcher.Subscribe(ctx, "soms/sim/#", 1, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	svc := connect(t, b.Config(mqttacl.UserService), "svc")
	// The broker accepts the publish but drops it: soms may only read the clock.
	_ = svc.Publish(ctx, "soms/sim/acl-test", 1, false, []byte(`{"speed":999}`))
	if m, ok := receive(t, got, 500*time.Millisecond); ok {
		t.Fatalf("service user wrote the clock topic: %s", m.Payload)
	}
	sim := connect(t, b.Config(mqttacl.UserSim), "sim")
	if err := sim.Publish(ctx, "soms/sim/acl-test", 1, false, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := receive(t, got, 5*time.Second); !ok {
		t.Fatal("sim user could not publish on soms/sim")
	}
}

func TestWrongPasswordNeverConnects(t *testing.T) {
	b := testenv.Broker(t)
	cfg := b.Config(mqttacl.UserService)
	cfg.Pass = "wrong"
	c := bus.New(cfg, "intruder", logging.Discard(), nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err == nil {
		t.Fatal("connected with a wrong password")
	}
	if c.Ready(context.Background()) == nil {
		t.Fatal("readiness check passes while disconnected")
	}
}

func TestResubscribesAfterBrokerRestart(t *testing.T) {
	b := testenv.Broker(t)
	sub := connect(t, b.Config(mqttacl.UserService), "resub")
	got := make(chan bus.Message, 16)
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "office/+/occupancy", 0, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	b = testenv.RestartBroker(t)
	pub := connect(t, b.Config(mqttacl.UserService), "pub2")
	// The subscriber reconnects on its own; keep publishing until it is back.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err := pub.Publish(ctx, "office/main/occupancy", 0, false, []byte(`{"person_count":1}`)); err != nil {
			t.Fatal(err)
		}
		if _, ok := receive(t, got, 200*time.Millisecond); ok {
			return
		}
	}
	t.Fatal("subscription did not survive the broker restart")
}

// Handlers of different subscriptions run one at a time in the order the
// messages arrived, also while a slow handler keeps the inbox busy.
func TestHandlersRunInArrivalOrder(t *testing.T) {
	b := testenv.Broker(t)
	sub := connect(t, b.Config(mqttacl.UserService), "order-sub")
	pub := connect(t, b.Config(mqttacl.UserService), "order-pub")
	ctx := context.Background()
	const n = 500
	var got []string
	done := make(chan struct{})
	record := func(m bus.Message) {
		got = append(got, m.Topic+" "+string(m.Payload)) // no lock: handlers never run concurrently (-race checks)
		if len(got) == 1 {
			time.Sleep(50 * time.Millisecond) // a slow handler: the rest queue up behind it
		}
		if len(got) == n {
			close(done)
		}
	}
	for _, f := range []string{"office/a/occupancy", "office/b/occupancy"} {
		if err := sub.Subscribe(ctx, f, 1, record); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range n {
		tp := "office/a/occupancy"
		if i%3 == 0 {
			tp = "office/b/occupancy"
		}
		p := strconv.Itoa(i)
		want = append(want, tp+" "+p)
		if err := pub.Publish(ctx, tp, 1, false, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%d of %d messages delivered", len(got), n)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("delivery order differs from publish order; first messages %q", got[:min(10, len(got))])
	}
}
