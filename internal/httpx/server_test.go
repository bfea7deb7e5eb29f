package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/logging"
)

func TestHealthReadinessMetrics(t *testing.T) {
	s := New("demo", logging.Discard(), prometheus.NewRegistry())
	ready := false
	s.AddCheck("database", func(context.Context) error {
		if !ready {
			return errors.New("connecting")
		}
		return nil
	})
	s.Router.Get("/things/{id}", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, 200, "ok") })
	srv := httptest.NewServer(s.Router)
	defer srv.Close()

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	code, body := get("/readyz")
	if code != 503 || !strings.Contains(body, "connecting") {
		t.Fatalf("readyz while not ready = %d %s", code, body)
	}
	ready = true
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("readyz when ready = %d", code)
	}
	get("/things/7")
	_, metrics := get("/metrics")
	if !strings.Contains(metrics, `soms_http_requests_total{code="200",method="GET",route="/things/{id}"} 1`) {
		t.Fatalf("route metrics missing:\n%s", metrics)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"empty", "", 400, "empty"},
		{"syntax", `{"a":`, 400, "malformed"},
		{"type", `{"n":"x"}`, 400, `field "n"`},
		{"trailing", `{"n":1}{"n":2}`, 400, "single JSON value"},
		{"too big", `{"s":"` + strings.Repeat("x", MaxBody) + `"}`, 413, "exceeds"},
		// PostgreSQL text cannot hold U+0000: refused here, not a 500 there.
		{"NUL in a string", `{"s":"a\u0000b"}`, 400, "NUL"},
		{"NUL after escaped backslashes", `{"s":"\\\u0000"}`, 400, "NUL"},
		{"huge integer", `{"n":1e30}`, 400, `field "n"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			var dst struct {
				N int    `json:"n"`
				S string `json:"s"`
			}
			if DecodeOrError(rec, req, &dst) {
				t.Fatal("decode succeeded")
			}
			var eb ErrorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &eb)
			if rec.Code != tc.status || !strings.Contains(eb.Error, tc.msg) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, eb.Error, tc.status, tc.msg)
			}
		})
	}
}

// A text that merely spells \u0000 (an escaped backslash before it) holds
// no NUL and passes.
func TestDecodeEscapedBackslashIsNotNUL(t *testing.T) {
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{"s":"C:\\u0000"}`))
	var dst struct {
		S string `json:"s"`
	}
	if err := Decode(req, &dst); err != nil || dst.S != `C:\u0000` {
		t.Fatalf("decode = %v, %q", err, dst.S)
	}
}

// A NUL in the path or query of any route is a 400 before the handler runs.
func TestNULInURLRefused(t *testing.T) {
	s := New("demo", logging.Discard(), prometheus.NewRegistry())
	reached := 0
	s.Router.Get("/things/{id}", func(w http.ResponseWriter, _ *http.Request) { reached++; WriteJSON(w, 200, "ok") })
	srv := httptest.NewServer(s.Router)
	defer srv.Close()
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/things/a%00b", 400},
		{"/things/7?zone=%00", 400},
		{"/things/7?zone=a", 200},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var eb ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != tc.code || (tc.code == 400 && !strings.Contains(eb.Error, "NUL")) {
			t.Errorf("%s = %d %q, want %d", tc.path, resp.StatusCode, eb.Error, tc.code)
		}
	}
	if reached != 1 {
		t.Errorf("the handler ran %d times, want once", reached)
	}
}

// An optional body may be empty or null; anything else is decoded (and
// refused) as usual.
func TestDecodeOptional(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
		n          int
	}{
		{"empty", "", true, 0},
		{"null", "null", true, 0},
		{"object", `{"n":3}`, true, 3},
		{"syntax", `{"n":`, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("PUT", "/", strings.NewReader(tc.body))
			var dst struct {
				N int `json:"n"`
			}
			if got := DecodeOptionalOrError(rec, req, &dst); got != tc.ok || dst.N != tc.n {
				t.Fatalf("ok %v n %d (status %d), want ok %v n %d", got, dst.N, rec.Code, tc.ok, tc.n)
			}
		})
	}
}

// Slow clients cannot hold connections open: a body dribbled a byte at a
// time, headers that never end and an idle keep-alive are each cut off by the
// server's limits (shortened here; DefaultLimits in production) while
// ordinary requests on the same server are still served.
func TestSlowConnectionsClosed(t *testing.T) {
	s := New("demo", logging.Discard(), prometheus.NewRegistry())
	s.Limits = Limits{ReadHeader: 300 * time.Millisecond, Read: 500 * time.Millisecond, Write: 2 * time.Second, Idle: 500 * time.Millisecond, MaxHeaderBytes: 4 << 10}
	s.Router.Post("/things", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if DecodeOrError(w, r, &v) {
			WriteJSON(w, http.StatusCreated, v)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := ln.Addr().String()

	// closed dials, writes head, then keeps writing one byte of body per tick
	// until the server closes the connection; it fails if the server still
	// holds it after a generous 10 s.
	closed := func(t *testing.T, head string, dribble bool) string {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(c) // until the server closes
			got <- string(b)
		}()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		giveUp := time.After(10 * time.Second)
		for {
			select {
			case b := <-got:
				return b
			case <-giveUp:
				t.Fatal("the server still holds the connection")
			case <-tick.C:
				if dribble {
					_, _ = c.Write([]byte(" "))
				}
			}
		}
	}

	t.Run("slow body", func(t *testing.T) {
		reply := closed(t, "POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", true)
		if reply != "" && !strings.Contains(reply, " 400 ") {
			t.Errorf("reply to a slow body: %q", reply)
		}
	})
	t.Run("headers that never end", func(t *testing.T) {
		closed(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n", false)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		reply := closed(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", false)
		if !strings.HasPrefix(reply, "HTTP/1.1 200 ") {
			t.Errorf("the request before idling was not answered: %q", reply)
		}
	})
	t.Run("oversized headers", func(t *testing.T) {
		reply := closed(t, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 16<<10)+"\r\n\r\n", false)
		if !strings.Contains(reply, " 431 ") {
			t.Errorf("reply to oversized headers: %q", reply)
		}
	})
	t.Run("ordinary request", func(t *testing.T) {
		resp, err := http.Post("http://"+addr+"/things", "application/json", strings.NewReader(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestDefaultLimitsBoundEverything(t *testing.T) {
	l := DefaultLimits
	if l.ReadHeader <= 0 || l.Read <= 0 || l.Write <= 0 || l.Idle <= 0 || l.MaxHeaderBytes <= 0 || l.Read > time.Minute {
		t.Fatalf("DefaultLimits = %+v: every limit must be set", l)
	}
	if s := New("demo", logging.Discard(), prometheus.NewRegistry()); s.Limits != l {
		t.Fatalf("a new server has limits %+v", s.Limits)
	}
}
