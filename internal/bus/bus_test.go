package bus_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/tlscert"
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
	sub := connect(t, b.Config(mqttacl.UserBackend), "sub")
	pub := connect(t, b.Config(mqttacl.UserSim), "pub")
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
	svc := connect(t, b.Config(mqttacl.UserBackend), "svc")
	// The broker accepts the publish but drops it: services only read the clock.
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
	cfg := b.Config(mqttacl.UserBrain)
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
	sub := connect(t, b.Config(mqttacl.UserBackend), "resub")
	got := make(chan bus.Message, 16)
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "office/+/occupancy", 0, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	b = testenv.RestartBroker(t)
	pub := connect(t, b.Config(mqttacl.UserPerception), "pub2")
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
	sub := connect(t, b.Config(mqttacl.UserBackend), "order-sub")
	pub := connect(t, b.Config(mqttacl.UserPerception), "order-pub")
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

// TestTLS: with MQTT_TLS and MQTT_TLS_CA a client reaches the broker's TLS
// listener (a certificate from internal/tlscert, as the compose broker
// gets), verifying it; a client trusting another CA, or expecting another
// name, is refused; an unusable CA file is an error before any connection.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil { // the broker drops root
			t.Fatal(err)
		}
	}
	if _, err := tlscert.Ensure(dir, []string{"localhost", "127.0.0.1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := localinfra.StartBrokerOpts(ctx, filepath.Join(dir, "broker"), 0, localinfra.BrokerOptions{
		TLS: &localinfra.TLSListener{CertFile: filepath.Join(dir, tlscert.CertFile), KeyFile: filepath.Join(dir, tlscert.KeyFile)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	tlsCfg := func(user string) bus.Config {
		c := b.Config(user)
		c.Port, c.TLS, c.TLSCA = b.TLSPort, true, filepath.Join(dir, tlscert.CAFile)
		return c
	}
	sub := connect(t, tlsCfg(mqttacl.UserBackend), "tls-sub")
	got := make(chan bus.Message, 1)
	if err := sub.Subscribe(ctx, "office/+/occupancy", 1, func(m bus.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	pub := connect(t, tlsCfg(mqttacl.UserPerception), "tls-pub")
	if err := pub.Publish(ctx, "office/tls/occupancy", 1, false, []byte(`{"person_count":2}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := receive(t, got, 5*time.Second); !ok {
		t.Fatal("nothing delivered over TLS")
	}

	refused := func(name string, cfg bus.Config) {
		t.Helper()
		c := bus.New(cfg, name, logging.Discard(), nil)
		defer c.Close()
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		if err := c.WaitConnected(wctx); err == nil {
			t.Errorf("%s connected", name)
		}
	}
	other := t.TempDir()
	if _, err := tlscert.Ensure(other, []string{"localhost"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	wrongCA := tlsCfg(mqttacl.UserBackend)
	wrongCA.TLSCA = filepath.Join(other, tlscert.CAFile)
	refused("another CA", wrongCA)
	wrongName := tlsCfg(mqttacl.UserBackend)
	wrongName.Broker = "127.0.0.2" // the certificate names localhost and 127.0.0.1
	refused("another name", wrongName)
	plain := b.Config(mqttacl.UserBackend)
	plain.Port = b.TLSPort
	refused("plaintext on the TLS port", plain)

	for _, bad := range []bus.Config{
		{TLS: true, TLSCA: filepath.Join(dir, "missing.crt")},
		{TLS: true, TLSCA: filepath.Join(dir, tlscert.KeyFile)}, // no certificate in it
		{TLSCA: filepath.Join(dir, tlscert.CAFile)},             // a CA without TLS
	} {
		if _, err := bad.TLSConfig(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
