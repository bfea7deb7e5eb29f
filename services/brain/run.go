package brain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/secret"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/internal/voice"
	"github.com/somsgo/soms/services/brain/eventstore"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// Run runs the brain until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.MaxIterations < 1 {
		return errors.New("BRAIN_REACT_MAX_ITERATIONS must be at least 1")
	}
	if cfg.CycleDeadline <= 0 || cfg.BreakerOpen <= 0 || cfg.BreakerFailures < 1 {
		return errors.New("BRAIN_CYCLE_DEADLINE and BRAIN_LLM_BREAKER_OPEN must be positive, BRAIN_LLM_BREAKER_FAILURES at least 1")
	}
	if cfg.Common.Production() {
		// The brain writes tasks to the backend with the token and keeps its
		// decision log in its own schema.
		if err := errors.Join(
			secret.Check("INTERNAL_SERVICE_TOKEN", cfg.ServiceToken, secret.MinLength),
			secret.CheckURLPassword("DATABASE_URL", cfg.DatabaseURL, secret.MinLength),
		); err != nil {
			return fmt.Errorf("refusing to start with weak production secrets (SOMS_CLOCK=wall):\n%w", err)
		}
	}
	kit, err := service.New(ctx, "brain", cfg.Common, service.Options{MQTT: true})
	if err != nil {
		return err
	}
	defer kit.Close()

	p := parts{
		llm:     llm.NewClient(cfg.LLM),
		dash:    backendapi.NewClient(cfg.DashboardURL, cfg.ServiceToken),
		devices: mcp.NewClient(kit.Bus, kit.Clock),
		metrics: newMetrics(kit.Metrics),
	}
	if cfg.VoiceURL != "" {
		vc, err := voice.NewClient(cfg.VoiceURL, nil)
		if err != nil {
			return err
		}
		p.voice = vc
	}
	if cfg.DatabaseURL != "" {
		pool, err := pg.Open(ctx, cfg.DatabaseURL, kit.Log)
		if err != nil {
			return err
		}
		defer pool.Close()
		if p.store, err = eventstore.Open(ctx, pool, kit.Clock, kit.Log, cfg.RegionID); err != nil {
			return err
		}
		kit.HTTP.AddCheck("database", pg.Ready(pool))
	} else {
		kit.Log.Info("DATABASE_URL not set: the decision log is disabled")
	}
	b := newBrain(cfg, kit.Clock, kit.Log, p)
	kit.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "soms_brain_ingested_total", Help: "Office messages applied to the world model.",
	}, func() float64 { return float64(b.world.Ingested()) }))
	registerStoreMetrics(kit.Metrics, p.store)
	mcpClient := p.devices.(*mcp.Client)
	b.routes(kit.HTTP.Router)
	return kit.Run(ctx, cfg.Addr,
		func(ctx context.Context) error {
			if err := b.subscribe(ctx, kit.Bus, mcpClient); err != nil {
				return err
			}
			return b.loop(ctx)
		},
		b.remindLoop,
		b.chitchatLoop,
		b.chitchatStockLoop,
		p.store.Run,
		b.housekeeping,
		b.inventoryLoop,
	)
}

// registerStoreMetrics exports what the decision log did with raw events
// besides storing them.
func registerStoreMetrics(reg prometheus.Registerer, s *eventstore.Store) {
	dropped := func(reason string, n func(eventstore.RawStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "soms_brain_decision_log_dropped_total",
			Help:        "Raw events not stored: buffer_full (the oldest, while the database was down or slow), refused (by the database, isolated from their batch).",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, func() float64 { return float64(n(s.Stats())) })
	}
	reg.MustRegister(
		dropped("buffer_full", func(st eventstore.RawStats) uint64 { return st.Dropped }),
		dropped("refused", func(st eventstore.RawStats) uint64 { return st.Rejected }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "soms_brain_decision_log_truncated_total",
			Help: "Raw events whose data passed the per-event bound and was stored as a truncation marker.",
		}, func() float64 { return float64(s.Stats().Truncated) }),
	)
}

// subscribe routes the brain's MQTT traffic: device responses to the MCP
// client, every office message to ingest.
func (b *brain) subscribe(ctx context.Context, c *bus.Client, devices *mcp.Client) error {
	if err := c.Subscribe(ctx, topic.MCPResponses, 0, func(m bus.Message) {
		switch err := devices.HandleResponse(m.Topic, m.Payload); {
		case errors.Is(err, mcp.ErrWrongDevice):
			b.drops.DropAs("mcp_wrong_device", m.Topic, err)
		case err != nil:
			b.drops.DropAs("bad_mcp_response", m.Topic, err)
		}
	}); err != nil {
		return err
	}
	// The original's devices also publish outside office/ (hydro/, aqua/):
	// nothing here interprets them, but they are counted and logged, never
	// silently lost.
	for _, root := range topic.OriginalRoots {
		if err := c.Subscribe(ctx, root+"/#", 0, func(m bus.Message) { b.unknownTopic(m.Topic) }); err != nil {
			return err
		}
	}
	return c.Subscribe(ctx, topic.OfficeAll, 0, b.ingest)
}

