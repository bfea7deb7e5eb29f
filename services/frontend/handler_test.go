package frontend

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
)

// echo is an upstream that answers with its name and the path it received.
func echo(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"upstream": name, "path": r.URL.RequestURI(), "method": r.Method})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newFrontend(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	h, err := NewHandler(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestProxyRoutes(t *testing.T) {
	cfg := Config{
		BackendURL: echo(t, "backend").URL, VoiceURL: echo(t, "voice").URL,
		BrainURL: echo(t, "brain").URL, EdgeURL: echo(t, "edge").URL, MockLLMURL: echo(t, "mockllm").URL,
		CameraURL: echo(t, "camera").URL, HarnessURL: echo(t, "harness").URL, HLSURL: echo(t, "hls").URL,
	}
	fe := newFrontend(t, cfg)
	cases := []struct {
		method, path, upstream, want string
	}{
		{"GET", "/api/tasks/?status=open", "backend", "/tasks/?status=open"},
		{"PUT", "/api/tasks/7/accept", "backend", "/tasks/7/accept"},
		{"GET", "/api/events/stream", "backend", "/events/stream"},
		{"POST", "/api/voice/synthesize", "voice", "/api/voice/synthesize"},
		{"GET", "/audio/0123456789abcdef0123456789abcdef.wav", "voice", "/audio/0123456789abcdef0123456789abcdef.wav"},
		// People's wallet reads go to the backend, which checks who they are.
		{"GET", "/api/wallet/wallets/3/history?limit=5", "backend", "/wallet/wallets/3/history?limit=5"},
		{"GET", "/api/wallet/wallets/leaderboard", "backend", "/wallet/wallets/leaderboard"},
		{"GET", "/api/brain/decisions?limit=3", "brain", "/decisions?limit=3"},
		{"PATCH", "/api/sim/edge/zones/meeting_room", "edge", "/zones/meeting_room"},
		{"GET", "/api/sim/mockllm/control/requests", "mockllm", "/control/requests"},
		{"GET", "/api/sim/camera/cameras/cam_main/snapshot.jpg", "camera", "/cameras/cam_main/snapshot.jpg"},
		{"PUT", "/api/sim/clock", "harness", "/clock"},
		{"GET", "/api/sim/hls/cam_main/index.m3u8", "hls", "/cam_main/index.m3u8"},
		// A prefix must end at a path segment.
		{"GET", "/api/voiceless", "backend", "/voiceless"},
		{"GET", "/api/wallet", "backend", "/wallet"},
		{"GET", "/api/metricsx", "backend", "/metricsx"},
		{"GET", "/api/brain/metrics/x", "brain", "/metrics/x"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, fe.URL+c.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
			}
			if got["upstream"] != c.upstream || got["path"] != c.want || got["method"] != c.method {
				t.Fatalf("got %v, want %s %s at %s", got, c.method, c.want, c.upstream)
			}
		})
	}
}

func TestUnconfiguredAndDownUpstreams(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // nothing listens there any more
	fe := newFrontend(t, Config{BackendURL: downURL, VoiceURL: downURL})
	cases := []struct {
		path   string
		status int
		substr string
	}{
		{"/api/sim/edge/zones", http.StatusNotFound, "EDGE_URL"},
		{"/api/sim/clock", http.StatusNotFound, "HARNESS_URL"},
		{"/api/sim/other", http.StatusNotFound, "simulator"},
		{"/api/brain/decisions", http.StatusNotFound, "BRAIN_URL"},
		{"/api/tasks/", http.StatusBadGateway, "backend unreachable"},
		{"/api/wallet/wallets/1", http.StatusBadGateway, "backend unreachable"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, err := http.Get(fe.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status || !strings.Contains(body.Error, c.substr) {
				t.Fatalf("HTTP %d %q, want %d containing %q", resp.StatusCode, body.Error, c.status, c.substr)
			}
		})
	}
}

