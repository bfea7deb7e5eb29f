package topic

import "testing"

func TestParseOffice(t *testing.T) {
	tests := []struct {
		topic string
		ok    bool
		want  Office
	}{
		{"office/main/sensor/env_01/temperature", true, Office{Zone: "main", Kind: KindSensor, DeviceID: "env_01", Channel: "temperature", ZoneScoped: true}},
		{"office/main/sensor/swarm_hub_01.leaf_env_01/humidity", true, Office{Zone: "main", Kind: KindSensor, DeviceID: "swarm_hub_01.leaf_env_01", Channel: "humidity", ZoneScoped: true}},
		{"office/meeting_room/occupancy", true, Office{Zone: "meeting_room", Kind: KindOccupancy, ZoneScoped: true}},
		{"office/kitchen/safety/fall", true, Office{Zone: "kitchen", Kind: KindSafety, DeviceID: "fall", ZoneScoped: true}},
		{"office/tracking/persons", true, Office{Zone: "tracking", Kind: "persons", ZoneScoped: false}},
		{"office/perception/discovery", true, Office{Zone: "perception", Kind: "discovery", ZoneScoped: false}},
		{"office/main/sensor/a/b/extra", true, Office{Zone: "main", Kind: KindSensor, DeviceID: "a", Channel: "b", ZoneScoped: true}},
		{"office/main/sensor/a/b/", true, Office{Zone: "main", Kind: KindSensor, DeviceID: "a", Channel: "b", ZoneScoped: true}},
		{"office/main", false, Office{}},
		{"office/main/", false, Office{}},
		{"office/main/sensor/", false, Office{}},
		{"office/main/sensor/a/", false, Office{}},
		{"office/", false, Office{}},
		{"office", false, Office{}},
		{"offices/main/sensor", false, Office{}},
		{"office//sensor/x/y", false, Office{}},
		{"hydro/lettuce_raft/status", false, Office{}},
		{"office/main/sensor/env\x00/co2", false, Office{}},
		{"office/main/sensor/env\xff/co2", false, Office{}},
	}
	for _, tc := range tests {
		t.Run(tc.topic, func(t *testing.T) {
			got, ok := ParseOffice(tc.topic)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("ParseOffice(%q) = %+v, %v; want %+v, %v", tc.topic, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseOfficeAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { ParseOffice("office/main/sensor/env_01/co2") }); n != 0 {
		t.Fatalf("%v allocations per parse", n)
	}
}

func TestBuildersRoundTrip(t *testing.T) {
	o, ok := ParseOffice(Sensor("z", "d", "co2"))
	if !ok || o.Zone != "z" || o.DeviceID != "d" || o.Channel != "co2" {
		t.Fatalf("sensor topic does not parse back: %+v", o)
	}
	if h, _ := ParseOffice(Heartbeat("z", "d")); !h.IsHeartbeat() {
		t.Fatal("heartbeat topic not recognised")
	}
	m, ok := ParseMCP(MCPResponse("swarm_hub_01", "abc-1"))
	if !ok || m.Agent != "swarm_hub_01" || m.Dir != "response" || m.Rest != "abc-1" {
		t.Fatalf("mcp response = %+v", m)
	}
	if _, ok := ParseMCP("mcp/x/publish/y"); ok {
		t.Fatal("unknown mcp direction accepted")
	}
}

func TestUnknown(t *testing.T) {
	for topic, want := range map[string]string{
		"office/main/sensor/env_01/co2": "",
		"office/tracking/persons":       "",
		"office/shopping/added":         "",
		"office/perception/discovery":   "",
		"office/x":                      "",
		"office/kitchen/scale/scale_01": "office",
		"mcp/shelf_01/response/1":       "",
		"soms/sim/clock":                "",
		"hydro/lettuce_raft/status":     "hydro",
		"aqua/main_tank/status":         "aqua",
		"zigbee2mqtt/bridge/state":      "other",
		"homeassistant/sensor/x/config": "other",
	} {
		if got := Unknown(topic); got != want {
			t.Errorf("Unknown(%q) = %q, want %q", topic, got, want)
		}
	}
}
