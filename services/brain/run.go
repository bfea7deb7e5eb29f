package brain

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/dashboard"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// Run runs the brain until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.MaxIterations < 1 {
		return errors.New("BRAIN_REACT_MAX_ITERATIONS must be at least 1")
	}
	kit, err := service.New(ctx, "brain", cfg.Common, service.Options{MQTT: true})
	if err != nil {
		return err
	}
	defer kit.Close()

	b := &brain{
		cfg:     cfg,
		clock:   kit.Clock,
		log:     kit.Log,
		world:   worldmodel.New(kit.Clock),
		llm:     llm.NewClient(cfg.LLM),
		dash:    dashboard.NewClient(cfg.DashboardURL, cfg.ServiceToken),
		metrics: newMetrics(kit.Metrics),
	}
	b.routes(kit.HTTP.Router)
	return kit.Run(ctx, cfg.Addr, func(ctx context.Context) error {
		if err := kit.Bus.Subscribe(ctx, topic.OfficeAll, 0, b.ingest); err != nil {
			return err
		}
		return b.loop(ctx)
	})
}

// ingest feeds one MQTT message to the world model; rejects are counted.
func (b *brain) ingest(m bus.Message) {
	if err := b.world.Ingest(m.Topic, m.Payload); err != nil {
		reason := "other"
		var de *worldmodel.DropError
		if errors.As(err, &de) {
			reason = de.Reason
		}
		b.metrics.dropped.WithLabelValues(reason).Inc()
		b.log.Debug("message dropped", "topic", m.Topic, "err", err)
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
}
