package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
