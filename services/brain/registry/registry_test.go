package registry

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func hb(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStates(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		after   time.Duration
		want    State
		timeout time.Duration
	}{
		{"fresh heartbeat", `{"status":"online"}`, 60 * time.Second, Online, 10 * time.Second},
		{"stale after 120 s", `{}`, 120 * time.Second, Stale, 20 * time.Second},
		{"offline after 900 s", `{}`, 900 * time.Second, Offline, 5 * time.Second},
		{"deep sleep with a wake time", `{"power_mode":"DEEP_SLEEP","next_wake_sec":240}`, 600 * time.Second, Sleeping, 30 * time.Second},
		{"deep sleep past 900 s is offline", `{"power_mode":"DEEP_SLEEP","next_wake_sec":240}`, 900 * time.Second, Offline, 5 * time.Second},
		{"light sleep is not sleeping", `{"power_mode":"LIGHT_SLEEP","next_wake_sec":240}`, 200 * time.Second, Stale, 20 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewManual(t0)
			r := New(c, Config{})
			if err := r.Heartbeat("main", "env_01", hb(t, tc.payload)); err != nil {
				t.Fatal(err)
			}
			c.Advance(tc.after)
			s, _ := r.Get("env_01")
			if s.State != tc.want {
				t.Fatalf("state = %s, want %s", s.State, tc.want)
			}
			if got := r.Timeout("env_01"); got != tc.timeout {
				t.Fatalf("timeout = %v, want %v", got, tc.timeout)
			}
		})
	}
	if got := New(clock.NewManual(t0), Config{}).Timeout("nobody"); got != 10*time.Second {
		t.Fatalf("unknown device timeout = %v", got)
	}
}

func TestChildren(t *testing.T) {
	r := New(clock.NewManual(t0), Config{})
	err := r.Heartbeat("main", "swarm_hub_01", hb(t, `{"device_type":"swarm_hub","children":[
		{"device_id":"leaf_env_01","battery_pct":15,"power_mode":"DEEP_SLEEP","next_wake_sec":60},
		{"device_id":"other.leaf"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	leaf, ok := r.Get("swarm_hub_01.leaf_env_01")
	if !ok || leaf.ParentID != "swarm_hub_01" || *leaf.BatteryPct != 15 || leaf.State != Sleeping {
		t.Fatalf("leaf = %+v", leaf)
	}
	if _, ok := r.Get("other.leaf"); !ok {
		t.Fatal("dotted child id should be kept as is")
	}
	for _, bad := range []string{`{"children":{"leaf":{}}}`, `{"children":[{"battery_pct":3}]}`, `{"children":["x"]}`} {
		if err := r.Heartbeat("main", "hub", hb(t, bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestTrustAfterCumulativeOnlineTime(t *testing.T) {
	c := clock.NewManual(t0)
	r := New(c, Config{TrustAfter: time.Hour})
	beat := func() { _ = r.Heartbeat("main", "env_01", map[string]any{"device_type": "env"}) }
	// 40 minutes online.
	for range 41 {
		beat()
		c.Advance(time.Minute)
	}
	if s, _ := r.Get("env_01"); s.Trusted {
		t.Fatal("trusted after 40 minutes")
	}
	if r.Summary() != "" {
		t.Fatal("untrusted devices must not reach the LLM")
	}
	// Offline for two hours: that gap does not count.
	c.Advance(2 * time.Hour)
	for range 19 {
		beat()
		c.Advance(time.Minute)
	}
	if s, _ := r.Get("env_01"); s.Trusted {
		t.Fatalf("trusted after 58 online minutes (%.0f s)", s.OnlineFor)
	}
	beat()
	c.Advance(time.Minute)
	beat()
	s, _ := r.Get("env_01")
	if !s.Trusted {
		t.Fatalf("not trusted after %.0f s online", s.OnlineFor)
	}
	// Trust is sticky.
	c.Advance(24 * time.Hour)
	if s, _ := r.Get("env_01"); !s.Trusted || s.State != Offline {
		t.Fatalf("after a day: %+v", s)
	}
	if sum := r.Summary(); !strings.Contains(sum, "オフライン: env_01") {
		t.Fatalf("summary = %q", sum)
	}
	if tree := r.Tree(""); !strings.Contains(tree, "🔴 env_01 (env) offline") {
		t.Fatalf("tree = %q", tree)
	}
}

func TestUtility(t *testing.T) {
	c := clock.NewManual(t0)
	r := New(c, Config{})
	_ = r.Heartbeat("kitchen", "kitchen_env", map[string]any{})
	for range 5 {
		r.Boost("kitchen", 0.5)
	}
	if s, _ := r.Get("kitchen_env"); s.Utility != 2.0 {
		t.Fatalf("utility = %v, want capped 2.0", s.Utility)
	}
	c.Advance(30 * 24 * time.Hour)
	r.Decay()
	if s, _ := r.Get("kitchen_env"); s.Utility != 0.5 {
		t.Fatalf("utility after 30 idle days = %v, want 0.5", s.Utility)
	}
}
