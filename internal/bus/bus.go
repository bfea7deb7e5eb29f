// Package bus is the MQTT client every SOMS process uses: paho underneath, with
// automatic reconnect, subscriptions that survive reconnects, JSON helpers and
// Prometheus counters.
package bus

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/topic"
)

// Config is the broker connection, with the original SOMS variable names.
type Config struct {
	Broker   string `env:"MQTT_BROKER" default:"localhost" doc:"MQTT broker host"`
	Port     int    `env:"MQTT_PORT" default:"1883" doc:"MQTT broker port"`
	User     string `env:"MQTT_USER" doc:"MQTT user name (empty: anonymous)"`
	Pass     string `env:"MQTT_PASS" doc:"MQTT password"`
	ClientID string `env:"MQTT_CLIENT_ID" doc:"client id (default: service name plus a random suffix)"`
	// TLS keeps the password and the traffic off the network in clear
	// (docs/mqtt-acl.md, "MQTT over TLS").
	TLS   bool   `env:"MQTT_TLS" default:"false" doc:"connect over TLS (the broker's TLS listener: 8883 in compose; set MQTT_PORT to it)"`
	TLSCA string `env:"MQTT_TLS_CA" doc:"PEM file of the CA that signed the broker's certificate (default: the system's trusted CAs); for the compose broker's generated certificate, ca.crt of its mqtt_tls volume"`
}

// TLSConfig is the TLS client configuration of c: nil without MQTT_TLS, an
// error when the CA file is unusable. The broker's certificate is always
// verified, against MQTT_BROKER's name.
func (c Config) TLSConfig() (*tls.Config, error) {
	if !c.TLS {
		if c.TLSCA != "" {
			return nil, errors.New("MQTT_TLS_CA is set but MQTT_TLS is not: set MQTT_TLS=true (and MQTT_PORT to the TLS listener)")
		}
		return nil, nil
	}
	tc := &tls.Config{ServerName: c.Broker, MinVersion: tls.VersionTLS12}
	if c.TLSCA != "" {
		pem, err := os.ReadFile(c.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("MQTT_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("MQTT_TLS_CA=%s: no PEM certificate in it", c.TLSCA)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Message is one received MQTT message.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Handler receives messages. Handlers run one at a time, in arrival order, on
// the client's own delivery goroutine, so they must return quickly; one that
// waits for a QoS>0 publish to complete can stall delivery once the inbox is
// full.
type Handler func(Message)

// inboxSize bounds the messages read from the broker but not yet handled.
// Mosquitto drops QoS 0 messages for a subscriber whose outgoing queue passes
// max_queued_messages (1000 by default) — which happens within milliseconds of
// a burst when the network reader waits for each handler, as it does inside
// paho. With the inbox the reader keeps draining the socket while handlers run
// on another core; the client stops reading, and the broker holds or drops,
// only when the handlers fall behind for longer than the inbox covers.
const inboxSize = 8192

// readBuffer is the socket read buffer: paho reads every packet in three
// small reads (type, length, body), one system call each without it.
const readBuffer = 64 << 10

// Client is a connected (or reconnecting) MQTT client.
type Client struct {
	c   mqtt.Client
	log *slog.Logger

	mu   sync.Mutex
	subs []subscription // in subscription order; replaced, never changed in place
	// onConn are called after every (re)connection.
	onConn []func()
	// routes is subs for the delivery goroutine, read without the lock.
	routes atomic.Pointer[[]subscription]

	inbox     chan Message
	closed    chan struct{}
	closeOnce sync.Once

	connected  chan struct{}
	onceUp     sync.Once
	up         prometheus.Gauge
	received   prometheus.Counter
	published  prometheus.Counter
	reconnects prometheus.Counter
	queued     prometheus.GaugeFunc
}

type subscription struct {
	filter string
	qos    byte
	h      Handler
}

// New creates a client and starts connecting in the background; it keeps
// retrying until the broker answers. Use WaitConnected to block until it does.
func New(cfg Config, name string, log *slog.Logger, reg prometheus.Registerer) *Client {
	b := &Client{
		log:        log.With("component", "mqtt"),
		inbox:      make(chan Message, inboxSize),
		closed:     make(chan struct{}),
		connected:  make(chan struct{}),
		up:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "soms_mqtt_connected", Help: "1 while connected to the MQTT broker."}),
		received:   prometheus.NewCounter(prometheus.CounterOpts{Name: "soms_mqtt_received_total", Help: "MQTT messages received."}),
		published:  prometheus.NewCounter(prometheus.CounterOpts{Name: "soms_mqtt_published_total", Help: "MQTT messages published."}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "soms_mqtt_connects_total", Help: "Successful (re)connections to the broker."}),
	}
	b.queued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "soms_mqtt_inbox_messages", Help: "Received MQTT messages waiting for their handlers (at most " + strconv.Itoa(inboxSize) + ").",
	}, func() float64 { return float64(len(b.inbox)) })
	if reg != nil {
		reg.MustRegister(b.up, b.received, b.published, b.reconnects, b.queued)
	}
	id := cfg.ClientID
	if id == "" {
		id = name + "-" + randomHex(4)
	}
	scheme := "tcp://"
	tc, tlsErr := cfg.TLSConfig()
	if tc != nil {
		scheme = "tls://"
	}
	opts := mqtt.NewClientOptions().
		AddBroker(scheme + net.JoinHostPort(cfg.Broker, strconv.Itoa(cfg.Port))).
		SetClientID(id).
		SetUsername(cfg.User).
		SetPassword(cfg.Pass).
		SetKeepAlive(60 * time.Second).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).
		SetCleanSession(true).
		SetTLSConfig(tc).
		SetCustomOpenConnectionFn(func(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
			if tlsErr != nil {
				return nil, tlsErr // services check TLSConfig before they get here
			}
			return dialBuffered(uri, o)
		}).
		// One paho handler for everything: the routes are matched here
		// without allocating (paho splits both topics for every route).
		SetDefaultPublishHandler(b.receive).
		SetOnConnectHandler(b.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			b.up.Set(0)
			b.log.Warn("connection lost, reconnecting", "err", err)
		})
	b.c = mqtt.NewClient(opts)
	go b.dispatch()
	b.c.Connect() // with ConnectRetry the token only completes once connected
	return b
}

