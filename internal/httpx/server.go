// Package httpx is the HTTP server every SOMS service runs: a chi router with
// /healthz (alive), /readyz (dependencies ready), /health (the original SOMS
// health shape) and /metrics (Prometheus), request metrics and access logs, and
// JSON request/response helpers with uniform errors; and Client, the one HTTP
// client that calls such APIs.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is a readiness probe of one dependency; nil means ready.
type Check func(ctx context.Context) error

// Limits bound what one connection may hold of a server, so slow or idle
// clients cannot pile up connections (slowloris, slow bodies, stalled
// readers). Streaming handlers (Server-Sent Events, proxied upgrades) lift or
// renew the write deadline themselves with http.ResponseController.
type Limits struct {
	// ReadHeader is the time to read the request line and headers.
	ReadHeader time.Duration
	// Read is the time to read the whole request, body included.
	Read time.Duration
	// Write is the time from the end of the request headers to the end of
	// the response: the slowest legitimate handler (voice: two LLM texts and
	// two syntheses) must fit in it.
	Write time.Duration
	// Idle is how long a keep-alive connection waits for its next request.
	Idle time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
}

// DefaultLimits are every SOMS server's limits. Request bodies are bounded
// separately by MaxBody (Decode).
var DefaultLimits = Limits{
	ReadHeader:     10 * time.Second,
	Read:           30 * time.Second,
	Write:          5 * time.Minute,
	Idle:           2 * time.Minute,
	MaxHeaderBytes: 64 << 10,
}

// Server is a service's HTTP endpoint. Mount routes on Router before Serve.
type Server struct {
	Router chi.Router
	// Limits default to DefaultLimits; set before Serve.
	Limits  Limits
	name    string
	log     *slog.Logger
	mu      sync.Mutex
	checks  map[string]Check
	order   []string
	started time.Time
}

// New builds a server for service name whose metrics go to reg. It registers
// the Go and process collectors on reg.
func New(name string, log *slog.Logger, reg *prometheus.Registry) *Server {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{name: name, log: log.With("component", "http"), checks: map[string]Check{}, started: time.Now(), Limits: DefaultLimits}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soms_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"method", "route", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "soms_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
	}, []string{"method", "route"})
	reg.MustRegister(requests, duration)

	r := chi.NewRouter()
	// observe wraps Recoverer so a panic is counted and logged as the 500 it
	// becomes.
	r.Use(requestID, s.observe(requests, duration), middleware.Recoverer, refuseNUL)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "service": name})
	})
	r.Get("/health", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "service": name})
	})
	r.Get("/readyz", s.readyz)
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s.Router = r
	return s
}

// AddCheck registers a named readiness check.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.checks[name]; !dup {
		s.order = append(s.order, name)
	}
	s.checks[name] = c
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	s.mu.Lock()
	order := append([]string(nil), s.order...)
	checks := make(map[string]Check, len(s.checks))
	for k, v := range s.checks {
		checks[k] = v
	}
	s.mu.Unlock()
	status := http.StatusOK
	result := map[string]string{}
	for _, name := range order {
		if err := checks[name](ctx); err != nil {
			status = http.StatusServiceUnavailable
			result[name] = err.Error()
		} else {
			result[name] = "ok"
		}
	}
	WriteJSON(w, status, map[string]any{"service": s.name, "ready": status == http.StatusOK, "checks": result})
}

func (s *Server) observe(requests *prometheus.CounterVec, duration *prometheus.HistogramVec) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := chi.RouteContext(r.Context()).RoutePattern()
			if route == "" {
				route = "unmatched"
			}
			code := ww.Status()
			if code == 0 {
				code = http.StatusOK
			}
			requests.WithLabelValues(r.Method, route, fmt.Sprint(code)).Inc()
			duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
			if route == "/healthz" || route == "/readyz" || route == "/metrics" {
				return // probes and scrapes would drown the log
			}
			// The access log is at debug level, but a server error is worth a
			// line at any level. Both carry the request ID the client got.
			level := slog.LevelDebug
			if code >= http.StatusInternalServerError {
				level = slog.LevelWarn
			}
			s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "code", code, "dur", time.Since(start))
		})
	}
}

// ListenAndServe listens on addr and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	l := s.Limits
	srv := &http.Server{
		Handler: s.Router, ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read, WriteTimeout: l.Write,
		IdleTimeout: l.Idle, MaxHeaderBytes: l.MaxHeaderBytes,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
