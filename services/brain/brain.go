package brain

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/voice"
	"github.com/somsgo/soms/services/brain/eventstore"
	"github.com/somsgo/soms/services/brain/queue"
	"github.com/somsgo/soms/services/brain/registry"
	"github.com/somsgo/soms/services/brain/rules"
	"github.com/somsgo/soms/services/brain/sanitizer"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// chatter is the LLM as the loop uses it.
type chatter interface {
	Chat(ctx context.Context, messages []llm.Message, tools []llm.Tool) (llm.Message, error)
}

// backendAPI is what the brain asks of the dashboard backend
// (internal/backendapi.Client).
type backendAPI interface {
	CreateTask(ctx context.Context, in backendapi.CreateTask) (backendapi.Task, error)
	ListTasks(ctx context.Context, f backendapi.TaskFilter) ([]backendapi.Task, error)
	Dispatch(ctx context.Context, id int64) error
	Reminded(ctx context.Context, id int64) error
	PostVoiceEvent(ctx context.Context, ev backendapi.VoiceEvent) error
	ListInventory(ctx context.Context, activeOnly bool) ([]backendapi.InventoryItem, error)
	PutInventoryLiveStatus(ctx context.Context, items []backendapi.InventoryLiveItem) error
	AddShoppingItem(ctx context.Context, in backendapi.ShoppingItemInput) (backendapi.ShoppingItem, error)
}

// voiceAPI is the voice service (internal/voice.Client); nil when not
// configured.
type voiceAPI interface {
	Synthesize(ctx context.Context, text, tone string) (voice.Speech, error)
	Announce(ctx context.Context, t voice.Task) (voice.Announcement, error)
	AnnounceWithCompletion(ctx context.Context, t voice.Task) (voice.DualAnnouncement, error)
}

// deviceCaller calls device tools over MQTT (internal/mcp.Client).
type deviceCaller interface {
	Call(ctx context.Context, agent, tool string, args map[string]any, timeout time.Duration) (mcp.Outcome, error)
}

// brain runs cognitive cycles against the world model.
type brain struct {
	cfg   Config
	clock clock.Clock
	// unseen holds a stepped simulated clock from a world-model event that
	// finds the decision loop idle until the loop has woken for it (nil on
	// the wall clock); eventAt is the latest event's time. The loop's
	// response to an event thus starts at the same simulated instant in every
	// run. A busy loop (in a cycle, or waiting on the clock) takes the event
	// when it comes round: holding then would stop the clock it waits on.
	unseen   *clock.Hold
	idle     atomic.Bool
	evMu     sync.Mutex
	eventAt  time.Time
	loc      *time.Location
	log      *slog.Logger
	world    *worldmodel.Model
	registry *registry.Registry
	san      *sanitizer.Sanitizer
	rules    *rules.Engine
	mode     *rules.Mode
	queue    *queue.Queue
	store    *eventstore.Store
	llm      chatter
	dash     backendAPI
	voice    voiceAPI
	devices  deviceCaller
	metrics  *metrics
	breaker  *breaker
	drops    *telemetry.Drops
	// unknownLog rate-limits the log lines of unknown topics.
	unknownLog *logging.Sampler

	mu        sync.Mutex
	actions   []action
	lastCycle time.Time
	tared     map[string]time.Time // shelf → last successful tare
}

// parts are the collaborators a brain is built from; zero values get defaults
// suitable for tests.
type parts struct {
	llm     chatter
	dash    backendAPI
	voice   voiceAPI
	devices deviceCaller
	store   *eventstore.Store
	metrics *metrics
}

func newBrain(cfg Config, c clock.Clock, log *slog.Logger, p parts) *brain {
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil || cfg.TimeZone == "" {
		loc = time.FixedZone("JST", 9*3600)
	}
	limits := sanitizer.Default
	if len(cfg.DeviceAllowList) > 0 {
		limits.Agents = cfg.DeviceAllowList
	}
	th := cfg.Thresholds
	if th == (rules.Thresholds{}) {
		th = rules.DefaultThresholds
	}
	b := &brain{
		cfg: cfg, clock: c, loc: loc, log: log,
		world:    worldmodel.New(c),
		registry: registry.New(c, registry.Config{TrustAfter: cfg.TrustAfter}),
		san:      sanitizer.New(c, limits),
		rules:    rules.New(c, th),
		mode:     rules.NewMode(c),
		queue:    queue.New(c, loc),
		store:    p.store, llm: p.llm, dash: p.dash, devices: p.devices, metrics: p.metrics,
		unknownLog: logging.NewSampler(clock.Wall{}, time.Minute),
	}
	if p.voice != nil {
		b.voice = p.voice
	}
	if b.metrics == nil {
		b.metrics = newMetrics(prometheus.NewRegistry())
	}
	b.breaker = newBreaker(c, cfg.BreakerFailures, backoff.Policy{Min: cfg.BreakerOpen, Max: max(cfg.BreakerOpen, cfg.BreakerMaxOpen)}, log,
		func(s breakerState) {
			b.metrics.breaker.Set(float64(s))
			b.metrics.breakerTo.WithLabelValues(s.String()).Inc()
		})
	// Drop logs are rate-limited in wall time: people read them.
	b.drops = telemetry.NewDrops(b.metrics.dropped, log, clock.Wall{})
	b.san.SetItems(b.world.HasItem)
	b.unseen = clock.NewHold(c)
	b.unseen.Release()
	b.world.OnEvent(func(e worldmodel.Event) {
		b.evMu.Lock()
		if e.At.After(b.eventAt) {
			b.eventAt = e.At
		}
		b.evMu.Unlock()
		if b.idle.Load() {
			b.unseen.Resume()
		}
		b.store.Record(eventstore.Raw{At: e.At, Zone: e.Zone, Type: "world_model_" + e.Type, Data: e.Data})
	})
	return b
}

// action is one executed tool call, remembered for the prompt and the guards.
type action struct {
	at      time.Time
	tool    string
	summary string
	zone    string
	success bool
	args    map[string]any
	result  string
}

// actionRetention bounds the action history.
const actionRetention = 2 * time.Hour

func (b *brain) remember(a action) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.actions = append(b.actions, a)
	i := 0
	for i < len(b.actions) && a.at.Sub(b.actions[i].at) > actionRetention {
		i++
	}
	b.actions = b.actions[i:]
}

// actionsSince returns the actions at or after t.
func (b *brain) actionsSince(t time.Time) []action {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []action
	for _, a := range b.actions {
		if !a.at.Before(t) {
			out = append(out, a)
		}
	}
	return out
}

// recentActions returns the last 8 actions of the past 30 minutes.
func (b *brain) recentActions(now time.Time) []action {
	out := b.actionsSince(now.Add(-30 * time.Minute))
	if len(out) > 8 {
		out = out[len(out)-8:]
	}
	return out
}
