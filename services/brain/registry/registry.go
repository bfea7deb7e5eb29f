// Package registry tracks the office's edge devices from their heartbeats:
// online/stale/offline/sleeping state, battery and power mode, hub children,
// trust earned by cumulative online time, and a utility score. The brain uses
// it for the LLM's device context, for adaptive MCP timeouts and for
// GET /devices/status.
package registry

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/telemetry"
)

// State of a device.
type State string

// Device states (docs/brain.md, "Devices, tasks, people").
const (
	Online   State = "online"
	Stale    State = "stale"
	Offline  State = "offline"
	Sleeping State = "sleeping"
	Unknown  State = "unknown"
)

// State thresholds, as the original's.
const (
	OnlineWithin = 120 * time.Second
	StaleWithin  = 900 * time.Second
	LowBattery   = 20
	maxUtility   = 2.0
	minUtility   = 0.5
)

// Bounds of the registry (docs/brain.md, "Devices, tasks, people"): it keeps
// at most DefaultMaxDevices devices; a heartbeat that would add more is
// refused (telemetry.DeviceLimit). A device online for less than
// BrieflySeen in all (a forged id, a node plugged in by mistake) is forgotten
// QuietTTL after its last heartbeat; any other after Retention.
const (
	DefaultMaxDevices = 10000
	BrieflySeen       = 10 * time.Minute
	QuietTTL          = time.Hour
	Retention         = 30 * 24 * time.Hour
	sweepEvery        = time.Minute
)

// Config tunes the registry.
type Config struct {
	// TrustAfter is the cumulative online time after which a device is
	// trusted and shown to the LLM.
	TrustAfter time.Duration
	// MaxDevices bounds the devices kept; 0 is DefaultMaxDevices.
	MaxDevices int
}

// QueueStatus is a hub's pending commands for sleeping children.
type QueueStatus = telemetry.QueueStatus

// device is the mutable record of one device.
type device struct {
	id, parent, zone string
	typ, label       string
	powerMode        string
	battery          *int
	hops             *int
	capabilities     []string
	queue            *QueueStatus
	nextWake         time.Time
	lastSeen         time.Time
	sessionStart     time.Time
	onlineAccum      time.Duration
	trusted          bool
	utility          float64
	lastActive       time.Time
}

// Registry is safe for concurrent use.
type Registry struct {
	cfg   Config
	clock clock.Clock

	mu        sync.Mutex
	devices   map[string]*device
	lastSweep time.Time
}

// New returns an empty registry.
func New(c clock.Clock, cfg Config) *Registry {
	if cfg.TrustAfter <= 0 {
		cfg.TrustAfter = time.Hour
	}
	if cfg.MaxDevices <= 0 {
		cfg.MaxDevices = DefaultMaxDevices
	}
	return &Registry{cfg: cfg, clock: c, devices: map[string]*device{}}
}

