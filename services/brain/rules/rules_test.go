package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func zone(id string, people int, values map[string]float64, extra map[string]float64) worldmodel.Snapshot {
	s := worldmodel.Snapshot{ID: id, PersonCount: people, Channels: map[string]worldmodel.ChannelValue{}, Extra: extra}
	for k, v := range values {
		s.Channels[k] = worldmodel.ChannelValue{Value: v}
	}
	return s
}

func TestRules(t *testing.T) {
	tests := []struct {
		name     string
		z        worldmodel.Snapshot
		events   []worldmodel.Event
		critical []string
		normal   []string
	}{
		{"comfortable", zone("main", 2, map[string]float64{"co2": 800, "temperature": 23, "humidity": 45}, nil), nil, nil, nil},
		{"co2 1000 is fine", zone("main", 2, map[string]float64{"co2": 1000}, nil), nil, nil, nil},
		{"co2 1001 normal", zone("main", 2, map[string]float64{"co2": 1001}, nil), nil, nil, []string{"co2_high"}},
		{"co2 1500 still normal", zone("main", 2, map[string]float64{"co2": 1500}, nil), nil, nil, []string{"co2_high"}},
		{"co2 1600 critical", zone("main", 0, map[string]float64{"co2": 1600}, nil), nil, []string{"co2_critical"}, nil},
		{"temp 26.5 normal", zone("main", 1, map[string]float64{"temperature": 26.5}, nil), nil, nil, []string{"temp_high"}},
		{"temp 36 critical", zone("main", 1, map[string]float64{"temperature": 36}, nil), nil, []string{"temp_critical_high"}, nil},
		{"temp 9 critical", zone("main", 1, map[string]float64{"temperature": 9}, nil), nil, []string{"temp_critical_low"}, nil},
		{"temp 17 normal", zone("main", 1, map[string]float64{"temperature": 17}, nil), nil, nil, []string{"temp_low"}},
		{"humidity 61 and 29", zone("main", 1, map[string]float64{"humidity": 61}, nil), nil, nil, []string{"humidity_high"}},
		{"water leak", zone("kitchen", 0, nil, map[string]float64{"water_leak": 1}), nil, []string{"water_leak"}, nil},
		{"recent fall", zone("main", 1, nil, nil), []worldmodel.Event{{Zone: "main", Type: worldmodel.EventFall, At: t0.Add(-30 * time.Second)}}, []string{"fall"}, nil},
		{"old fall", zone("main", 1, nil, nil), []worldmodel.Event{{Zone: "main", Type: worldmodel.EventFall, At: t0.Add(-61 * time.Second)}}, nil, nil},
		{"fall in another zone", zone("main", 1, nil, nil), []worldmodel.Event{{Zone: "kitchen", Type: worldmodel.EventFall, At: t0}}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New(clock.NewManual(t0), DefaultThresholds)
			var crit, norm []string
			for _, a := range e.Critical([]worldmodel.Snapshot{tc.z}, tc.events) {
				crit = append(crit, a.Rule)
				if a.Zone != tc.z.ID || a.Args["title"] == "" {
					t.Errorf("action %+v", a)
				}
			}
			for _, a := range e.Normal([]worldmodel.Snapshot{tc.z}) {
				norm = append(norm, a.Rule)
			}
			if !slices.Equal(crit, tc.critical) || !slices.Equal(norm, tc.normal) {
				t.Fatalf("critical %v normal %v, want %v %v", crit, norm, tc.critical, tc.normal)
			}
		})
	}
}

func TestRuleCooldown(t *testing.T) {
	c := clock.NewManual(t0)
	e := New(c, DefaultThresholds)
	z := []worldmodel.Snapshot{zone("main", 0, map[string]float64{"co2": 1600}, nil)}
	if n := len(e.Critical(z, nil)); n != 1 {
		t.Fatalf("first evaluation fired %d", n)
	}
	c.Advance(299 * time.Second)
	if n := len(e.Critical(z, nil)); n != 0 {
		t.Fatalf("fired again within 300 s")
	}
	c.Advance(time.Second)
	if a := e.Critical(z, nil); len(a) != 1 || a[0].Args["urgency"] != 3.0 {
		t.Fatalf("after 300 s: %+v", a)
	}
}

func TestMode(t *testing.T) {
	c := clock.NewManual(t0)
	m := NewMode(c)
	empty := []worldmodel.Snapshot{zone("main", 0, nil, nil), zone("kitchen", 0, nil, nil)}
	if in, _ := m.Evaluate(empty); in {
		t.Fatal("inactive immediately")
	}
	c.Advance(299 * time.Second)
	if in, _ := m.Evaluate(empty); in {
		t.Fatal("inactive before 300 s")
	}
	c.Advance(time.Second)
	if in, changed := m.Evaluate(empty); !in || !changed {
		t.Fatal("not inactive after 300 s empty")
	}
	if !m.Escalate() || m.Escalate() {
		t.Fatal("escalation budget wrong")
	}
	c.Advance(EscalationSpacing)
	if !m.Escalate() {
		t.Fatal("escalation not allowed after 30 min")
	}
	occupied := []worldmodel.Snapshot{zone("main", 1, nil, nil)}
	if in, changed := m.Evaluate(occupied); in || !changed {
		t.Fatal("people did not restore normal mode")
	}
}
