package brain

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

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

// The id flood of BenchmarkBrokerIngestFlood (issue 15): the office's own
// devices report at a steady rate while made-up device ids, each new to the
// brain, are published into the same zones.
const (
	floodWindow     = 10 * time.Second // how long both publish
	floodTick       = 10 * time.Millisecond
	legitRate       = 1000 // legitimate readings per second (50 devices × 4 channels every 200 ms)
	floodIDs        = 50_000
	floodPerID      = 2 // a heartbeat and a CO2 reading per made-up id
	floodPublishers = 2
)

// BenchmarkBrokerIngestFlood measures the brain's ingest of legitimate traffic
// during an id flood, through a private Mosquitto as BenchmarkBrokerIngest
// does: burstDevices environment nodes publish legitRate readings per second
// for floodWindow, and in the "flood" case floodIDs made-up ids (a heartbeat
// and a plausible CO2 reading each) are published into the same zones over
// the same window. It prints the legitimate readings the world model applied,
// their rate and their share of those sent, beside the "quiet" case without
// the flood.
func BenchmarkBrokerIngestFlood(b *testing.B) {
	broker := testenv.Broker(b)
	legit := legitStream(floodWindow, legitRate)
	flood := floodStream(floodIDs)
	var rows []floodRow
	for _, c := range []struct {
		name  string
		flood []burstMsg
	}{{"quiet", nil}, {"flood", flood}} {
		b.Run(c.name, func(b *testing.B) {
			var sum floodResult
			for range b.N {
				sum.add(runFlood(b, broker, legit, c.flood))
			}
			rows = append(rows, floodRow{c.name, sum})
			b.ReportMetric(sum.legitRate(), "legit-msgs/s")
			b.ReportMetric(float64(sum.legitIngested)/float64(sum.legitSent), "legit-fraction")
		})
	}
	printFloodTable(os.Stdout, rows)
}

// legitStream is the office's own traffic: sensorBurst's readings, as many as
// rate per second over window.
func legitStream(window time.Duration, rate int) []burstMsg {
	return sensorBurst(int(window.Seconds()*float64(rate)), burstDevices)
}

// floodStream is ids made-up devices, each sending a heartbeat and one CO2
// reading in the comfort band (so that the flood is about state, not about
// implausible values), spread over burstZones zones.
func floodStream(ids int) []burstMsg {
	out := make([]burstMsg, 0, ids*floodPerID)
	for i := range ids {
		zone := fmt.Sprintf("zone_%02d", i%burstZones)
		dev := fmt.Sprintf("fake_%05d", i)
		out = append(out,
			burstMsg{i, topic.Heartbeat(zone, dev), []byte(`{"status":"online","uptime_sec":1}`)},
			burstMsg{i, topic.Sensor(zone, dev, "co2"), []byte(`{"value":` + strconv.Itoa(600+i%50) + `}`)})
	}
	return out
}

type floodResult struct {
	legitSent, legitIngested int
	legitOnTime              int // ingested by the end of the window
	floodSent, floodIngested int
	window                   time.Duration // the publishing window (legit rate is over it)
	drain                    time.Duration // end of the window to the last ingest
	brokerDropped            bool
}

func (r *floodResult) add(o floodResult) {
	r.legitSent += o.legitSent
	r.legitIngested += o.legitIngested
	r.legitOnTime += o.legitOnTime
	r.floodSent += o.floodSent
	r.floodIngested += o.floodIngested
	r.window += o.window
	r.drain += o.drain
	r.brokerDropped = r.brokerDropped || o.brokerDropped
}

