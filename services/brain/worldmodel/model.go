// Package worldmodel is the brain's picture of the office: per-zone fused
// sensor values with trends, occupancy, and the events detected from them. It
// is fed MQTT messages (Ingest) and read by the cognitive loop, the tools and
// the HTTP API. All time comes from the injected clock.
package worldmodel

import (
	"maps"
	"slices"
	"sync"
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

	mu        sync.Mutex
	zones     map[string]*zone
	names     map[string]string // display names from configuration
	events    []Event
	seq       uint64
	cooldowns map[cooldownKey]time.Time
	changed   chan struct{}
}

// New returns an empty world model.
func New(c clock.Clock) *Model {
	return &Model{
		clock:     c,
		zones:     map[string]*zone{},
		names:     map[string]string{},
		cooldowns: map[cooldownKey]time.Time{},
		changed:   make(chan struct{}, 1),
	}
}

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
	devices    map[string]time.Time // device id → last heartbeat
	lastUpdate time.Time
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
		Extra: maps.Clone(z.extra), LastUpdate: z.lastUpdate}
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
	return z.snapshot(m.clock.Now()), true
}

// Zones returns snapshots of every zone, sorted by id.
func (m *Model) Zones() []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	out := make([]Snapshot, 0, len(m.zones))
	for _, id := range slices.Sorted(maps.Keys(m.zones)) {
		out = append(out, m.zones[id].snapshot(now))
	}
	return out
}
