package backend

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/somsgo/soms/internal/apidoc"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/services/backend/openapi"
)

// Deps are the backend's dependencies. Pool, Clock and Log are required; the
// rest are optional and switch features off when nil or empty.
type Deps struct {
	Pool         *pgxpool.Pool
	Clock        clock.Clock
	Log          *slog.Logger
	ServiceToken string
	Region       string
	// Bus publishes task reports; nil skips them.
	Bus *bus.Client
	// Payer pays task rewards; nil records payments as pending only.
	Payer RewardPayer
	// JWTSecret signs people's tokens; empty uses a random per-process secret.
	JWTSecret []byte
	// TokenTTL is how long a login token lasts (default 24 h of clock time).
	TokenTTL time.Duration
	// BcryptCost defaults to bcrypt.DefaultCost; tests lower it.
	BcryptCost int
	// Metrics registers the backend's counters; nil uses a private registry.
	Metrics prometheus.Registerer
	// MaxDevices bounds the devices (a device id in a zone) whose latest
	// values and heartbeats are kept; 0 is DefaultMaxDevices.
	MaxDevices int
	// DeviceRetention is how long a device's latest values and heartbeat row
	// outlive its last message; 0 is 30 days. Ids seen for less than 10
	// minutes expire an hour after they go quiet.
	DeviceRetention time.Duration
	// ExternalURL is the dashboard's public base URL (shopping share links).
	ExternalURL string
	// BrainURL is the brain's HTTP API (event feed, LLM activity); empty
	// answers those routes 503.
	BrainURL string
	// WalletURL is the wallet whose reads people make through /wallet/...
	// (walletfront.go), forwarded with ServiceToken; empty answers them 503.
	WalletURL string
}

// API holds the handlers' dependencies.
type API struct {
	tasks    *taskStore
	users    *userStore
	sensors  *sensorStore
	devices  *deviceIndex
	drops    *telemetry.Drops
	voice    *voiceStore
	ingest   chan telemetryItem
	payments *paymentStore
	tokens   *tokens
	hub      *Hub
	bus      *bus.Client
	payer    RewardPayer
	clock    clock.Clock
	log      *slog.Logger
	token    string
	metrics  *metrics

	deviceRetention time.Duration
	inventory       *inventoryStore
	shopping        *shoppingStore
	externalURL     string

	brainURL  string
	brainHTTP *http.Client
	// walletFront forwards people's wallet reads; nil without a wallet.
	walletFront http.Handler
	// unknownLog rate-limits the log lines of unknown topics.
	unknownLog *logging.Sampler
}

// New builds the backend's handlers over an already migrated database.
func New(d Deps) *API {
	secret := d.JWTSecret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	ttl := d.TokenTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	cost := d.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	reg := d.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	a := &API{
		tasks:       &taskStore{pool: d.Pool, region: d.Region},
		users:       &userStore{pool: d.Pool, cost: cost},
		sensors:     &sensorStore{pool: d.Pool},
		devices:     newDeviceIndex(d.MaxDevices),
		voice:       &voiceStore{pool: d.Pool},
		ingest:      make(chan telemetryItem, ingestBuffer),
		payments:    &paymentStore{pool: d.Pool},
		tokens:      &tokens{secret: secret, ttl: ttl, clock: d.Clock},
		hub:         NewHub(),
		bus:         d.Bus,
		payer:       d.Payer,
		clock:       d.Clock,
		log:         d.Log,
		token:       d.ServiceToken,
		inventory:   &inventoryStore{pool: d.Pool},
		shopping:    &shoppingStore{pool: d.Pool},
		externalURL: strings.TrimRight(d.ExternalURL, "/"),
		brainURL:    strings.TrimRight(d.BrainURL, "/"),
		brainHTTP:   &http.Client{Timeout: brainTimeout},
		unknownLog:  logging.NewSampler(clock.Wall{}, time.Minute),

		deviceRetention: d.DeviceRetention,
	}
	if a.deviceRetention <= 0 {
		a.deviceRetention = DefaultDeviceRetention
	}
	if u, err := url.Parse(strings.TrimRight(d.WalletURL, "/")); d.WalletURL != "" && err == nil && u.Host != "" {
		a.walletFront = newWalletFront(u, d.ServiceToken, a)
	}
	a.metrics = newMetrics(reg)
	// Drop logs are rate-limited in wall time: people read them.
	a.drops = telemetry.NewDrops(a.metrics.telemetryDropped, d.Log, clock.Wall{})
	return a
}

// NewAPI returns the backend's task handlers with no bus, wallet or fixed JWT
// secret (the shape tests of other services use).
func NewAPI(pool *pgxpool.Pool, c clock.Clock, log *slog.Logger, serviceToken, region string) *API {
	return New(Deps{Pool: pool, Clock: c, Log: log, ServiceToken: serviceToken, Region: region})
}

// Hub is the live-event hub browsers subscribe to over SSE.
func (a *API) Hub() *Hub { return a.hub }

// Routes is the backend's one route table. Paths keep the original SOMS
// trailing slashes, which the brain and existing clients call.
func (a *API) Routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(a.authenticate)
		r.Route("/tasks", func(r chi.Router) {
			r.Get("/", a.listTasks)
			r.With(a.requireService).Post("/", a.createTask)
			r.Get("/queue", a.taskQueue)
			r.Get("/stats", a.taskStats)
			// The audit trail says who did what when: administrators and
			// services only (docs/security.md).
			r.With(a.requireAdmin).Get("/audit", a.auditLog)
			r.Get("/{id}", a.getTask)
			r.With(a.requireAdmin).Get("/{id}/audit", a.taskAudit)
			// Open to anonymous callers, as in the original (the wall kiosk):
			// the handlers decide what an anonymous caller may do.
			r.Put("/{id}/accept", a.acceptTask)
			r.Put("/{id}/complete", a.completeTask)
			r.With(a.requireService).Put("/{id}/dispatch", a.dispatchTask)
			r.With(a.requireService).Put("/{id}/reminded", a.remindedTask)
		})
		r.Route("/auth", func(r chi.Router) {
			r.Post("/register", a.register)
			r.Post("/login", a.login)
			r.With(a.requireUser).Get("/me", a.me)
		})
		r.Route("/users", func(r chi.Router) {
			r.Use(a.requireAuth)
			r.With(a.requireAdmin).Get("/", a.listUsers)
			r.With(a.requireAdmin).Post("/", a.createUser)
			r.Get("/{id}", a.getUser)
			r.Put("/{id}", a.updateUser)
			r.With(a.requireAdmin).Delete("/{id}", a.deleteUser)
		})
		a.sensorRoutes(r)
		a.brainRoutes(r)
		a.inventoryRoutes(r)
		a.shoppingRoutes(r)
		a.voiceRoutes(r)
		a.walletRoutes(r)
		r.Get("/events/stream", a.eventStream)
	})
	apidoc.MustLoad(openapi.YAML).Routes(r)
}
