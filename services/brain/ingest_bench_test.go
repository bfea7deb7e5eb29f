package brain

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/services/brain/eventstore"
)

// The burst of BenchmarkBrokerIngest: what a busy office's edge sends when
// every node reports at once, many times over.
const (
	burstReadings   = 200_000
	burstDevices    = 50
	burstZones      = 10
	burstPublishers = 5 // connections the devices are spread over
	// burstStall ends the wait for deliveries: no subscriber's count grew for
	// this long, so the rest was lost.
	burstStall = time.Second
)

// BenchmarkBrokerIngest publishes a burst of QoS 0 sensor readings through a
// private Mosquitto (the harness's configuration: Mosquitto's defaults,
// max_queued_messages 1000) to
//
//   - bare-paho: a paho subscriber with default options whose handler only
//     counts: the broker's delivery rate to one subscriber;
//   - brain: the brain's ingest path as Run wires it, minus the cognitive loop
//     and the LLM (its bus client, brain.subscribe, registry, world model and
//     the decision log flushing to PostgreSQL), counting what the world model
//     applied (Model.Ingested), not what was sent;
//   - side-by-side: both subscribed to the same burst, so that both see the
//     same machine load (the measurement of issue 19).
//
// It prints delivered messages, rates and the brain's rate as a share of the
// bare subscriber's (goal: at least 0.8), and whether Mosquitto logged
// dropping messages for the subscriber. Readings, devices and publishers are
// the constants above; -count repeats the whole table.
func BenchmarkBrokerIngest(b *testing.B) {
	broker := testenv.Broker(b)
	burst := sensorBurst(burstReadings, burstDevices)
	cases := []struct {
		name string
		subs []subscriberKind
	}{
		{"bare-paho", []subscriberKind{bareSubscriber}},
		{"brain", []subscriberKind{brainSubscriber}},
		{"side-by-side", []subscriberKind{bareSubscriber, brainSubscriber}},
	}
	var rows []burstRow
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			sums := make([]burstResult, len(c.subs))
			for range b.N {
				for i, r := range runBurst(b, broker, burst, c.subs) {
					sums[i].add(r)
				}
			}
			for i, s := range c.subs {
				rows = append(rows, burstRow{c.name, s, sums[i]})
				b.ReportMetric(float64(sums[i].delivered)/float64(b.N), s.name+"-delivered/op")
				b.ReportMetric(sums[i].rate(), s.name+"-msgs/s")
			}
		})
	}
	printBurstTable(os.Stdout, rows)
}

// subscriberKind starts one subscriber and returns what it has received (or
// ingested) so far and how to stop it.
type subscriberKind struct {
	name  string
	start func(b *testing.B, broker *localinfra.Broker) (clientID string, count func() uint64, stop func())
}

var (
	bareSubscriber  = subscriberKind{"bare-paho", startBareSubscriber}
	brainSubscriber = subscriberKind{"brain", startBrainSubscriber}
)

type burstMsg struct {
	device  int
	topic   string
	payload []byte
}

// sensorBurst is n readings round-robin over devices environment nodes in
// burstZones zones and their four channels, with the virtual edge's topics
// (topic.Sensor) and payloads ({"value": v} through PublishJSON, values
// rounded per channel as sim/edge does). Values wander slowly and stay in the
// comfort bands, so no event fires and every reading takes the common path.
func sensorBurst(n, devices int) []burstMsg {
	chans := []struct {
		name       string
		base, step float64
		digits     int
	}{
		{"temperature", 22.5, 0.01, 2}, {"humidity", 45, 0.1, 1}, {"co2", 620, 1, 0}, {"illuminance", 480, 1, 0},
	}
	out := make([]burstMsg, 0, n)
	for i := 0; len(out) < n; i++ {
		for d := 0; d < devices && len(out) < n; d++ {
			for _, c := range chans {
				if len(out) == n {
					break
				}
				p := math.Pow(10, float64(c.digits))
				v := math.Round((c.base+c.step*float64((i+d)%20))*p) / p
				payload, err := json.Marshal(map[string]any{"value": v})
				if err != nil {
					panic(err)
				}
				zone := fmt.Sprintf("zone_%02d", d%burstZones)
				out = append(out, burstMsg{d, topic.Sensor(zone, fmt.Sprintf("env_%02d", d), c.name), payload})
			}
		}
	}
	return out
}

type burstResult struct {
	sent, delivered int
	publish         time.Duration // until the last publish was handed to the broker
	elapsed         time.Duration // first publish to the last delivery
	brokerDropped   bool          // Mosquitto logged dropping messages for the subscriber
}

func (r *burstResult) add(o burstResult) {
	r.sent += o.sent
	r.delivered += o.delivered
	r.publish += o.publish
	r.elapsed += o.elapsed
	r.brokerDropped = r.brokerDropped || o.brokerDropped
}

func (r burstResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.delivered) / r.elapsed.Seconds()
}

