// Package service assembles what every SOMS process needs before its own logic
// runs: a logger, a metrics registry, the HTTP server with health endpoints, the
// MQTT client and the clock (wall, or simulated and following the harness).
//
// A service's Run builds a Kit, mounts its routes, then hands its loops to
// Kit.Run, which serves HTTP, waits for the simulated clock when there is one,
// and stops everything when ctx is cancelled or a loop fails.
package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/topic"
)

// Common is the configuration every service shares.
type Common struct {
	Log   logging.Config
	MQTT  bus.Config
	Clock string `env:"SOMS_CLOCK" default:"wall" doc:"wall (production) or sim (follow the harness's simulated clock over MQTT)"`
}

// Production reports whether this is a production run: the wall clock. A
// simulation (SOMS_CLOCK=sim) and its harness generate their own secrets; a
// production run must be given good ones (package secret).
func (c Common) Production() bool { return c.Clock == "wall" || c.Clock == "" }

// Options says which shared parts a service uses.
type Options struct {
	// MQTT connects the bus. A simulated clock needs it regardless.
	MQTT bool
	// Timeless is for a service that keeps no time of its own (a proxy, a
	// speech engine): under a simulated clock it runs on the wall clock and
	// neither follows nor acknowledges the steps, so the clock does not wait
	// for a process that has nothing to do at any instant.
	Timeless bool
	// LogOutput defaults to stderr.
	LogOutput io.Writer
}

// Kit holds the shared dependencies handed to a service's logic.
type Kit struct {
	Name    string
	Log     *slog.Logger
	Metrics *prometheus.Registry
	HTTP    *httpx.Server
	Bus     *bus.Client // nil unless Options.MQTT or a simulated clock
	Clock   clock.Clock

	sim *clock.Sim
	// stepped signals the progress reporter that a clock step arrived.
	stepped  chan struct{}
	instance string
}

// New builds the kit for service name. The MQTT client connects in the
// background; Run waits for what must be ready first.
func New(ctx context.Context, name string, c Common, o Options) (*Kit, error) {
	out := o.LogOutput
	if out == nil {
		out = os.Stderr
	}
	log, err := logging.New(out, c.Log, name)
	if err != nil {
		return nil, err
	}
	k := &Kit{Name: name, Log: log, Metrics: prometheus.NewRegistry(), stepped: make(chan struct{}, 1), instance: instanceID()}
	k.HTTP = httpx.New(name, log, k.Metrics)

	switch c.Clock {
	case "wall", "":
		k.Clock = clock.Wall{}
	case "sim":
		if o.Timeless {
			k.Clock = clock.Wall{}
			break
		}
		k.sim = clock.NewSim()
		k.Clock = k.sim
		o.MQTT = true
	default:
		return nil, fmt.Errorf("SOMS_CLOCK=%q: want wall or sim", c.Clock)
	}

	if o.MQTT {
		if _, err := c.MQTT.TLSConfig(); err != nil {
			return nil, err
		}
		k.Bus = bus.New(c.MQTT, name, log, k.Metrics)
		k.HTTP.AddCheck("mqtt", k.Bus.Ready)
	}
	if k.sim != nil {
		if err := k.Bus.Subscribe(ctx, topic.SimClock, 1, k.followClock); err != nil {
			return nil, err
		}
		k.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "soms_clock_holds_expired_total",
			Help: "Holds and ticks of the stepped simulated clock that outlived their lease (work that took longer than the lease, or a wait outside the simulation): each let the clock go on without this process.",
		}, func() float64 { return float64(k.sim.Expired()) }))
		k.HTTP.AddCheck("clock", func(context.Context) error {
			select {
			case <-k.sim.Synced():
				return nil
			default:
				return errors.New("waiting for the simulated clock on " + topic.SimClock)
			}
		})
	}
	return k, nil
}

func (k *Kit) followClock(m bus.Message) {
	st, err := clock.ParseState(m.Payload)
	if err != nil {
		k.Log.Warn("ignoring bad clock message", "err", err)
		return
	}
	if st.Stepped() && st.Step < k.sim.State().Step {
		// A restarted broker's saved copy of an older step: the harness
		// publishes the current one again.
		k.Log.Debug("ignoring an older clock step", "step", st.Step)
		return
	}
	k.sim.Set(st)
	if st.Stepped() {
		select {
		case k.stepped <- struct{}{}:
		default:
		}
		return
	}
	k.Log.Debug("clock updated", "sim_time", st.SimTime, "speed", st.Speed)
}

// reportProgress acknowledges the steps of a stepped clock: once the process
// has handled a step (its ticks received, its holds released), it says so on
// topic.SimProgress, and the harness may take the next step. Every step
// received is acknowledged, a repeated one too (the harness repeats a step
// whose acknowledgements a broker restart lost).
func (k *Kit) reportProgress(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.stepped:
		case <-k.sim.Noted():
			// A message sent or received: said with the next
			// acknowledgement, or with the last one again.
		}
		st, err := k.sim.Settle(ctx, clock.HoldLease)
		if err != nil {
			return
		}
		if !st.Stepped() {
			continue
		}
		p := clock.Progress{Process: k.Name, Instance: k.instance, Step: st.Step, SimTime: st.SimTime, Expired: k.sim.Expired()}
		p.Sent, p.Received = k.sim.TakeNotes()
		if err := k.Bus.PublishJSON(ctx, topic.SimProgress(k.Name), 0, false, p); err != nil && ctx.Err() == nil {
			k.Log.Debug("clock step not acknowledged", "step", st.Step, "err", err)
		}
	}
}

// Run serves HTTP on addr and runs loops until ctx is done or one fails. Loops
// start only once the broker is connected and the simulated clock (if any) has
// its first anchor.
func (k *Kit) Run(ctx context.Context, addr string, loops ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return k.HTTP.ListenAndServe(ctx, addr) })
	g.Go(func() error {
		if k.Bus != nil {
			if err := k.Bus.WaitConnected(ctx); err != nil {
				return nil // cancelled before the broker answered
			}
		}
		if k.sim != nil {
			go k.reportProgress(ctx)
			select {
			case <-k.sim.Synced():
			case <-ctx.Done():
				return nil
			}
		}
		lg, lctx := errgroup.WithContext(ctx)
		for _, loop := range loops {
			lg.Go(func() error { return loop(lctx) })
		}
		return lg.Wait()
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// Close releases the MQTT connection. A process that followed a stepped
// clock first says it is leaving, so the harness stops waiting for it.
func (k *Kit) Close() {
	if k.Bus == nil {
		return
	}
	if k.sim != nil && k.sim.State().Stepped() && k.Bus.Connected() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		p := clock.Progress{Process: k.Name, Instance: k.instance, Gone: true}
		_ = k.Bus.PublishJSON(ctx, topic.SimProgress(k.Name), 0, false, p)
		cancel()
	}
	k.Bus.Close()
}

func instanceID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
