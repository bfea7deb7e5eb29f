package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// testMonitoring: the monitoring profile's Prometheus scrapes every service's
// /metrics on soms-net (which nothing else publishes) and has loaded the
// alert rules (docs/deploy.md, "Monitoring").
func testMonitoring(t *testing.T) {
	port := sys.HostPort("prometheus", 9090)
	if port == 0 {
		t.Fatal("no Prometheus in the stack (the monitoring profile)")
	}
	api := httpx.Client{Name: "prometheus", BaseURL: "http://127.0.0.1:" + strconv.Itoa(port), HTTP: &http.Client{Timeout: 10 * time.Second}}
	want := []string{"backend", "brain", "perception", "prometheus", "voice-service", "wallet"}

	// Targets turn up at their first scrape (within the 15 s interval of
	// Prometheus starting); Prometheus offers nothing to wait on but polling.
	var last string
	deadline := time.Now().Add(90 * time.Second)
	for {
		var targets struct {
			Data struct {
				ActiveTargets []struct {
					Labels    map[string]string `json:"labels"`
					Health    string            `json:"health"`
					LastError string            `json:"lastError"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		if err := api.Do(t.Context(), http.MethodGet, "/api/v1/targets", nil, &targets); err != nil {
			t.Fatal(err)
		}
		var up []string
		last = ""
		for _, tg := range targets.Data.ActiveTargets {
			if tg.Health == "up" {
				up = append(up, tg.Labels["job"])
			} else {
				last += fmt.Sprintf(" %s=%s(%s)", tg.Labels["job"], tg.Health, tg.LastError)
			}
		}
		slices.Sort(up)
		if slices.Equal(up, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus targets up %v, want %v; others:%s", up, want, last)
		}
		time.Sleep(time.Second)
	}

	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := api.Do(t.Context(), http.MethodGet, "/api/v1/rules?type=alert", nil, &rules); err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Name)
		}
	}
	if len(alerts) < 3 {
		t.Errorf("alert rules loaded: %v, want the service-down, rule-fallback and payments-pending alerts", alerts)
	}
}
