package edge

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/sim/scene"
)

// DeviceKind is what a virtual device is and therefore what it publishes and
// which MCP tools it answers.
type DeviceKind string

// Virtual device kinds.
const (
	// KindEnv is an environment node: temperature, humidity, CO2, illuminance
	// (or the subset in DeviceSpec.Channels).
	KindEnv DeviceKind = "env_sensor"
	// KindPresence is a presence (PIR/mmWave) sensor.
	KindPresence DeviceKind = "presence_sensor"
	// KindWindow is a motorised window actuator.
	KindWindow DeviceKind = "window_actuator"
	// KindLight is a light switch actuator.
	KindLight DeviceKind = "light_actuator"
	// KindHVAC is an air conditioner accepting set_temperature.
	KindHVAC DeviceKind = "hvac"
	// KindSwarmHub is a SensorSwarm hub forwarding its leaves' readings
	// (office/{zone}/sensor/{hub}.{leaf}/{channel}) and queueing commands for
	// sleeping leaves.
	KindSwarmHub DeviceKind = "swarm_hub"
	// KindShelf is the original's HX711 weight shelf (coffee beans).
	KindShelf DeviceKind = "weight_shelf"
	// KindHydro is the original's hydroponics demo node (hydro/{name}/status).
	KindHydro DeviceKind = "hydroponics"
	// KindAqua is the original's aquarium demo node (aqua/{name}/status).
	KindAqua DeviceKind = "aquarium"
)

// DeviceSpec places a device in a zone.
type DeviceSpec struct {
	ID   string     `json:"id"`
	Zone string     `json:"zone"`
	Kind DeviceKind `json:"kind"`
	// Channels limits an env node to these channels (default: all four).
	Channels []string `json:"channels,omitempty"`
	// Bulk makes an env node publish one office/{zone}/sensor/{id}/status
	// message with every channel instead of one message per channel.
	Bulk bool `json:"bulk,omitempty"`
	// Prefix is the topic prefix of the non-office demo nodes (hydro, aqua).
	Prefix string `json:"prefix,omitempty"`
	// Leaves of a swarm hub; empty means the original three.
	Leaves []LeafSpec `json:"leaves,omitempty"`
	// Shelf is how a weight shelf starts and is used; nil is the original's
	// (OriginalShelf).
	Shelf *ShelfSpec `json:"shelf,omitempty"`
}

// Leaf kinds of a swarm hub.
const (
	LeafEnv  = "env"  // temperature, humidity
	LeafPIR  = "pir"  // motion, illuminance
	LeafDoor = "door" // door contact
)

// Power modes, as heartbeats report them.
const (
	PowerAlwaysOn   = "ALWAYS_ON"
	PowerLightSleep = "LIGHT_SLEEP"
	PowerDeepSleep  = "DEEP_SLEEP"
)

// LeafSpec is one leaf of a swarm hub.
type LeafSpec struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// HW is esp32, nrf54, attiny or pico.
	HW string `json:"hw"`
	// Interval between sensor reports (simulated time).
	Interval Duration `json:"interval"`
	// PowerMode is ALWAYS_ON, LIGHT_SLEEP or DEEP_SLEEP. A DEEP_SLEEP leaf is
	// awake only when it reports; commands for it wait in the hub's queue.
	PowerMode string `json:"power_mode"`
}

// Duration is a time.Duration written as "10s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON reads "10s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		v, err := time.ParseDuration(s[1 : len(s)-1])
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	secs, ok := jsonnum.Float(json.RawMessage(b), jsonnum.Numbers)
	if !ok {
		return fmt.Errorf("duration %s: want \"10s\" or a number of seconds", s)
	}
	*d = Duration(time.Duration(secs * float64(time.Second)))
	return nil
}

// DefaultLeaves are the original virtual SwarmHub's three leaves.
func DefaultLeaves() []LeafSpec {
	return []LeafSpec{
		{ID: 1, Name: "leaf_env_01", Kind: LeafEnv, HW: "esp32", Interval: Duration(10 * time.Second), PowerMode: PowerAlwaysOn},
		{ID: 2, Name: "leaf_pir_01", Kind: LeafPIR, HW: "attiny", Interval: Duration(5 * time.Second), PowerMode: PowerLightSleep},
		{ID: 3, Name: "leaf_door_01", Kind: LeafDoor, HW: "attiny", Interval: Duration(15 * time.Second), PowerMode: PowerDeepSleep},
	}
}

// Outside is the weather outside the office: a daily temperature cycle
// (coldest at 05:00, warmest at 14:00) and cloud cover dimming daylight.
type Outside struct {
	MeanC      float64 `json:"mean_c"`
	AmplitudeC float64 `json:"amplitude_c"`
	// Cloud cover 0 (clear) to 1 (overcast: a fifth of clear-sky daylight).
	Cloud float64 `json:"cloud"`
	// Humidity outside, % (open windows pull the room towards it).
	Humidity float64 `json:"humidity"`
	// Sunrise and sunset hours, local simulated time.
	SunriseH float64 `json:"sunrise_h"`
	SunsetH  float64 `json:"sunset_h"`
	// OverrideC pins the outside temperature (nil: daily cycle).
	OverrideC *float64 `json:"override_c,omitempty"`
}

