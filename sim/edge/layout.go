package edge

// DeviceKind is what a virtual device is and therefore what it publishes and
// which MCP tools it answers.
type DeviceKind string

// Virtual device kinds.
const (
	// KindEnv is an environment node: temperature, humidity, CO2, illuminance.
	KindEnv DeviceKind = "env_sensor"
	// KindPresence is a presence (PIR/mmWave) sensor.
	KindPresence DeviceKind = "presence_sensor"
	// KindWindow is a motorised window actuator.
	KindWindow DeviceKind = "window_actuator"
	// KindLight is a light switch actuator.
	KindLight DeviceKind = "light_actuator"
	// KindHVAC is an air conditioner accepting set_temperature.
	KindHVAC DeviceKind = "hvac"
)

// DeviceSpec places a device in a zone.
type DeviceSpec struct {
	ID   string     `json:"id"`
	Zone string     `json:"zone"`
	Kind DeviceKind `json:"kind"`
}

// Layout is the office the edge simulates: its rooms and devices.
type Layout struct {
	Zones   []Zone       `json:"zones"`
	Devices []DeviceSpec `json:"devices"`
}

// DefaultLayout is a small office: an open-plan area, a meeting room and a
// kitchen, each with an environment node; presence sensors; the actuators the
// brain's sanitizer allows (window_01, light_01) plus an air conditioner.
func DefaultLayout() Layout {
	return Layout{
		Zones: []Zone{
			{ID: "main", Name: "オープンオフィス", VolumeM3: 300, People: 4, CO2: 650, Temperature: 23.5, Humidity: 45, LightsOn: true},
			{ID: "meeting_room", Name: "会議室", VolumeM3: 60, People: 0, CO2: 600, Temperature: 23.0, Humidity: 45, LightsOn: true},
			{ID: "kitchen", Name: "キッチン", VolumeM3: 40, People: 0, CO2: 500, Temperature: 22.5, Humidity: 50, LightsOn: true},
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
		},
	}
}