// unknownTopic counts (and now and then logs) a message on a topic the brain
// does not interpret; it reports whether t is one.
func (b *brain) unknownTopic(t string) bool {
	label := topic.Unknown(t)
	if label == "" {
		return false
	}
	b.metrics.unknown.WithLabelValues(label).Inc()
	if ok, held := b.unknownLog.Allow(label); ok {
		b.log.Warn("message on a topic the brain does not interpret", "topic", t, "prefix", label, "more_since_last_log", held)
	}
	return true
}

// ingest routes one office message, decoded once by the platform's telemetry
// parser: heartbeats to the device registry, everything to the world model;
// sensor readings are also logged. A rejected message is counted and logged
// (rate-limited) under its one reason, never fatal.
func (b *brain) ingest(m bus.Message) {
	msg, err := telemetry.Decode(m.Topic, m.Payload)
	if err != nil {
		b.drops.Drop(m.Topic, err)
		return
	}
	o := msg.Office
	if !o.ZoneScoped && b.unknownTopic(m.Topic) {
		return
	}
	if o.IsHeartbeat() {
		hb, err := telemetry.ParseHeartbeat(msg)
		if err == nil {
			err = b.registry.Heartbeat(o.Zone, hb)
		}
		if err != nil {
			b.drops.Drop(m.Topic, err)
			return
		}
	}
	if err := b.world.Apply(msg); err != nil {
		b.drops.Drop(m.Topic, err)
		return
	}
	if o.Kind == topic.KindSensor && !o.IsHeartbeat() && b.store != nil {
		data := make(map[string]any, len(msg.Fields)+1)
		maps.Copy(data, msg.Fields)
		data["channel"] = o.Channel
		b.store.Record(eventstore.Raw{At: b.clock.Now(), Zone: o.Zone, Type: "sensor_reading", Device: o.DeviceID, Data: data})
	}
}

// housekeeping snapshots the registry and decays device utility.
func (b *brain) housekeeping(ctx context.Context) error {
	snap := b.clock.NewTicker(b.cfg.SnapshotInterval)
	defer snap.Stop()
	decay := b.clock.NewTicker(time.Hour)
	defer decay.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-snap.C():
			if err := b.store.SnapshotDevices(ctx, b.registry.List()); err != nil {
				b.log.Warn("registry snapshot failed", "err", err)
			}
		case <-decay.C():
			b.registry.Decay()
		}
	}
}

func (b *brain) routes(r chi.Router) {
	r.Get("/world/zones", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, b.world.Zones())
	})
	r.Get("/world/zones/{id}", func(w http.ResponseWriter, r *http.Request) {
		z, ok := b.world.Zone(chi.URLParam(r, "id"))
		if !ok {
			httpx.Error(w, http.StatusNotFound, "unknown zone")
			return
		}
		httpx.WriteJSON(w, http.StatusOK, z)
	})
	r.Get("/world/events", func(w http.ResponseWriter, _ *http.Request) {
		evs := b.world.EventsSince(b.clock.Now().Add(-b.cfg.EventWindow))
		if evs == nil {
			evs = []worldmodel.Event{}
		}
		httpx.WriteJSON(w, http.StatusOK, evs)
	})
	r.Get("/devices/status", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"devices": b.registry.List()})
	})
	r.Get("/status", func(w http.ResponseWriter, _ *http.Request) {
		b.mu.Lock()
		last := b.lastCycle
		b.mu.Unlock()
		mode := "normal"
		if b.mode.Inactive() {
			mode = "inactive"
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{
			"mode": mode, "queued_tasks": b.queue.Len(), "last_cycle": last, "sim_time": b.clock.Now(),
			"llm_breaker": b.breaker.Status(),
		})
	})
	r.Post("/chat", b.handleChat)
	r.Get("/events", b.storedEvents)
	r.Get("/decisions/activity", b.activity)
	r.Get("/decisions", func(w http.ResponseWriter, r *http.Request) {
		limit := 50
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 1000 {
				httpx.Invalid(w, map[string]string{"limit": "must be an integer between 1 and 1000"})
				return
			}
			limit = n
		}
		ds, err := b.store.Decisions(r.Context(), limit)
		if err != nil {
			httpx.Error(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		httpx.WriteJSON(w, http.StatusOK, ds)
	})
}