// DefaultOutside is a mild late-autumn day in Tokyo.
func DefaultOutside() Outside {
	return Outside{MeanC: 13, AmplitudeC: 5, Cloud: 0.3, Humidity: 55, SunriseH: 6.3, SunsetH: 16.6}
}

// Layout is the office the edge simulates: its rooms and devices.
type Layout struct {
	Zones   []Zone       `json:"zones"`
	Devices []DeviceSpec `json:"devices"`
	// Outside weather; zero means DefaultOutside.
	Outside *Outside `json:"outside,omitempty"`
}

// DefaultLayout is a small office: an open-plan area, a meeting room and a
// kitchen, each with an environment node; presence sensors; the actuators the
// brain's sanitizer allows (window_01, light_01) plus an air conditioner; and
// the original's SensorSwarm hub with its three leaves in the open-plan area.
func DefaultLayout() Layout {
	return Layout{
		Zones: []Zone{
			{ID: "main", Name: "オープンオフィス", VolumeM3: 300, People: 4, CO2: 650, Temperature: 23.5, Humidity: 45, LightsOn: true, DaylightLux: 250,
				Furniture: []scene.Item{{Kind: "desk", X: 0.1, Y: 0.3, W: 0.3, H: 0.15}, {Kind: "desk", X: 0.55, Y: 0.3, W: 0.3, H: 0.15}, {Kind: "desk", X: 0.1, Y: 0.65, W: 0.3, H: 0.15}, {Kind: "desk", X: 0.55, Y: 0.65, W: 0.3, H: 0.15}, {Kind: "door", X: 0.9, Y: 0.05, W: 0.08, H: 0.2}}},
			{ID: "meeting_room", Name: "会議室", VolumeM3: 60, People: 0, CO2: 600, Temperature: 23.0, Humidity: 45, LightsOn: true, DaylightLux: 150,
				Furniture: []scene.Item{{Kind: "table", X: 0.25, Y: 0.35, W: 0.5, H: 0.3}, {Kind: "whiteboard", X: 0.3, Y: 0.02, W: 0.4, H: 0.08}, {Kind: "door", X: 0.02, Y: 0.7, W: 0.08, H: 0.2}}},
			{ID: "kitchen", Name: "キッチン", VolumeM3: 40, People: 0, CO2: 500, Temperature: 22.5, Humidity: 50, LightsOn: true, DaylightLux: 100,
				Furniture: []scene.Item{{Kind: "counter", X: 0.1, Y: 0.1, W: 0.8, H: 0.15}, {Kind: "table", X: 0.35, Y: 0.55, W: 0.3, H: 0.2}}},
		},
		Devices: []DeviceSpec{
			{ID: "env_01", Zone: "main", Kind: KindEnv},
			{ID: "env_02", Zone: "meeting_room", Kind: KindEnv},
			{ID: "env_03", Zone: "kitchen", Kind: KindEnv},
			{ID: "pir_01", Zone: "main", Kind: KindPresence},
			{ID: "pir_02", Zone: "meeting_room", Kind: KindPresence},
			{ID: "pir_03", Zone: "kitchen", Kind: KindPresence},
			{ID: "window_01", Zone: "meeting_room", Kind: KindWindow},
			{ID: "light_01", Zone: "main", Kind: KindLight},
			{ID: "hvac_01", Zone: "main", Kind: KindHVAC},
			{ID: "swarm_hub_01", Zone: "main", Kind: KindSwarmHub},
			// The kitchen's coffee beans: three 200 g bags on a 50 g tray,
			// used by the people in the kitchen; restocked by a person.
			{ID: "shelf_01", Zone: "kitchen", Kind: KindShelf, Shelf: &ShelfSpec{StartG: 650, TareG: 50, PerPersonGPerH: 30}},
		},
	}
}

// OriginalLayout is DefaultLayout plus the original virtual edge's standalone
// nodes: sensor_01 (main, temperature and humidity only), hydro_01 and
// aqua_01 (non-office demo topics), and a bulk /status node in the kitchen;
// its shelf_01 is the original's (consumed at 2.5 g/s, refilled by itself).
func OriginalLayout() Layout {
	l := DefaultLayout()
	for i, d := range l.Devices {
		if d.ID == "shelf_01" {
			l.Devices[i].Shelf = nil
		}
	}
	l.Devices = append(l.Devices,
		DeviceSpec{ID: "sensor_01", Zone: "main", Kind: KindEnv, Channels: []string{"temperature", "humidity"}},
		DeviceSpec{ID: "bulk_01", Zone: "kitchen", Kind: KindEnv, Bulk: true},
		DeviceSpec{ID: "hydro_01", Zone: "kitchen", Kind: KindHydro, Prefix: "hydro/lettuce_raft"},
		DeviceSpec{ID: "aqua_01", Zone: "kitchen", Kind: KindAqua, Prefix: "aqua/main_tank"},
	)
	return l
}
