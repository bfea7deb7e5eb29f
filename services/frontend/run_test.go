package frontend

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/config"
)

// defaults is the configuration with an empty environment.
func defaults(t *testing.T) Config {
	t.Helper()
	var cfg Config
	if err := config.Load(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	cfg := defaults(t)
	if cfg.Addr != ":8088" || cfg.BackendURL != "http://127.0.0.1:8000" || cfg.EdgeURL != "" || cfg.ReportsDir != "reports" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := defaults(t)
	cfg.Addr, cfg.BackendURL = addr, "http://127.0.0.1:1"
	go func() {
		done <- Run(ctx, cfg)
	}()
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("frontend not ready: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `id="main"`) {
		t.Fatalf("/ is not the dashboard: %.100q", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunRefusesBadURL(t *testing.T) {
	cfg := defaults(t)
	cfg.Addr, cfg.BackendURL = "127.0.0.1:0", "nope"
	err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "BACKEND_URL") {
		t.Fatalf("got %v", err)
	}
}
