package edge

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mcp"
)

func simulate(z Zone, d time.Duration) Zone {
	rng := rand.New(rand.NewPCG(1, 2))
	for t := time.Duration(0); t < d; t += 10 * time.Second {
		z.step(10*time.Second, weather{OutsideC: 15, OutsideHumidity: 50}, rng)
	}
	return z
}

func TestCO2Physics(t *testing.T) {
	tests := []struct {
		name     string
		zone     Zone
		after    time.Duration
		min, max float64
	}{
		// 6 people in 60 m³: 0.52 ppm/s minus leakage ≈ +29 ppm/min from 900.
		{"crowded meeting room rises", Zone{VolumeM3: 60, People: 6, CO2: 900}, 10 * time.Minute, 1150, 1250},
		{"empty room decays slowly", Zone{VolumeM3: 60, CO2: 1400}, time.Hour, 1000, 1100},
		{"open window airs out", Zone{VolumeM3: 60, CO2: 1400, WindowOpen: true}, time.Hour, outdoorCO2, 450},
		{"never below outdoor air", Zone{VolumeM3: 60, CO2: 300, WindowOpen: true}, time.Minute, outdoorCO2, outdoorCO2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := simulate(tc.zone, tc.after).CO2
			if got < tc.min || got > tc.max {
				t.Fatalf("CO2 after %v = %.0f, want %.0f..%.0f", tc.after, got, tc.min, tc.max)
			}
		})
	}
}

func TestHVACPullsTemperature(t *testing.T) {
	sp := 22.0
	z := simulate(Zone{VolumeM3: 300, Temperature: 29, Humidity: 50, HVACSetpoint: &sp}, time.Hour)
	if math.Abs(z.Temperature-sp) > 0.5 {
		t.Fatalf("temperature %.2f after an hour of HVAC at %.0f", z.Temperature, sp)
	}
}

func newTestOffice(t *testing.T) *office {
	t.Helper()
	cfg := Config{Seed: 1, PhysicsStep: 10 * time.Second, ReportInterval: 30 * time.Second, HeartbeatInterval: time.Minute}
	o, err := newOffice(cfg, DefaultLayout(), clock.NewManual(time.Unix(0, 0)), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestReadingsUseOriginalTopics(t *testing.T) {
	o := newTestOffice(t)
	msgs := o.readings("meeting_room")
	topics := map[string]any{}
	for _, m := range msgs {
		topics[m.topic] = m.payload
	}
	for _, want := range []string{
		"office/meeting_room/sensor/env_02/co2",
		"office/meeting_room/sensor/env_02/temperature",
		"office/meeting_room/sensor/pir_02/presence",
	} {
		p, ok := topics[want].(map[string]any)
		if !ok {
			t.Fatalf("no %s in %v", want, topics)
		}
		if _, ok := p["value"]; !ok {
			t.Fatalf("%s payload %v lacks value", want, p)
		}
	}
	for tp := range topics {
		if !strings.HasPrefix(tp, "office/meeting_room/") {
			t.Fatalf("zone filter leaked %s", tp)
		}
	}
}

func TestActuatorTools(t *testing.T) {
	o := newTestOffice(t)
	call := func(agent, tool string, args map[string]any) mcp.Response {
		return o.call(o.devices[agent], mcp.NewRequest("id-1", tool, args))
	}
	if r := call("window_01", "open", nil); r.Error != "" || !o.zones["meeting_room"].WindowOpen {
		t.Fatalf("open window: %+v", r)
	}
	if r := call("hvac_01", "set_temperature", map[string]any{"temperature": 24.0}); r.Error != "" || *o.zones["main"].HVACSetpoint != 24 {
		t.Fatalf("set_temperature: %+v", r)
	}
	if r := call("hvac_01", "set_temperature", map[string]any{"temperature": "warm"}); r.Error == "" {
		t.Fatal("non-numeric temperature accepted")
	}
	if r := call("window_01", "self_destruct", nil); r.Error == "" || r.ID != "id-1" {
		t.Fatalf("unknown tool: %+v", r)
	}
	// Each device checks its tool schema, whoever asks: what the brain's
	// sanitizer would never send is refused here too, and changes nothing.
	for _, c := range []struct {
		agent, tool string
		args        map[string]any
		want        string
	}{
		{"hvac_01", "set_temperature", map[string]any{"temperature": -40.0}, "-40 is out of range 16..30"},
		{"hvac_01", "set_temperature", map[string]any{"temperature": 24.0, "override": true}, "unknown argument override"},
		{"hvac_01", "set_temperature", nil, "missing argument temperature"},
		{"window_01", "open", map[string]any{"force": true}, "unknown argument force"},
		{"swarm_hub_01", "leaf_command", map[string]any{"leaf_id": 1.0, "command": "format"}, `"format" is not one of`},
		{"swarm_hub_01", "leaf_command", map[string]any{"leaf_id": 1.0, "command": "set_pwm", "args": map[string]any{"duty": -1.0}}, "out of range"},
		{"shelf_01", "calibrate", map[string]any{"known_weight_g": 0.0}, "out of range"},
	} {
		if r := call(c.agent, c.tool, c.args); !strings.Contains(string(r.Error), c.want) {
			t.Errorf("%s %s %v: %+v, want an error with %q", c.agent, c.tool, c.args, r, c.want)
		}
	}
	if *o.zones["main"].HVACSetpoint != 24 {
		t.Fatalf("a refused call changed the set-point to %v", *o.zones["main"].HVACSetpoint)
	}
	if r := call("env_02", "get_status", nil); r.Error != "" || !bytes.Contains(r.Result, []byte("co2")) {
		t.Fatalf("get_status: %+v", r)
	}
}

func TestControlAPI(t *testing.T) {
	o := newTestOffice(t)
	r := chi.NewRouter()
	o.routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	tests := []struct {
		name, zone, body string
		status           int
	}{
		{"set people and co2", "meeting_room", `{"people":6,"co2":1400}`, 200},
		{"negative people", "meeting_room", `{"people":-1}`, 422},
		{"absurd co2", "meeting_room", `{"co2":99999}`, 422},
		{"unknown zone", "attic", `{"people":1}`, 404},
		{"not json", "main", `people=1`, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/zones/"+tc.zone, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	if z := o.zones["meeting_room"]; z.People != 6 || z.CO2 != 1400 {
		t.Fatalf("zone after patches: %+v", z)
	}
}

func TestLoadLayout(t *testing.T) {
	if _, err := LoadLayout("builtin:nope"); err == nil {
		t.Fatal("unknown built-in accepted")
	}
	l, err := LoadLayout("builtin:meeting")
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range l.Zones {
		if z.ID == "meeting_room" && z.People == 0 {
			t.Fatal("meeting layout has an empty meeting room")
		}
	}
	if _, err := newOffice(Config{}, Layout{Zones: []Zone{{ID: "a"}}, Devices: []DeviceSpec{{ID: "d", Zone: "b"}}}, clock.NewManual(time.Unix(0, 0)), logging.Discard()); err == nil {
		t.Fatal("device in an unknown zone accepted")
	}
}

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }
