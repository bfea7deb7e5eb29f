// Package bus is the MQTT client every SOMS process uses: paho underneath, with
// automatic reconnect, subscriptions that survive reconnects, JSON helpers and
// Prometheus counters.
package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is the broker connection, with the original SOMS variable names.
type Config struct {
	Broker   string `env:"MQTT_BROKER" default:"localhost" doc:"MQTT broker host"`
	Port     int    `env:"MQTT_PORT" default:"1883" doc:"MQTT broker port"`
	User     string `env:"MQTT_USER" doc:"MQTT user name (empty: anonymous)"`
	Pass     string `env:"MQTT_PASS" doc:"MQTT password"`
	ClientID string `env:"MQTT_CLIENT_ID" doc:"client id (default: service name plus a random suffix)"`
}

// Message is one received MQTT message.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Handler receives messages. Handlers run one at a time in arrival order on the
// client's delivery goroutine, so they must return quickly and must not wait for
// a QoS>0 publish to complete.
type Handler func(Message)

// Client is a connected (or reconnecting) MQTT client.
type Client struct {
	c   mqtt.Client
	log *slog.Logger

	mu   sync.Mutex
	subs map[string]subscription

	connected  chan struct{}
	onceUp     sync.Once
	up         prometheus.Gauge
	received   prometheus.Counter
	published  prometheus.Counter
	reconnects prometheus.Counter
}

type subscription struct {
	qos byte
	h   Handler
}

// New creates a client and starts connecting in the background; it keeps
// retrying until the broker answers. Use WaitConnected to block until it does.
func New(cfg Config, name string, log *slog.Logger, reg prometheus.Registerer) *Client {
	b := &Client{
		log:        log.With("component", "mqtt"),
		subs:       map[string]subscription{},
		connected:  make(chan struct{}),
		up:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "soms_mqtt_connected", Help: "1 while connected to the MQTT broker."}),
		received:   prometheus.NewCounter(prometheus.CounterOpts{Name: "soms_mqtt_received_total", Help: "MQTT messages received."}),
		published:  prometheus.NewCounter(prometheus.CounterOpts{Name: "soms_mqtt_published_total", Help: "MQTT messages published."}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "soms_mqtt_connects_total", Help: "Successful (re)connections to the broker."}),
	}
	if reg != nil {
		reg.MustRegister(b.up, b.received, b.published, b.reconnects)
	}
	id := cfg.ClientID
	if id == "" {
		id = name + "-" + randomHex(4)
	}
	opts := mqtt.NewClientOptions().
		AddBroker("tcp://" + net.JoinHostPort(cfg.Broker, strconv.Itoa(cfg.Port))).
		SetClientID(id).
		SetUsername(cfg.User).
		SetPassword(cfg.Pass).
		SetKeepAlive(60 * time.Second).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).
		SetCleanSession(true).
		SetOnConnectHandler(b.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			b.up.Set(0)
			b.log.Warn("connection lost, reconnecting", "err", err)
		})
	b.c = mqtt.NewClient(opts)
	b.c.Connect() // with ConnectRetry the token only completes once connected
	return b
}

func (b *Client) onConnect(c mqtt.Client) {
	b.up.Set(1)
	b.reconnects.Inc()
	b.mu.Lock()
	subs := make(map[string]subscription, len(b.subs))
	for f, s := range b.subs {
		subs[f] = s
	}
	b.mu.Unlock()
	for f, s := range subs {
		if err := b.subscribe(f, s); err != nil {
			b.log.Error("re-subscribe failed", "filter", f, "err", err)
		}
	}
	b.log.Info("connected", "subscriptions", len(subs))
	b.onceUp.Do(func() { close(b.connected) })
}

// WaitConnected blocks until the first connection succeeds or ctx is done.
func (b *Client) WaitConnected(ctx context.Context) error {
	select {
	case <-b.connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for MQTT broker: %w", ctx.Err())
	}
}

// Connected reports whether the client is connected right now.
func (b *Client) Connected() bool { return b.c.IsConnectionOpen() }

// Ready is a readiness check for httpx.
func (b *Client) Ready(context.Context) error {
	if !b.Connected() {
		return errors.New("not connected to the MQTT broker")
	}
	return nil
}

// Subscribe registers h for filter now (if connected) and after every reconnect.
func (b *Client) Subscribe(ctx context.Context, filter string, qos byte, h Handler) error {
	s := subscription{qos: qos, h: h}
	b.mu.Lock()
	b.subs[filter] = s
	b.mu.Unlock()
	if !b.Connected() {
		return nil // onConnect subscribes
	}
	return b.wait(ctx, b.c.Subscribe(filter, qos, b.deliver(h)), "subscribe "+filter)
}

func (b *Client) subscribe(filter string, s subscription) error {
	t := b.c.Subscribe(filter, s.qos, b.deliver(s.h))
	if !t.WaitTimeout(10 * time.Second) {
		return errors.New("subscribe timed out")
	}
	return t.Error()
}

func (b *Client) deliver(h Handler) mqtt.MessageHandler {
	return func(_ mqtt.Client, m mqtt.Message) {
		b.received.Inc()
		h(Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained()})
	}
}

// Publish sends payload; it waits for the broker hand-off up to ctx.
func (b *Client) Publish(ctx context.Context, topic string, qos byte, retain bool, payload []byte) error {
	if err := b.wait(ctx, b.c.Publish(topic, qos, retain, payload), "publish "+topic); err != nil {
		return err
	}
	b.published.Inc()
	return nil
}

// PublishJSON marshals v and publishes it.
func (b *Client) PublishJSON(ctx context.Context, topic string, qos byte, retain bool, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return b.Publish(ctx, topic, qos, retain, data)
}

func (b *Client) wait(ctx context.Context, t mqtt.Token, what string) error {
	select {
	case <-t.Done():
		if err := t.Error(); err != nil {
			return fmt.Errorf("mqtt %s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt %s: %w", what, ctx.Err())
	}
}

// Close disconnects, letting in-flight messages drain briefly.
func (b *Client) Close() {
	b.c.Disconnect(250)
	b.up.Set(0)
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}
