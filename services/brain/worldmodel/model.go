// Package worldmodel is the brain's picture of the office: per-zone fused
// sensor values with trends, occupancy, and the events detected from them. It
// is fed MQTT messages (Ingest) and read by the cognitive loop, the tools and
// the HTTP API. All time comes from the injected clock.
package worldmodel

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// Comfort bands of the original system.
const (
	CO2Threshold    = 1000.0 // ppm; above is stuffy
	TempComfortLow  = 18.0   // °C
	TempComfortHigh = 26.0   // °C
	HumidityLow     = 30.0   // %
	HumidityHigh    = 60.0   // %
)

// analogChannels are fused numerically; anything else numeric is passed through.
var analogChannels = map[string]bool{
	"temperature": true, "humidity": true, "co2": true, "pressure": true, "illuminance": true,
	"gas_resistance": true, "soil_moisture": true, "soil_temperature": true,
}

// presenceHold is how long a presence/motion detection keeps a zone occupied
// without a fresh one. The original latched PIR forever, so a zone that once
// saw motion never read empty again.
const presenceHold = 5 * time.Minute

// Model is the world model. It is safe for concurrent use.
type Model struct {
	clock clock.Clock

	// ingested counts applied messages; atomic so that metrics and benchmarks
	// read it without taking mu.
	ingested atomic.Uint64

	mu        sync.Mutex
	zones     map[string]*zone
	names     map[string]string // display names from configuration
	events    []Event
	seq       uint64
	cooldowns map[cooldownKey]time.Time
	suppress  map[cooldownKey]time.Time // (zone, alert kind) → until
	changed   chan struct{}
	onEvent   func(Event)
	lastSweep time.Time              // of expired devices and zones (bounds.go)
	shelves   map[string]*shelfState // device + channel → shelf item (inventory.go)
}

// New returns an empty world model.
func New(c clock.Clock) *Model {
	return &Model{
		clock:     c,
		zones:     map[string]*zone{},
		names:     map[string]string{},
		cooldowns: map[cooldownKey]time.Time{},
		suppress:  map[cooldownKey]time.Time{},
		changed:   make(chan struct{}, 1),
	}
}

// OnEvent registers a function called (outside the model's lock is not
// guaranteed: keep it fast and non-blocking) for every recorded event; the
// decision log uses it to persist events.
func (m *Model) OnEvent(f func(Event)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onEvent = f
}

// Ingested is the number of messages Ingest has applied to the model (not
// counting drops and system topics).
func (m *Model) Ingested() uint64 { return m.ingested.Load() }

// SetZoneName sets a zone's display name (from spatial configuration).
func (m *Model) SetZoneName(id, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names[id] = name
	if z, ok := m.zones[id]; ok {
		z.name = name
	}
}

// zone is the mutable state of one zone.
type zone struct {
	id         string
	name       string
	channels   map[string]*channel
	extra      map[string]float64
	presence   map[string]presence // device → last presence state
	vision     int
	visionAt   time.Time
	people     int
	devices    map[string]time.Time // device id → last message
	lastUpdate time.Time

	activity  Activity
	doors     map[string]*Door
	lastDoor  *bool // zone-wide previous door value, as the original compared
	counters  []time.Time
	actuators map[string]Actuator
	spatial   map[string]Spatial
	prevTemp  *float64 // fused temperature at the previous detection pass
	lastVLM   string
	lastVLMAt time.Time
	lastEntry time.Time
	lastExit  time.Time
}

// Activity is the perception's activity summary for a zone.
type Activity struct {
	Level           float64   `json:"activity_level"`
	Class           string    `json:"activity_class"`
	PostureDuration float64   `json:"posture_duration_sec"`
	PostureStatus   string    `json:"posture_status"`
	At              time.Time `json:"updated_at"`
}

// Door is one door sensor's state.
type Door struct {
	Open    bool        `json:"open"`
	Since   time.Time   `json:"since"`
	changes []time.Time // state changes within the last hour
}

// Actuator is the last reported state of an actuator (hvac, light, ...).
type Actuator struct {
	Type     string         `json:"type"`
	Power    string         `json:"power_state"`
	Specific map[string]any `json:"specific_state,omitempty"`
	At       time.Time      `json:"updated_at"`
}

// Spatial is the latest camera detection summary.
type Spatial struct {
	Persons int       `json:"persons"`
	Objects []string  `json:"objects,omitempty"`
	At      time.Time `json:"updated_at"`
}

type presence struct {
	on bool
	at time.Time
}

func (m *Model) zoneLocked(id string) *zone {
	z, ok := m.zones[id]
	if !ok {
		z = &zone{
			id: id, name: m.names[id], channels: map[string]*channel{}, extra: map[string]float64{},
			presence: map[string]presence{}, devices: map[string]time.Time{},
			doors: map[string]*Door{}, actuators: map[string]Actuator{}, spatial: map[string]Spatial{},
			activity: Activity{Class: "unknown", PostureStatus: "unknown"},
		}
		m.zones[id] = z
	}
	return z
}