// runBurst starts the subscribers, publishes burst over burstPublishers
// connections (each device on one connection, so per-device order holds) and
// waits until every subscriber has counted the whole burst or none has counted
// anything new for burstStall. Only the publishing and the wait are timed.
func runBurst(b *testing.B, broker *localinfra.Broker, burst []burstMsg, kinds []subscriberKind) []burstResult {
	b.Helper()
	b.StopTimer()
	ctx := context.Background()
	type sub struct {
		id     string
		count  func() uint64
		base   uint64
		last   uint64
		lastAt time.Time
	}
	subs := make([]*sub, len(kinds))
	for i, k := range kinds {
		id, count, stop := k.start(b, broker)
		defer stop()
		subs[i] = &sub{id: id, count: count, base: count()}
	}
	pubs := make([]*bus.Client, burstPublishers)
	for i := range pubs {
		pubs[i] = connect(b, broker.Config(mqttacl.UserSim), "edge"+strconv.Itoa(i))
	}

	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p, pub := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, m := range burst {
				if m.device%len(pubs) != p {
					continue
				}
				if err := pub.Publish(ctx, m.topic, 0, false, m.payload); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	published := time.Since(start)
	for _, s := range subs {
		s.last, s.lastAt = s.count(), time.Now()
	}
	for {
		complete, progress := true, false
		for _, s := range subs {
			if n := s.count(); n != s.last {
				s.last, s.lastAt = n, time.Now()
			}
			complete = complete && s.last-s.base >= uint64(len(burst))
			progress = progress || time.Since(s.lastAt) < burstStall
		}
		if complete || !progress {
			break
		}
		time.Sleep(2 * time.Millisecond) // polling counters; there is nothing to wait on
	}
	b.StopTimer()

	logs := broker.Logs(300)
	out := make([]burstResult, len(subs))
	for i, s := range subs {
		out[i] = burstResult{sent: len(burst), delivered: int(s.last - s.base), publish: published, elapsed: s.lastAt.Sub(start)}
		for _, l := range logs {
			// "Outgoing messages are being dropped for client <id>."
			out[i].brokerDropped = out[i].brokerDropped || strings.Contains(l, "dropped for client "+s.id+".")
		}
	}
	for _, p := range pubs {
		p.Close()
	}
	return out
}

// startBareSubscriber is the reference: paho with default options and a
// handler that only counts.
func startBareSubscriber(b *testing.B, broker *localinfra.Broker) (string, func() uint64, func()) {
	b.Helper()
	cfg := broker.Config(mqttacl.UserBrain)
	id := benchClientID("bare")
	c := mqtt.NewClient(mqtt.NewClientOptions().
		AddBroker("tcp://" + net.JoinHostPort(cfg.Broker, strconv.Itoa(cfg.Port))).
		SetClientID(id).SetUsername(cfg.User).SetPassword(cfg.Pass))
	if t := c.Connect(); t.Wait() && t.Error() != nil {
		b.Fatal(t.Error())
	}
	var n atomic.Uint64
	if t := c.Subscribe(topic.OfficeAll, 0, func(mqtt.Client, mqtt.Message) { n.Add(1) }); t.Wait() && t.Error() != nil {
		b.Fatal(t.Error())
	}
	return id, n.Load, func() { c.Disconnect(250) }
}

// startBrainSubscriber wires a brain as Run does, minus the cognitive loop
// and the LLM: its own bus client subscribed through brain.subscribe, the
// registry and world model behind ingest, and the decision log flushing to
// PostgreSQL every FlushEvery. The count is what the world model applied.
func startBrainSubscriber(b *testing.B, broker *localinfra.Broker) (string, func() uint64, func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := clock.Wall{}
	log, err := logging.New(io.Discard, logging.Config{Level: "info"}, "brain")
	if err != nil {
		b.Fatal(err)
	}
	pool, err := pg.Open(ctx, testenv.Postgres(b), logging.Discard())
	if err != nil {
		b.Fatal(err)
	}
	store, err := eventstore.Open(ctx, pool, c, logging.Discard(), "local")
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := broker.Config(mqttacl.UserBrain)
	cfg.ClientID = benchClientID("brain")
	cl := bus.New(cfg, "brain", log, reg)
	if err := cl.WaitConnected(ctx); err != nil {
		b.Fatal(err)
	}
	devices := mcp.NewClient(cl, c)
	br := newBrain(Config{TimeZone: "Asia/Tokyo", TrustAfter: time.Hour}, c, log, parts{
		devices: devices, store: store, metrics: newMetrics(reg),
	})
	if err := br.subscribe(ctx, cl, devices); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = store.Run(ctx)
	}()
	return cfg.ClientID, br.world.Ingested, func() {
		cl.Close()
		cancel()
		<-done
		pool.Close()
	}
}

var benchClients atomic.Int64

// benchClientID is unique per subscriber, so that the broker's log lines name
// one burst's subscriber.
func benchClientID(kind string) string {
	return "bench-" + kind + "-" + strconv.FormatInt(benchClients.Add(1), 10)
}

type burstRow struct {
	burst string
	sub   subscriberKind
	r     burstResult
}

// printBurstTable prints one line per subscriber of each burst; a brain's
// ratio is to the bare subscriber of the same case, or of the bare-paho case.
func printBurstTable(out io.Writer, rows []burstRow) {
	bareRate := map[string]float64{}
	for _, r := range rows {
		if r.sub.name == bareSubscriber.name {
			bareRate[r.burst] = r.r.rate()
		}
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "burst\tsubscriber\tsent\tdelivered\t%%\tpublish s\tdelivery s\tmsgs/s\tratio to bare\tbroker dropped\t\n")
	for _, r := range rows {
		ratio := "-"
		ref, ok := bareRate[r.burst]
		if !ok {
			ref = bareRate[bareSubscriber.name]
		}
		if r.sub.name != bareSubscriber.name && ref > 0 {
			ratio = fmt.Sprintf("%.2f", r.r.rate()/ref)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.0f\t%s\t%v\t\n", r.burst, r.sub.name, r.r.sent, r.r.delivered,
			100*float64(r.r.delivered)/float64(r.r.sent), r.r.publish.Seconds(), r.r.elapsed.Seconds(), r.r.rate(), ratio, r.r.brokerDropped)
	}
	w.Flush()
}
