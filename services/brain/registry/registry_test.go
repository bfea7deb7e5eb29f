package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/topic"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// beat applies a heartbeat payload of device id in zone as the brain does:
// decoded and parsed by internal/telemetry, then handed to the registry.
func beat(r *Registry, zone, id, payload string) error {
	msg, err := telemetry.Decode(topic.Heartbeat(zone, id), []byte(payload))
	if err != nil {
		return err
	}
	hb, err := telemetry.ParseHeartbeat(msg)
	if err != nil {
		return err
	}
	return r.Heartbeat(zone, hb)
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
			if err := beat(r, "main", "env_01", tc.payload); err != nil {
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
	err := beat(r, "main", "swarm_hub_01", `{"device_type":"swarm_hub","children":[
		{"device_id":"leaf_env_01","battery_pct":15,"power_mode":"DEEP_SLEEP","next_wake_sec":60},
		{"device_id":"other.leaf"}]}`)
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
		if err := beat(r, "main", "hub", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestTrustAfterCumulativeOnlineTime(t *testing.T) {
	c := clock.NewManual(t0)
	r := New(c, Config{TrustAfter: time.Hour})
	beat := func() { _ = beat(r, "main", "env_01", `{"device_type":"env"}`) }
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
	_ = beat(r, "kitchen", "kitchen_env", `{}`)
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

// TestBounds: the registry keeps at most MaxDevices devices (a heartbeat that
// would pass the bound is refused whole, known devices always get through),
// and forgets devices seen only briefly an hour after their last heartbeat,
// others after 30 days.
func TestBounds(t *testing.T) {
	c := clock.NewManual(t0)
	r := New(c, Config{TrustAfter: time.Hour, MaxDevices: 3})
	for _, id := range []string{"env_01", "env_02"} {
		if err := beat(r, "main", id, `{}`); err != nil {
			t.Fatal(err)
		}
	}
	err := beat(r, "main", "hub", `{"children":[{"device_id":"a"}]}`)
	var rej *telemetry.Reject
	if !errors.As(err, &rej) || rej.Reason != telemetry.DeviceLimit || len(r.List()) != 2 {
		t.Fatalf("hub with a child past the bound: %v, %d devices", err, len(r.List()))
	}
	if err := beat(r, "main", "fake", `{}`); err != nil {
		t.Fatal(err)
	}
	if err := beat(r, "main", "fake_2", `{}`); !errors.As(err, &rej) || rej.Reason != telemetry.DeviceLimit {
		t.Fatalf("fourth device: %v", err)
	}
	// env_01 stays for over an hour and earns trust; env_02 for 15 minutes;
	// fake goes quiet at once.
	for i := range 62 {
		c.Advance(time.Minute)
		if err := beat(r, "main", "env_01", `{}`); err != nil {
			t.Fatal(err)
		}
		if i < 15 {
			_ = beat(r, "main", "env_02", `{}`)
		}
	}
	if _, ok := r.Get("fake"); ok {
		t.Fatal("a briefly seen device outlived an hour of silence")
	}
	if err := beat(r, "main", "newcomer", `{}`); err != nil {
		t.Fatalf("room not freed: %v", err)
	}
	c.Advance(29 * 24 * time.Hour)
	if err := beat(r, "main", "newcomer", `{}`); err != nil {
		t.Fatal(err)
	}
	if s, ok := r.Get("env_01"); !ok || !s.Trusted {
		t.Fatalf("trusted device forgotten within 30 days: %+v", s)
	}
	if s, ok := r.Get("env_02"); !ok || s.Trusted {
		t.Fatalf("untrusted device seen for 15 minutes forgotten within 30 days: %+v", s)
	}
	c.Advance(2 * 24 * time.Hour)
	if err := beat(r, "main", "newcomer", `{}`); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get("env_01"); ok {
		t.Fatal("a trusted device outlived 30 days of silence")
	}
	for i := range 3 {
		_ = beat(r, "main", fmt.Sprintf("x%d", i), `{}`)
	}
	if n := len(r.List()); n != 3 {
		t.Fatalf("%d devices, bound 3", n)
	}
}