// occupancy is the fused person count: the camera count when one is fresh,
// else at least one person while a presence sensor saw someone recently.
func (z *zone) occupancy(now time.Time) int {
	n := 0
	if !z.visionAt.IsZero() && now.Sub(z.visionAt) <= Retention {
		n = z.vision
	}
	if n == 0 {
		for _, p := range z.presence {
			if p.on && now.Sub(p.at) <= presenceHold {
				return 1
			}
		}
	}
	return n
}

// Snapshot is a read-only copy of a zone's state.
type Snapshot struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name"`
	PersonCount int                     `json:"person_count"`
	Channels    map[string]ChannelValue `json:"channels"`
	Extra       map[string]float64      `json:"extra,omitempty"`
	Devices     []string                `json:"devices,omitempty"`
	LastUpdate  time.Time               `json:"last_update"`
	Activity    Activity                `json:"activity"`
	MotionCount int                     `json:"motion_count_5min"`
	Doors       map[string]Door         `json:"doors,omitempty"`
	Actuators   map[string]Actuator     `json:"actuators,omitempty"`
	Spatial     map[string]Spatial      `json:"spatial,omitempty"`
	LastEntry   time.Time               `json:"last_entry_time,omitzero"`
	LastExit    time.Time               `json:"last_exit_time,omitzero"`
	VLM         string                  `json:"vlm,omitempty"`
	// Suppressed lists alert kinds a task is already handling.
	Suppressed []string `json:"suppressed,omitempty"`
	// Stock lists the zone's weighed shelf items.
	Stock []Stock `json:"stock,omitempty"`
	// Now is when the snapshot was taken (for "n minutes ago" text).
	Now time.Time `json:"-"`
}

// ChannelValue is a fused reading.
type ChannelValue struct {
	Value     float64   `json:"value"`
	Trend     string    `json:"trend"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Value returns a channel's fused value if the zone has a fresh one.
func (s Snapshot) Value(ch string) (float64, bool) {
	v, ok := s.Channels[ch]
	return v.Value, ok
}

// DisplayName is the zone's name, or its id when it has none.
func (s Snapshot) DisplayName() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

func (z *zone) snapshot(now time.Time) Snapshot {
	s := Snapshot{ID: z.id, Name: z.name, PersonCount: z.occupancy(now), Channels: map[string]ChannelValue{},
		Extra: maps.Clone(z.extra), LastUpdate: z.lastUpdate, Activity: z.activity,
		MotionCount: z.motionCount(now), Actuators: maps.Clone(z.actuators), Spatial: map[string]Spatial{},
		LastEntry: z.lastEntry, LastExit: z.lastExit, Now: now}
	if len(z.doors) > 0 {
		s.Doors = map[string]Door{}
		for id, d := range z.doors {
			d.trim(now)
			s.Doors[id] = *d
		}
	}
	for cam, sp := range z.spatial {
		if now.Sub(sp.At) <= spatialFresh {
			s.Spatial[cam] = sp
		}
	}
	if now.Sub(z.lastVLMAt) <= vlmShown {
		s.VLM = z.lastVLM
	}
	for name, c := range z.channels {
		c.trim(now)
		if v, ok := c.fused(now); ok {
			latest := time.Time{}
			for _, r := range c.devices {
				if r.at.After(latest) {
					latest = r.at
				}
			}
			s.Channels[name] = ChannelValue{Value: v, Trend: c.trend(), UpdatedAt: latest}
		}
	}
	for id := range z.devices {
		s.Devices = append(s.Devices, id)
	}
	slices.Sort(s.Devices)
	return s
}

// Zone returns a snapshot of one zone.
func (m *Model) Zone(id string) (Snapshot, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	z, ok := m.zones[id]
	if !ok {
		return Snapshot{}, false
	}
	return m.snapshotLocked(z, m.clock.Now()), true
}

func (m *Model) snapshotLocked(z *zone, now time.Time) Snapshot {
	s := z.snapshot(now)
	for k, until := range m.suppress {
		if k.zone == z.id && now.Before(until) {
			s.Suppressed = append(s.Suppressed, k.typ)
		}
	}
	slices.Sort(s.Suppressed)
	s.Stock = m.stockLocked(z.id, now)
	return s
}

// Zones returns snapshots of every zone, sorted by id.
func (m *Model) Zones() []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	out := make([]Snapshot, 0, len(m.zones))
	for _, id := range slices.Sorted(maps.Keys(m.zones)) {
		out = append(out, m.snapshotLocked(m.zones[id], now))
	}
	return out
}