// No route forwards to a service's /metrics, however the path is spelled:
// metrics stay on the internal network.
func TestMetricsNotProxied(t *testing.T) {
	fe := newFrontend(t, Config{BackendURL: echo(t, "backend").URL, VoiceURL: echo(t, "voice").URL, BrainURL: echo(t, "brain").URL})
	for _, p := range []string{"/api/metrics", "/api//metrics", "/api/metrics/", "/api/./metrics", "/api/brain/metrics", "/api/wallet/../metrics"} {
		resp, err := http.Get(fe.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || body["upstream"] != "" {
			t.Errorf("GET %s = %d %v, want 404 from the frontend", p, resp.StatusCode, body)
		}
	}
}

func TestBadURLRefused(t *testing.T) {
	for _, raw := range []string{"backend:8000", "ftp://x", "http://"} {
		if _, err := NewHandler(Config{BackendURL: raw}, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "BACKEND_URL") {
			t.Errorf("%q: got %v, want an error naming BACKEND_URL", raw, err)
		}
	}
}

// TestEventStreamUnbuffered: an event reaches the browser while the upstream
// still holds the stream open.
func TestEventStreamUnbuffered(t *testing.T) {
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "event: task.created\ndata: {\"id\":1}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer upstream.Close()
	defer close(release)
	fe := newFrontend(t, Config{BackendURL: upstream.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fe.URL+"/api/events/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatalf("no event before the stream ended: %v", err)
	}
	if line != "event: task.created\n" {
		t.Fatalf("first line %q", line)
	}
}

func TestStaticInfoAndReports(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "office-day"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "office-day", "report.html"), []byte("<h1>office day</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "unfinished"), 0o755); err != nil {
		t.Fatal(err)
	}
	fe := newFrontend(t, Config{BackendURL: "http://127.0.0.1:1", EdgeURL: "http://127.0.0.1:2", ReportsDir: dir})
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(fe.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	cases := []struct {
		path, ctype, substr string
		status              int
	}{
		{"/", "text/html", `<script type="module" src="js/main.js">`, 200},
		{"/tasks/board", "text/html", `id="tasks-open"`, 200}, // single-page fallback
		{"/js/main.js", "javascript", "EventSource", 200},
		{"/app.css", "text/css", "--accent", 200},
		{"/vendor/hls.light.min.js", "javascript", "Apache License", 200},
		{"/embed.go", "text/html", "<!doctype html>", 200}, // not embedded: the page, not the source
		{"/reports/office-day/report.html", "text/html", "office day", 200},
		{"/reports/../handler.go", "", "", 404},
	}
	for _, c := range cases {
		status, ctype, body := get(c.path)
		if status != c.status || !strings.Contains(ctype, c.ctype) || !strings.Contains(body, c.substr) {
			t.Errorf("%s: HTTP %d %s %.80q; want %d %s containing %q", c.path, status, ctype, body, c.status, c.ctype, c.substr)
		}
	}
	status, _, body := get("/frontend.json")
	var info Info
	if err := json.Unmarshal([]byte(body), &info); status != 200 || err != nil {
		t.Fatalf("frontend.json: HTTP %d %v", status, err)
	}
	if info.Brain || !info.Sim["edge"] || info.Sim["clock"] || info.Sim["camera"] || info.Sim["hls"] {
		t.Errorf("frontend.json flags %+v", info)
	}
	if len(info.Reports) != 1 || info.Reports[0].URL != "/reports/office-day/report.html" {
		t.Errorf("reports %+v, want only office-day", info.Reports)
	}
}

// TestRequestIDThroughTheProxy: behind the kit's server (as in Run) the
// upstream sees the ID the client is given, and the client gets it once.
func TestRequestIDThroughTheProxy(t *testing.T) {
	var seen string
	upstream := httpx.New("backend", logging.Discard(), prometheus.NewRegistry())
	upstream.Router.Get("/tasks/", func(w http.ResponseWriter, r *http.Request) {
		seen = logging.RequestID(r.Context())
		httpx.WriteJSON(w, http.StatusOK, []string{})
	})
	up := httptest.NewServer(upstream.Router)
	defer up.Close()
	h, err := NewHandler(Config{BackendURL: up.URL}, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	front := httpx.New("frontend", logging.Discard(), prometheus.NewRegistry())
	front.Router.Handle("/*", h)
	fe := httptest.NewServer(front.Router)
	defer fe.Close()

	for _, sent := range []string{"", "client-42"} {
		req, _ := http.NewRequest(http.MethodGet, fe.URL+"/api/tasks/", nil)
		if sent != "" {
			req.Header.Set(httpx.RequestIDHeader, sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Values(httpx.RequestIDHeader)
		if resp.StatusCode != http.StatusOK || len(got) != 1 || got[0] != seen || (sent != "" && seen != sent) {
			t.Fatalf("sent %q: HTTP %d, client got %q, upstream saw %q", sent, resp.StatusCode, got, seen)
		}
	}
}
