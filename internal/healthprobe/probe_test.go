package healthprobe

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer ok.Close()
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"database: down"}`, http.StatusServiceUnavailable)
	}))
	defer notReady.Close()
	stalled := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stalled:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(stalled)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		target  string
		wantErr string
	}{
		{ok.URL + "/readyz", ""},
		{notReady.URL + "/readyz", "HTTP 503"},
		{slow.URL, "deadline exceeded"},
		{"tcp://" + ln.Addr().String(), ""},
		{"tcp://" + closedAddr, "refused"},
		{"http://" + closedAddr + "/healthz", "refused"},
		{"ftp://example/x", "unsupported scheme"},
		{"localhost:8000", "not a URL"},
	}
	for _, tc := range tests {
		err := Probe(context.Background(), tc.target, 300*time.Millisecond)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.target, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", tc.target, err, tc.wantErr)
		}
	}
}

func TestRunNeedsEveryTarget(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ok.Close()
	var out bytes.Buffer
	if err := Run(context.Background(), Config{Timeout: time.Second}, []string{ok.URL}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "healthy: "+ok.URL) {
		t.Fatalf("output %q", out.String())
	}
	if err := Run(context.Background(), Config{Timeout: time.Second}, []string{ok.URL, "tcp://127.0.0.1:1"}, &out); err == nil {
		t.Fatal("one unhealthy target must fail the check")
	}
	if err := Run(context.Background(), Config{}, nil, &out); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no targets: %v", err)
	}
}
