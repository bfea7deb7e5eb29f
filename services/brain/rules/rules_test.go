package rules

import (
	"maps"
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

// TestFallLookBack: the fall rule looks back to its previous evaluation when
// that is older than a minute, so a fall during a long cycle (a hung LLM) is
// still acted on; and it sees a fall however many events followed it.
func TestFallLookBack(t *testing.T) {
	z := []worldmodel.Snapshot{zone("main", 1, nil, nil)}
	fall := func(at time.Time) worldmodel.Event {
		return worldmodel.Event{Zone: "main", Type: worldmodel.EventFall, At: at}
	}
	tests := []struct {
		name string
		// gap between the previous evaluation and this one; the fall happened
		// fallAfter into it.
		gap, fallAfter time.Duration
		noise          int // events in the zone after the fall
		want           bool
	}{
		{"fall in the last minute", 30 * time.Second, 10 * time.Second, 0, true},
		{"fall 61 s ago, evaluated a minute ago", 61 * time.Second, 0, 0, false},
		{"fall 3 min ago, during a 5 min cycle", 5 * time.Minute, 2 * time.Minute, 0, true},
		{"fall just after the previous evaluation of a 2 min cycle", 2 * time.Minute, time.Second, 0, true},
		{"fall before the previous evaluation", 2 * time.Minute, -time.Second, 0, false},
		{"fall followed by 30 other events", 30 * time.Second, 5 * time.Second, 30, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewManual(t0)
			e := New(c, DefaultThresholds)
			e.Critical(z, nil) // the previous evaluation
			prev := c.Now()
			c.Advance(tc.gap)
			evs := []worldmodel.Event{fall(prev.Add(tc.fallAfter))}
			for i := range tc.noise {
				evs = append(evs, worldmodel.Event{Zone: "main", Type: worldmodel.EventPersonEntered, At: prev.Add(tc.fallAfter + time.Duration(i+1)*time.Millisecond)})
			}
			if want := earlier(prev, c.Now().Add(-fallWindow)); !e.Since().Equal(want) {
				t.Fatalf("Since = %v, want %v", e.Since(), want)
			}
			got := e.Critical(z, evs)
			if fired := len(got) == 1 && got[0].Rule == "fall" && got[0].Kind == KindFall; fired != tc.want {
				t.Fatalf("fired = %v (%+v), want %v", fired, got, tc.want)
			}
		})
	}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func TestActionKinds(t *testing.T) {
	e := New(clock.NewManual(t0), DefaultThresholds)
	z := []worldmodel.Snapshot{
		zone("a", 1, map[string]float64{"co2": 1600, "temperature": 36}, map[string]float64{"water_leak": 1}),
		zone("b", 1, map[string]float64{"co2": 1200, "temperature": 9, "humidity": 20}, nil),
	}
	got := map[string]string{}
	for _, a := range append(e.Critical(z, nil), e.Normal(z)...) {
		got[a.Zone+"/"+a.Rule] = a.Kind
	}
	want := map[string]string{
		"a/co2_critical": worldmodel.AlertHighCO2, "a/temp_critical_high": worldmodel.AlertHighTemp, "a/water_leak": KindWaterLeak,
		"b/temp_critical_low": worldmodel.AlertLowTemp, "b/co2_high": worldmodel.AlertHighCO2, "b/humidity_low": worldmodel.AlertLowHumidity,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
}
