package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// api is a real server with the answers the client must handle.
func api(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /double", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ N int }
		if !httpx.DecodeOrError(w, r, &in) {
			return
		}
		if in.N == 0 {
			httpx.Invalid(w, map[string]string{"n": "required"})
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]int{"double": 2 * in.N})
	})
	mux.HandleFunc("GET /echo-headers", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{
			"token": r.Header.Get("X-Token"), "key": r.Header.Get("Idempotency-Key"), "type": r.Header.Get("Content-Type"),
		})
	})
	mux.HandleFunc("GET /audio", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write([]byte{'R', 'I', 'F', 'F', 0, 0xff})
	})
	mux.HandleFunc("GET /status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscan(r.PathValue("code"), &code)
		httpx.Error(w, code, "status "+r.PathValue("code"))
	})
	mux.HandleFunc("GET /detail", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": "style_id=12345 is not found"})
	})
	mux.HandleFunc("GET /openai", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"message": "model is loading"}})
	})
	mux.HandleFunc("GET /text", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, strings.Repeat("x", 400), http.StatusBadGateway)
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(make([]byte, 2048)) })
	mux.HandleFunc("GET /not-json", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) })
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestClientDo(t *testing.T) {
	srv := api(t)
	c := httpx.Client{Name: "demo", BaseURL: srv.URL, HTTP: srv.Client(), Header: http.Header{"X-Token": {"s3cret"}}}
	ctx := t.Context()

	var out struct{ Double int }
	if err := c.Do(ctx, http.MethodPost, "/double", map[string]int{"n": 21}, &out); err != nil || out.Double != 42 {
		t.Fatalf("out = %+v, err = %v", out, err)
	}

	var h map[string]string
	if err := c.Call(ctx, httpx.Request{Method: http.MethodGet, Path: "/echo-headers", Header: http.Header{"Idempotency-Key": {"k1"}}}, &h); err != nil {
		t.Fatal(err)
	}
	if h["token"] != "s3cret" || h["key"] != "k1" || h["type"] != "" {
		t.Fatalf("headers the server saw: %v (a request without a body has no Content-Type)", h)
	}

	// Whole URLs work with an empty BaseURL.
	if err := (httpx.Client{}).Do(ctx, http.MethodPost, srv.URL+"/double", map[string]int{"n": 1}, &out); err != nil || out.Double != 2 {
		t.Fatalf("out = %+v, err = %v", out, err)
	}

	if err := c.Do(ctx, http.MethodGet, "/not-json", nil, &out); err == nil || !strings.Contains(err.Error(), "demo: GET /not-json: decoding the answer") {
		t.Fatalf("non-JSON answer: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, "/not-json", nil, nil); err != nil {
		t.Fatalf("an answer nobody reads is not decoded: %v", err)
	}
}

func TestClientSendRaw(t *testing.T) {
	srv := api(t)
	resp, err := httpx.Client{BaseURL: srv.URL}.Send(t.Context(), httpx.Request{Method: http.MethodGet, Path: "/audio"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Header.Get("Content-Type") != "audio/wav" || string(resp.Body) != "RIFF\x00\xff" {
		t.Fatalf("response %d %v %q", resp.Status, resp.Header, resp.Body)
	}
}

func TestClientErrors(t *testing.T) {
	srv := api(t)
	c := httpx.Client{Name: "demo", BaseURL: srv.URL, MaxAnswer: 1024}
	tests := []struct {
		name, path string
		status     int
		message    string
		permanent  bool
	}{
		{"SOMS error body", "/status/409", 409, "status 409", true},
		{"not found", "/status/404", 404, "status 404", true},
		{"timeout is retried", "/status/408", 408, "status 408", false},
		{"too many requests is retried", "/status/429", 429, "status 429", false},
		{"server error is retried", "/status/503", 503, "status 503", false},
		{"FastAPI detail", "/detail", 422, "style_id=12345 is not found", true},
		{"OpenAI error object", "/openai", 503, "model is loading", false},
		{"plain text is cut", "/text", 502, strings.Repeat("x", 300) + "…", false},
		{"empty body", "/empty", 500, "(empty body)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Do(t.Context(), http.MethodGet, tc.path, nil, nil)
			var ae *httpx.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an APIError", err)
			}
			if ae.Status != tc.status || ae.Message != tc.message || ae.Method != "GET" || ae.Path != tc.path || ae.API != "demo" {
				t.Fatalf("APIError %+v", ae)
			}
			if !httpx.IsStatus(fmt.Errorf("wrapped: %w", err), tc.status) || httpx.IsStatus(err, tc.status+1) {
				t.Fatal("IsStatus")
			}
			if st, msg := httpx.StatusMessage(err); st != tc.status || msg != tc.message {
				t.Fatalf("StatusMessage = %d %q", st, msg)
			}
			if httpx.Permanent(err) != tc.permanent {
				t.Fatalf("Permanent = %v, want %v", httpx.Permanent(err), tc.permanent)
			}
			if want := fmt.Sprintf("demo: GET %s: HTTP %d: %s", tc.path, tc.status, tc.message); err.Error() != want {
				t.Fatalf("message %q, want %q", err, want)
			}
		})
	}

	t.Run("validation fields", func(t *testing.T) {
		err := c.Do(t.Context(), http.MethodPost, "/double", map[string]int{}, nil)
		var ae *httpx.APIError
		if !errors.As(err, &ae) || ae.Status != 422 || ae.Message != "validation failed" || ae.Fields["n"] != "required" {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("answer over the limit", func(t *testing.T) {
		err := c.Do(t.Context(), http.MethodGet, "/big", nil, nil)
		if err == nil || !strings.Contains(err.Error(), "exceeds 1024 bytes") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		err := httpx.Client{BaseURL: down.URL}.Do(t.Context(), http.MethodGet, "/x", nil, nil)
		var ae *httpx.APIError
		if err == nil || errors.As(err, &ae) || httpx.Permanent(err) || !strings.HasPrefix(err.Error(), "GET /x: ") {
			t.Fatalf("err = %v: want a transport error worth retrying", err)
		}
		if st, msg := httpx.StatusMessage(err); st != 0 || msg != err.Error() {
			t.Fatalf("StatusMessage = %d %q", st, msg)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		err := c.Do(ctx, http.MethodGet, "/hang", nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) || httpx.Permanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unencodable request", func(t *testing.T) {
		err := c.Do(t.Context(), http.MethodPost, "/double", func() {}, nil)
		if err == nil || !strings.Contains(err.Error(), "encoding the request") {
			t.Fatalf("err = %v", err)
		}
	})
}
