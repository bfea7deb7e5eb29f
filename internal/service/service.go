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
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

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
	k := &Kit{Name: name, Log: log, Metrics: prometheus.NewRegistry()}
	k.HTTP = httpx.New(name, log, k.Metrics)

	switch c.Clock {
	case "wall", "":
		k.Clock = clock.Wall{}
	case "sim":
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
	k.sim.Set(st)
	k.Log.Debug("clock updated", "sim_time", st.SimTime, "speed", st.Speed)
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

// Close releases the MQTT connection.
func (k *Kit) Close() {
	if k.Bus != nil {
		k.Bus.Close()
	}
}