// runFlood starts a brain, publishes legit paced at legitRate and flood paced
// evenly over the same window, then waits until the brain's counts stop
// growing for burstStall.
func runFlood(b *testing.B, broker *localinfra.Broker, legit, flood []burstMsg) floodResult {
	b.Helper()
	b.StopTimer()
	ctx := context.Background()
	id, legitN, allN, stop := startFloodBrain(b, broker)
	defer stop()
	legitPub := connect(b, broker.Config(mqttacl.UserSim), "edge-legit")
	defer legitPub.Close()
	floodPubs := make([]*bus.Client, floodPublishers)
	for i := range floodPubs {
		floodPubs[i] = connect(b, broker.Config(mqttacl.UserSim), "edge-flood"+strconv.Itoa(i))
		defer floodPubs[i].Close()
	}

	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	paced := func(pub *bus.Client, msgs []burstMsg) {
		defer wg.Done()
		ticks := int(floodWindow / floodTick)
		t := time.NewTicker(floodTick)
		defer t.Stop()
		sent := 0
		for i := 1; i <= ticks; i++ {
			for ; sent < len(msgs)*i/ticks; sent++ {
				m := msgs[sent]
				if err := pub.Publish(ctx, m.topic, 0, false, m.payload); err != nil {
					b.Error(err)
					return
				}
			}
			<-t.C
		}
	}
	wg.Add(1)
	go paced(legitPub, legit)
	for p, pub := range floodPubs {
		var part []burstMsg
		for i, m := range flood {
			if i%len(floodPubs) == p {
				part = append(part, m)
			}
		}
		wg.Add(1)
		go paced(pub, part)
	}
	wg.Wait()
	window := time.Since(start)
	onTime := legitN()
	last, lastAt := allN(), time.Now()
	for time.Since(lastAt) < burstStall {
		if n := allN(); n != last {
			last, lastAt = n, time.Now()
		}
		time.Sleep(2 * time.Millisecond) // polling counters; there is nothing to wait on
	}
	b.StopTimer()

	r := floodResult{legitSent: len(legit), legitIngested: int(legitN()), legitOnTime: int(onTime), floodSent: len(flood),
		window: window, drain: max(0, lastAt.Sub(start)-window)}
	r.floodIngested = int(last) - r.legitIngested
	for _, l := range broker.Logs(300) {
		r.brokerDropped = r.brokerDropped || strings.Contains(l, "dropped for client "+id+".")
	}
	return r
}

// startFloodBrain wires a brain as startBrainSubscriber does, with the office
// subscription's handler wrapped to count what the world model applied of the
// legitimate devices (env_*); handlers run one at a time, so the count before
// and after each message is exact.
func startFloodBrain(b *testing.B, broker *localinfra.Broker) (string, func() uint64, func() uint64, func()) {
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
	cfg.ClientID = benchClientID("brain-flood")
	cl := bus.New(cfg, "brain", log, reg)
	if err := cl.WaitConnected(ctx); err != nil {
		b.Fatal(err)
	}
	devices := mcp.NewClient(cl, c)
	br := newBrain(Config{TimeZone: "Asia/Tokyo", TrustAfter: time.Hour}, c, log, parts{
		devices: devices, store: store, metrics: newMetrics(reg),
	})
	var legit atomic.Uint64
	if err := cl.Subscribe(ctx, topic.OfficeAll, 0, func(m bus.Message) {
		before := br.world.Ingested()
		br.ingest(m)
		if br.world.Ingested() > before && strings.Contains(m.Topic, "/sensor/env_") {
			legit.Add(1)
		}
	}); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = store.Run(ctx)
	}()
	return cfg.ClientID, legit.Load, br.world.Ingested, func() {
		cl.Close()
		cancel()
		<-done
		pool.Close()
	}
}

// legitRate is the legitimate readings ingested per second, from the first
// publish to the last message the brain ingested.
func (r floodResult) legitRate() float64 {
	return float64(r.legitIngested) / (r.window + r.drain).Seconds()
}

type floodRow struct {
	name string
	r    floodResult
}

func printFloodTable(out io.Writer, rows []floodRow) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "case\tlegit sent\tlegit ingested\tlegit %%\ton time %%\tlegit msgs/s\tflood sent\tflood ingested\tdrain s\tbroker dropped\t\n")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%d\t%d\t%.1f\t%.1f\t%.0f\t%d\t%d\t%.2f\t%v\t\n", r.name, r.r.legitSent, r.r.legitIngested,
			100*float64(r.r.legitIngested)/float64(r.r.legitSent), 100*float64(r.r.legitOnTime)/float64(r.r.legitSent),
			r.r.legitRate(),
			r.r.floodSent, r.r.floodIngested, r.r.drain.Seconds(), r.r.brokerDropped)
	}
	w.Flush()
}
