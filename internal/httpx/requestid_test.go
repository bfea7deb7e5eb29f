package httpx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/logging"
)

// lockedBuffer is a log sink the server goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records returns the JSON log records with msg.
func (l *lockedBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func TestRequestIDReturnedAndLogged(t *testing.T) {
	var sink lockedBuffer
	log, err := logging.New(&sink, logging.Config{Level: "debug", Format: "json"}, "demo")
	if err != nil {
		t.Fatal(err)
	}
	s := New("demo", log, prometheus.NewRegistry())
	s.Router.Get("/fail", func(w http.ResponseWriter, r *http.Request) {
		log.ErrorContext(r.Context(), "could not do it")
		Error(w, http.StatusInternalServerError, "internal error")
	})
	s.Router.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	srv := httptest.NewServer(s.Router)
	defer srv.Close()

	get := func(path, id string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if id != "" {
			req.Header.Set(RequestIDHeader, id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	// Generated IDs differ per request; a caller's sane ID is kept.
	a, b := get("/fail", "").Header.Get(RequestIDHeader), get("/fail", "").Header.Get(RequestIDHeader)
	if len(a) != 24 || a == b {
		t.Fatalf("generated IDs %q and %q", a, b)
	}
	if got := get("/fail", "proxy-7f3a/000042").Header.Get(RequestIDHeader); got != "proxy-7f3a/000042" {
		t.Fatalf("caller's ID replaced by %q", got)
	}
	for _, bad := range []string{"a b", `x" forged="1`, strings.Repeat("x", 65)} {
		if got := get("/fail", bad).Header.Get(RequestIDHeader); got == bad || len(got) != 24 {
			t.Fatalf("unsafe ID %q answered as %q", bad, got)
		}
	}
	// Unmatched routes and panics get one too.
	if get("/nowhere", "").Header.Get(RequestIDHeader) == "" {
		t.Fatal("404 without a request ID")
	}
	panicked := get("/panic", "panic-1")
	if panicked.StatusCode != http.StatusInternalServerError || panicked.Header.Get(RequestIDHeader) != "panic-1" {
		t.Fatalf("panic answered %d with ID %q", panicked.StatusCode, panicked.Header.Get(RequestIDHeader))
	}

	// The handler's log and the access line carry the ID the client got.
	handler := sink.records(t, "could not do it")
	access := sink.records(t, "request")
	if len(handler) != 6 || handler[2]["request_id"] != "proxy-7f3a/000042" || handler[0]["request_id"] != a {
		t.Fatalf("handler records %v", handler)
	}
	byID := map[any]map[string]any{}
	for _, rec := range access {
		byID[rec["request_id"]] = rec
	}
	if rec := byID["proxy-7f3a/000042"]; rec == nil || rec["level"] != "WARN" || rec["code"] != float64(500) {
		t.Fatalf("access record of a 500: %v", rec)
	}
	if rec := byID["panic-1"]; rec == nil || rec["code"] != float64(500) || rec["path"] != "/panic" {
		t.Fatalf("access record of a panic: %v", rec)
	}
	if len(access) != 8 {
		t.Fatalf("%d access records for 8 requests: %v", len(access), access)
	}
}
