package edge

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/sim/scene"
)

// recorder captures publications instead of sending them to a broker.
type recorder struct {
	mu   sync.Mutex
	msgs []message
}

func (r *recorder) PublishJSON(_ context.Context, t string, _ byte, _ bool, v any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, message{topic: t, payload: v})
	return nil
}

func newManualOffice(t *testing.T, layout Layout) (*office, *clock.Sim) {
	t.Helper()
	c := clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("JST", 9*3600)))
	cfg := Config{Seed: 1, PhysicsStep: 10 * time.Second, ReportInterval: 30 * time.Second, HeartbeatInterval: time.Minute, SwarmTick: 2 * time.Second}
	o, err := newOffice(cfg, layout, c, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return o, c
}

func TestSwarmLeavesReportOnTheirIntervals(t *testing.T) {
	o, c := newManualOffice(t, DefaultLayout())
	count := map[string]int{}
	for range 30 { // 60 s of radio ticks
		for _, m := range o.tickSwarm() {
			count[m.topic]++
		}
		c.Advance(2 * time.Second)
	}
	tests := []struct {
		topic    string
		min, max int
	}{
		{"office/main/sensor/swarm_hub_01.leaf_env_01/temperature", 6, 6},
		{"office/main/sensor/swarm_hub_01.leaf_env_01/humidity", 6, 6},
		{"office/main/sensor/swarm_hub_01.leaf_pir_01/motion", 10, 12},
		{"office/main/sensor/swarm_hub_01.leaf_pir_01/illuminance", 10, 12},
		{"office/main/sensor/swarm_hub_01.leaf_door_01/door", 4, 4},
	}
	for _, tc := range tests {
		if n := count[tc.topic]; n < tc.min || n > tc.max {
			t.Errorf("%s: %d reports in 60 s, want %d..%d (all: %v)", tc.topic, n, tc.min, tc.max, count)
		}
	}
}

