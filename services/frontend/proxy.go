package frontend

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
)

// route forwards every request under prefix to target, with strip removed
// from the front of the path ("" keeps the path as it is).
type route struct {
	prefix string
	strip  string
	// name and envVar explain an unconfigured route.
	name, envVar string
	proxy        http.Handler // nil: not configured
}

// InternalPaths are the services' paths no route forwards: every SOMS
// service serves its Prometheus metrics there, which stay on the internal
// network (the monitoring profile's Prometheus scrapes them there).
var InternalPaths = []string{"/metrics"}

const internalMessage = "not found: metrics are served on the internal network only"

// internal reports whether path, forwarded by rt, would reach one of an
// upstream's InternalPaths. Only a route that strips its prefix can reach
// an upstream's root.
func (rt *route) internal(p string) bool {
	if rt.strip == "" {
		return false
	}
	up := path.Clean(ensureSlash(strings.TrimPrefix(p, rt.strip)))
	return slices.Contains(InternalPaths, up)
}

// matches reports whether path is prefix itself or below it.
func (rt *route) matches(path string) bool {
	return path == rt.prefix || strings.HasPrefix(path, rt.prefix+"/")
}

// Route is one proxied path prefix. The table is the one source of the
// dashboard's routes: soms frontend serves it, and the compose frontend's
// nginx configurations are generated from it (nginx.go, make docs).
type Route struct {
	Prefix string // forwarded: Prefix itself and everything below it
	Strip  string // removed from the front of the path ("" keeps it)
	Name   string // what it reaches, for errors
	EnvVar string // the frontend setting holding the target's base URL
	// Upstream is the compose service and port nginx forwards to; empty:
	// compose has no such route (nginx answers 404 like an unset EnvVar).
	Upstream string
	// Sim marks a simulator route: only the virtual office's nginx has it.
	Sim bool
	url func(Config) string
}

// Routes is the table, most specific prefix first. The wallet has no route
// of its own: it answers services only, and people read their wallet at
// /api/wallet/..., which /api forwards to the backend's /wallet/..., where
// their login is checked (docs/security.md).
func Routes() []Route {
	return []Route{
		{"/api/voice", "", "voice service", "VOICE_URL", "voice-service:8002", false, func(c Config) string { return c.VoiceURL }},
		{"/api/brain", "/api/brain", "brain", "BRAIN_URL", "brain:8080", false, func(c Config) string { return c.BrainURL }},
		{"/api/sim/edge", "/api/sim/edge", "simulator's edge control API", "EDGE_URL", "virtual-edge:8010", true, func(c Config) string { return c.EdgeURL }},
		{"/api/sim/mockllm", "/api/sim/mockllm", "simulator's mock LLM", "MOCKLLM_URL", "mock-llm:8001", true, func(c Config) string { return c.MockLLMURL }},
		{"/api/sim/camera", "/api/sim/camera", "simulator's virtual cameras", "CAMERA_URL", "virtual-camera:8015", true, func(c Config) string { return c.CameraURL }},
		// mediamtx's HLS server: /api/sim/hls/cam_main/index.m3u8 → /cam_main/index.m3u8.
		{"/api/sim/hls", "/api/sim/hls", "simulator's camera HLS server", "HLS_URL", "", true, func(c Config) string { return c.HLSURL }},
		// The native harness serves GET/PUT /clock: /api/sim/clock → /clock.
		// Under compose the test driver publishes the clock over MQTT.
		{"/api/sim/clock", "/api/sim", "simulator's clock (harness control API)", "HARNESS_URL", "", true, func(c Config) string { return c.HarnessURL }},
		{"/api/sim", "", "simulator", "EDGE_URL, MOCKLLM_URL, CAMERA_URL, HLS_URL, HARNESS_URL", "", true, func(Config) string { return "" }},
		{"/api", "/api", "backend", "BACKEND_URL", "backend:8000", false, func(c Config) string { return c.BackendURL }},
		{"/audio", "", "voice service", "VOICE_URL", "voice-service:8002", false, func(c Config) string { return c.VoiceURL }},
	}
}

// routes builds the proxy table of cfg.
func routes(cfg Config, log *slog.Logger) ([]*route, error) {
	table := Routes()
	out := make([]*route, 0, len(table))
	for _, t := range table {
		rt := &route{prefix: t.Prefix, strip: t.Strip, name: t.Name, envVar: t.EnvVar}
		if raw := t.url(cfg); raw != "" {
			target, err := url.Parse(raw)
			if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
				return nil, fmt.Errorf("%s=%q: want an http(s) base URL such as http://127.0.0.1:8000", t.EnvVar, raw)
			}
			rt.proxy = newProxy(target, rt.strip, t.Name, log)
		}
		out = append(out, rt)
	}
	return out, nil
}

// newProxy forwards to target. FlushInterval −1 writes every chunk through
// at once, so Server-Sent Events reach the browser as they are sent (nginx:
// proxy_buffering off); upgrades (WebSocket) are handled by ReverseProxy.
func newProxy(target *url.URL, strip, name string, log *slog.Logger) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			if strip != "" {
				u := pr.Out.URL
				u.Path = ensureSlash(strings.TrimPrefix(u.Path, strip))
				if u.RawPath != "" {
					u.RawPath = ensureSlash(strings.TrimPrefix(u.RawPath, strip))
				}
			}
			pr.SetURL(target)
			pr.SetXForwarded()
			// One request ID through the proxy: the upstream logs the ID the
			// client was given.
			if id := logging.RequestID(pr.In.Context()); id != "" {
				pr.Out.Header.Set(httpx.RequestIDHeader, id)
			}
		},
		ModifyResponse: func(res *http.Response) error {
			// The frontend already answers with the ID; the upstream's copy
			// would repeat the header.
			if logging.RequestID(res.Request.Context()) != "" {
				res.Header.Del(httpx.RequestIDHeader)
			}
			return nil
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.WarnContext(r.Context(), "upstream unreachable", "upstream", name, "path", r.URL.Path, "err", err)
			httpx.Error(w, http.StatusBadGateway, name+" unreachable")
		},
	}
}

func ensureSlash(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}