// Heartbeat applies one heartbeat (internal/telemetry) of a device in zone,
// its children included. A heartbeat that would take the registry past its
// bound is refused whole; known devices always get through.
func (r *Registry) Heartbeat(zone string, hb telemetry.Heartbeat) error {
	if hb.DeviceID == "" {
		return telemetry.Rejectf(telemetry.BadHeartbeat, "heartbeat without device id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.sweepLocked(now)
	devs := hb.Devices()
	unknown := 0
	for _, d := range devs {
		if _, ok := r.devices[d.DeviceID]; !ok {
			unknown++
		}
	}
	if unknown > 0 && len(r.devices)+unknown > r.cfg.MaxDevices {
		return telemetry.Rejectf(telemetry.DeviceLimit, "heartbeat of %s: %d new devices, the registry keeps %d", hb.DeviceID, unknown, r.cfg.MaxDevices)
	}
	for _, d := range devs {
		r.applyLocked(zone, d, now)
	}
	return nil
}

// sweepLocked forgets expired devices, at most once per sweepEvery.
func (r *Registry) sweepLocked(now time.Time) {
	if now.Sub(r.lastSweep) < sweepEvery {
		return
	}
	r.lastSweep = now
	for id, d := range r.devices {
		ttl := Retention
		if d.onlineFor() < BrieflySeen {
			ttl = QuietTTL
		}
		if now.Sub(d.lastSeen) > ttl {
			delete(r.devices, id)
		}
	}
}

func (r *Registry) applyLocked(zone string, hb telemetry.Heartbeat, now time.Time) {
	d, ok := r.devices[hb.DeviceID]
	if !ok {
		d = &device{id: hb.DeviceID, typ: "unknown", powerMode: "ALWAYS_ON", utility: 1, sessionStart: now}
		r.devices[hb.DeviceID] = d
	} else if now.Sub(d.lastSeen) >= StaleWithin && !d.isSleeping(now) {
		// Back from offline: close the previous online session.
		d.onlineAccum += d.lastSeen.Sub(d.sessionStart)
		d.sessionStart = now
	}
	d.zone, d.lastSeen, d.lastActive = zone, now, now
	if hb.ParentID != "" {
		d.parent = hb.ParentID
	}
	if hb.DeviceType != "" {
		d.typ = hb.DeviceType
	}
	if hb.PowerMode != "" {
		d.powerMode = hb.PowerMode
	}
	if hb.HasBattery {
		d.battery = hb.BatteryPct
	}
	if hb.HopsToMQTT != nil {
		d.hops = hb.HopsToMQTT
	}
	if hb.Capabilities != nil {
		d.capabilities = slices.Clone(hb.Capabilities)
	}
	if hb.Queue != nil {
		d.queue = hb.Queue
	}
	if hb.Label != "" {
		d.label = hb.Label
	}
	if hb.NextWakeSec != nil {
		d.nextWake = now.Add(time.Duration(*hb.NextWakeSec) * time.Second)
	} else if hb.HasNextWake {
		d.nextWake = time.Time{}
	}
	if !d.trusted && d.onlineFor() >= r.cfg.TrustAfter {
		d.trusted = true
	}
}

// onlineFor is the device's cumulative online time.
func (d *device) onlineFor() time.Duration { return d.onlineAccum + d.lastSeen.Sub(d.sessionStart) }

func (d *device) isSleeping(now time.Time) bool {
	return (d.powerMode == "DEEP_SLEEP" || d.powerMode == "ULTRA_LOW") && !d.nextWake.IsZero() && now.Sub(d.lastSeen) < StaleWithin
}

func (d *device) state(now time.Time) State {
	elapsed := now.Sub(d.lastSeen)
	switch {
	case d.isSleeping(now):
		return Sleeping
	case elapsed < OnlineWithin:
		return Online
	case elapsed < StaleWithin:
		return Stale
	}
	return Offline
}

// Status is the public view of one device (GET /devices/status).
type Status struct {
	DeviceID     string       `json:"device_id"`
	ParentID     string       `json:"parent_id,omitempty"`
	Zone         string       `json:"zone"`
	DeviceType   string       `json:"device_type"`
	Label        string       `json:"label,omitempty"`
	State        State        `json:"state"`
	BatteryPct   *int         `json:"battery_pct"`
	Trusted      bool         `json:"trusted"`
	Capabilities []string     `json:"capabilities"`
	PowerMode    string       `json:"power_mode"`
	HopsToMQTT   *int         `json:"hops_to_mqtt,omitempty"`
	QueueStatus  *QueueStatus `json:"queue_status,omitempty"`
	NextWake     *time.Time   `json:"next_wake,omitempty"`
	LastSeen     time.Time    `json:"last_seen"`
	OnlineFor    float64      `json:"cumulative_online_sec"`
	Utility      float64      `json:"utility"`
}

func (d *device) status(now time.Time) Status {
	s := Status{
		DeviceID: d.id, ParentID: d.parent, Zone: d.zone, DeviceType: d.typ, Label: d.label, State: d.state(now),
		BatteryPct: d.battery, Trusted: d.trusted, Capabilities: slices.Clone(d.capabilities), PowerMode: d.powerMode,
		HopsToMQTT: d.hops, QueueStatus: d.queue, LastSeen: d.lastSeen,
		OnlineFor: d.onlineFor().Seconds(), Utility: d.utility,
	}
	if s.Capabilities == nil {
		s.Capabilities = []string{}
	}
	if !d.nextWake.IsZero() {
		w := d.nextWake
		s.NextWake = &w
	}
	return s
}

// Get returns one device.
func (r *Registry) Get(id string) (Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.devices[id]
	if !ok {
		return Status{}, false
	}
	return d.status(r.clock.Now()), true
}

// List returns every device sorted by id.
func (r *Registry) List() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	out := make([]Status, 0, len(r.devices))
	for _, id := range slices.Sorted(maps.Keys(r.devices)) {
		out = append(out, r.devices[id].status(now))
	}
	return out
}

// Timeout is the adaptive MCP timeout for a command to agent, by its state.
func (r *Registry) Timeout(agent string) time.Duration {
	st, ok := r.Get(agent)
	if !ok {
		return 10 * time.Second
	}
	switch st.State {
	case Sleeping:
		return 30 * time.Second
	case Stale:
		return 20 * time.Second
	case Offline:
		return 5 * time.Second
	}
	return 10 * time.Second
}

// Boost raises the utility of devices in zone (id prefixed by or containing
// the zone name), capped at 2.0.
func (r *Registry) Boost(zone string, amount float64) {
	if zone == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	for _, d := range r.devices {
		if d.zone == zone || strings.Contains(d.id, zone) {
			d.utility = min(maxUtility, d.utility+amount)
			d.lastActive = now
		}
	}
}

// Decay lowers the ceiling of devices idle for more than 7 days linearly to
// 0.5 at 30 days (run hourly).
func (r *Registry) Decay() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	const grace, full = 7 * 24 * time.Hour, 30 * 24 * time.Hour
	for _, d := range r.devices {
		idle := now.Sub(d.lastActive)
		if idle <= grace {
			continue
		}
		frac := min(1, float64(idle-grace)/float64(full-grace))
		ceiling := maxUtility - frac*(maxUtility-minUtility)
		d.utility = max(minUtility, min(d.utility, ceiling))
	}
}