func TestHubHeartbeatListsChildrenWithPowerModes(t *testing.T) {
	o, c := newManualOffice(t, DefaultLayout())
	o.tickSwarm()
	c.Advance(2 * time.Second)
	hb := o.hubs["swarm_hub_01"].heartbeat(c.Now(), o.faults)
	b, _ := json.Marshal(hb)
	var got struct {
		DeviceID  string `json:"device_id"`
		LeafCount int    `json:"leaf_count"`
		Children  []struct {
			DeviceID    string `json:"device_id"`
			PowerMode   string `json:"power_mode"`
			NextWakeSec int    `json:"next_wake_sec"`
		} `json:"children"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.DeviceID != "swarm_hub_01" || got.LeafCount != 3 || len(got.Children) != 3 {
		t.Fatalf("heartbeat %s", b)
	}
	door := got.Children[2]
	if door.DeviceID != "leaf_door_01" || door.PowerMode != PowerDeepSleep || door.NextWakeSec <= 0 {
		t.Fatalf("door leaf child %+v", door)
	}
}

func TestSleepingLeafCommandIsQueuedUntilWake(t *testing.T) {
	o, c := newManualOffice(t, DefaultLayout())
	o.tickSwarm() // every leaf reports once; the door leaf goes back to sleep
	c.Advance(2 * time.Second)
	call := func(agent, tool string, args map[string]any) map[string]any {
		o.mu.Lock()
		dev, ok := o.agentLocked(agent)
		o.mu.Unlock()
		if !ok {
			t.Fatalf("agent %s not hosted", agent)
		}
		r := o.callAgent(agent, dev, mcp.NewRequest("q1", tool, args))
		if r.Error != "" {
			t.Fatalf("%s %s: %s", agent, tool, r.Error)
		}
		var out map[string]any
		_ = json.Unmarshal(r.Result, &out)
		return out
	}
	res := call("swarm_hub_01", "leaf_command", map[string]any{"leaf_id": "leaf_door_01", "command": "set_interval", "args": map[string]any{"seconds": 60.0}})
	if res["status"] != "queued" || res["target"] != "swarm_hub_01.leaf_door_01" || res["estimated_delivery_sec"].(float64) <= 0 {
		t.Fatalf("sleeping leaf command: %v", res)
	}
	// Direct call on the child agent id is answered by the hub, also queued.
	if res := call("swarm_hub_01.leaf_door_01", "read_now", nil); res["status"] != "queued" {
		t.Fatalf("direct child call: %v", res)
	}
	if res := call("swarm_hub_01", "leaf_command", map[string]any{"leaf_id": "2", "command": "set_state", "args": map[string]any{"state": "on"}}); res["status"] != "sent" {
		t.Fatalf("awake leaf by numeric id: %v", res)
	}
	if res := call("swarm_hub_01", "leaf_command", map[string]any{"leaf_id": "leaf_x", "command": "reset"}); !strings.Contains(res["error"].(string), "Unknown leaf") {
		t.Fatalf("unknown leaf: %v", res)
	}
	l := o.hubs["swarm_hub_01"].leaf("leaf_door_01")
	for i := 0; i < 8 && len(l.queue) > 0; i++ {
		o.tickSwarm()
		c.Advance(2 * time.Second)
	}
	if len(l.queue) != 0 || l.interval != time.Minute || l.delivered != 2 {
		t.Fatalf("after wake: queue %v interval %v delivered %d", l.queue, l.interval, l.delivered)
	}
	st := call("swarm_hub_01", "get_swarm_status", nil)
	if st["leaf_count"].(float64) != 3 {
		t.Fatalf("swarm status %v", st)
	}
}

func TestSceneDrivesOccupancyAndIsPublished(t *testing.T) {
	o, _ := newManualOffice(t, DefaultLayout())
	r := chi.NewRouter()
	o.routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	do := func(method, path, body string, want int) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		return b
	}
	do("PATCH", "/zones/meeting_room", `{"people":3}`, 200)
	var sc scene.Zone
	_ = json.Unmarshal(do("GET", "/zones/meeting_room/scene", "", 200), &sc)
	if len(sc.People) != 3 || sc.People[0].Posture != scene.Sitting {
		t.Fatalf("scene after people=3: %+v", sc)
	}
	var p scene.Person
	_ = json.Unmarshal(do("POST", "/zones/meeting_room/people", `{"id":"alice","posture":"standing","x":0.5,"y":0.5}`, 201), &p)
	do("PATCH", "/zones/meeting_room/people/alice", `{"posture":"fallen"}`, 200)
	do("PATCH", "/zones/meeting_room/people/alice", `{"posture":"flying"}`, 422)
	do("POST", "/zones/meeting_room/people", `{"id":"alice"}`, 422) // duplicate id
	if z := o.zones["meeting_room"]; z.People != 4 {
		t.Fatalf("people = %d, want 4", z.People)
	}
	do("DELETE", "/zones/meeting_room/people/"+sc.People[0].ID, "", 204)
	do("DELETE", "/zones/meeting_room/people/nobody", "", 404)
	do("PUT", "/zones/kitchen/scene", `{"people":[{"id":"k1","x":0.2,"y":0.3,"posture":"walking","motion":0.8}]}`, 200)
	do("PUT", "/zones/kitchen/scene", `{"people":[{"id":"k1","x":2,"y":0.3,"posture":"walking"}]}`, 422)
	if o.zones["kitchen"].People != 1 || o.zones["meeting_room"].People != 3 {
		t.Fatalf("counts kitchen %d meeting %d", o.zones["kitchen"].People, o.zones["meeting_room"].People)
	}
	// Every change was queued for publication, in order with rising Seq.
	rec := &recorder{}
	o.scenes = rec
	o.drainScenes(context.Background())
	var last scene.Zone
	var seq uint64
	for _, m := range rec.msgs {
		z := m.payload.(scene.Zone)
		if z.Seq <= seq {
			t.Fatalf("scene seq not increasing: %d after %d", z.Seq, seq)
		}
		seq = z.Seq
		if m.topic == scene.Topic("meeting_room") {
			last = z
		}
	}
	if len(last.People) != 3 || last.People[2].Posture != scene.Fallen || last.People[2].Motion != 0 {
		t.Fatalf("last published meeting scene %+v", last)
	}
}

func TestFaults(t *testing.T) {
	o, c := newManualOffice(t, DefaultLayout())
	set := func(id string, f Fault) {
		f.Since = c.Now()
		o.faults[id] = &f
	}
	value := func(topic string) (float64, bool) {
		for _, m := range o.readings("") {
			if m.topic == topic {
				v, _ := jsonnum.Float(m.payload.(map[string]any)["value"], jsonnum.Numbers)
				return v, true
			}
		}
		return 0, false
	}
	base, _ := value("office/main/sensor/env_01/temperature")
	set("env_01", Fault{Tamper: map[string]float64{"temperature": 8}})
	if v, _ := value("office/main/sensor/env_01/temperature"); v < base+7 {
		t.Fatalf("tampered %.2f, untampered %.2f", v, base)
	}
	set("env_01", Fault{DriftPerHour: map[string]float64{"co2": 100}})
	c.Advance(2 * time.Hour)
	truth := o.zones["main"].CO2
	if v, _ := value("office/main/sensor/env_01/co2"); v < truth+180 {
		t.Fatalf("drifted co2 %.0f, truth %.0f", v, truth)
	}
	set("env_01", Fault{Offline: true})
	if _, ok := value("office/main/sensor/env_01/co2"); ok {
		t.Fatal("offline device published")
	}
	set("env_01", Fault{Dropout: 1})
	if _, ok := value("office/main/sensor/env_01/co2"); ok {
		t.Fatal("dropout 1 published")
	}
	set("env_01", Fault{Override: map[string]float64{"co2": 2500}})
	if v, _ := value("office/main/sensor/env_01/co2"); v != 2500 {
		t.Fatalf("override %v", v)
	}
	if bad := (Fault{Dropout: 2, Tamper: map[string]float64{"smell": 1}}).validate(); len(bad) != 2 {
		t.Fatalf("validate: %v", bad)
	}
}

func TestWeatherAndDaylight(t *testing.T) {
	out := DefaultOutside()
	day := func(h int) time.Time { return time.Date(2026, 11, 23, h, 0, 0, 0, time.UTC) }
	if n, a := out.at(day(5)).OutsideC, out.at(day(14)).OutsideC; a-n < 5 {
		t.Fatalf("05:00 %.1f °C vs 14:00 %.1f °C: no daily cycle", n, a)
	}
	if d := out.at(day(2)).Daylight; d != 0 {
		t.Fatalf("daylight at night %v", d)
	}
	if d := out.at(day(12)).Daylight; d < 0.5 {
		t.Fatalf("daylight at noon %v", d)
	}
	z := Zone{VolumeM3: 60, Temperature: 23, Humidity: 45, WindowOpen: true, DaylightLux: 200}
	rng := newRNG()
	for range 360 {
		z.step(10*time.Second, weather{OutsideC: 5, OutsideHumidity: 80, Daylight: 1}, rng)
	}
	if z.Temperature > 15 || z.Humidity < 60 || z.Illuminance < 200 {
		t.Fatalf("after an hour with the window open on a cold day: %+v", z)
	}
}

func TestRamp(t *testing.T) {
	o, c := newManualOffice(t, DefaultLayout())
	o.ramps = append(o.ramps, ramp{Zone: "main", Channel: "temperature", From: 23, To: 31, Start: c.Now(), Over: Duration(20 * time.Minute)})
	c.Advance(10 * time.Minute)
	o.step(10 * time.Second)
	if v := o.zones["main"].Temperature; v < 26.8 || v > 27.2 {
		t.Fatalf("half-way temperature %.2f", v)
	}
	c.Advance(11 * time.Minute)
	o.step(10 * time.Second)
	if v := o.zones["main"].Temperature; v != 31 || len(o.ramps) != 0 {
		t.Fatalf("after ramp %.2f, ramps %d", v, len(o.ramps))
	}
}

func TestOriginalLayoutNodes(t *testing.T) {
	o, c := newManualOffice(t, OriginalLayout())
	c.Advance(time.Minute)
	tp := map[string]any{}
	for _, m := range o.readings("") {
		tp[m.topic] = m.payload
	}
	for _, want := range []string{"office/main/sensor/sensor_01/temperature", "office/kitchen/sensor/shelf_01/weight", "hydro/lettuce_raft/status", "aqua/main_tank/status", "office/kitchen/sensor/bulk_01/status"} {
		if _, ok := tp[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	if _, ok := tp["office/main/sensor/sensor_01/co2"]; ok {
		t.Error("sensor_01 publishes co2; the original has temperature and humidity only")
	}
	bulk := tp["office/kitchen/sensor/bulk_01/status"].(map[string]any)
	if _, ok := bulk["co2"]; !ok {
		t.Errorf("bulk payload %v", bulk)
	}
}