// bufferedConn reads through a buffer; writes go straight to the socket
// (paho writes each packet whole).
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func dialBuffered(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	var conn net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		conn, err = o.Dialer.Dial("tcp", uri.Host)
	case "tls", "ssl", "mqtts":
		conn, err = tls.DialWithDialer(o.Dialer, "tcp", uri.Host, o.TLSConfig)
	default:
		return nil, fmt.Errorf("mqtt: unsupported scheme %q", uri.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, readBuffer)}, nil
}

// receive runs on paho's router goroutine: it only queues the message, so
// that paho goes back to reading the socket.
func (b *Client) receive(_ mqtt.Client, m mqtt.Message) {
	select {
	case b.inbox <- Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained()}:
	case <-b.closed:
	}
}

// dispatch hands queued messages to every matching subscription's handler.
func (b *Client) dispatch() {
	for {
		select {
		case m := <-b.inbox:
			select {
			case <-b.closed:
				return // both were ready: Close wins
			default:
			}
			b.received.Inc()
			if rs := b.routes.Load(); rs != nil {
				for _, s := range *rs {
					if topic.Matches(s.filter, m.Topic) {
						s.h(m)
					}
				}
			}
		case <-b.closed:
			return
		}
	}
}

func (b *Client) onConnect(mqtt.Client) {
	b.up.Set(1)
	b.reconnects.Inc()
	b.mu.Lock()
	subs := b.subs
	b.mu.Unlock()
	for _, s := range subs {
		if err := b.subscribe(s.filter, s.qos); err != nil {
			b.log.Error("re-subscribe failed", "filter", s.filter, "err", err)
		}
	}
	b.log.Info("connected", "subscriptions", len(subs))
	b.onceUp.Do(func() { close(b.connected) })
	b.mu.Lock()
	hooks := b.onConn
	b.mu.Unlock()
	for _, f := range hooks {
		go f() // paho waits for this callback; the hook may publish
	}
}

// OnConnect calls f after every (re)connection, once the subscriptions are
// restored: the moment to publish again the retained state a restarted broker
// may have lost.
func (b *Client) OnConnect(f func()) {
	b.mu.Lock()
	b.onConn = append(b.onConn, f)
	b.mu.Unlock()
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

// Subscribe registers h for filter now (if connected) and after every
// reconnect. A second subscription to the same filter replaces the first.
func (b *Client) Subscribe(ctx context.Context, filter string, qos byte, h Handler) error {
	s := subscription{filter: filter, qos: qos, h: h}
	b.mu.Lock()
	subs := slices.Clone(b.subs)
	if i := slices.IndexFunc(subs, func(o subscription) bool { return o.filter == filter }); i >= 0 {
		subs[i] = s
	} else {
		subs = append(subs, s)
	}
	b.subs = subs
	b.routes.Store(&subs)
	b.mu.Unlock()
	if !b.Connected() {
		return nil // onConnect subscribes
	}
	return b.wait(ctx, b.c.Subscribe(filter, qos, nil), "subscribe "+filter)
}

// subscribe asks the broker for filter; messages reach the handlers through
// the default handler (receive), so paho keeps no routes of its own.
func (b *Client) subscribe(filter string, qos byte) error {
	t := b.c.Subscribe(filter, qos, nil)
	if !t.WaitTimeout(10 * time.Second) {
		return errors.New("subscribe timed out")
	}
	return t.Error()
}

// Publish sends payload; it waits for the broker hand-off up to ctx.
func (b *Client) Publish(ctx context.Context, t string, qos byte, retain bool, payload []byte) error {
	if err := b.wait(ctx, b.c.Publish(t, qos, retain, payload), "publish "+t); err != nil {
		return err
	}
	b.published.Inc()
	return nil
}

// PublishJSON marshals v and publishes it.
func (b *Client) PublishJSON(ctx context.Context, t string, qos byte, retain bool, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("publish %s: %w", t, err)
	}
	return b.Publish(ctx, t, qos, retain, data)
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

// Close disconnects, letting in-flight messages drain briefly, and stops
// delivery: messages still in the inbox are not handled.
func (b *Client) Close() {
	b.c.Disconnect(250)
	b.closeOnce.Do(func() { close(b.closed) })
	b.up.Set(0)
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}
