// Package registry tracks the office's edge devices from their heartbeats:
// online/stale/offline/sleeping state, battery and power mode, hub children,
// trust earned by cumulative online time, and a utility score. The brain uses
// it for the LLM's device context, for adaptive MCP timeouts and for
// GET /devices/status.
package registry

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/jsonnum"
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

// Config tunes the registry.
type Config struct {
	// TrustAfter is the cumulative online time after which a device is
	// trusted and shown to the LLM.
	TrustAfter time.Duration
}

// QueueStatus is a hub's pending commands for sleeping children.
type QueueStatus struct {
	QueuedCount int      `json:"queued_count"`
	Targets     []string `json:"targets,omitempty"`
}

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

	mu      sync.Mutex
	devices map[string]*device
}

// New returns an empty registry.
func New(c clock.Clock, cfg Config) *Registry {
	if cfg.TrustAfter <= 0 {
		cfg.TrustAfter = time.Hour
	}
	return &Registry{cfg: cfg, clock: c, devices: map[string]*device{}}
}

// Heartbeat applies one heartbeat payload of device id in zone. Children (a
// list of objects with device_id) are registered as parent.child.
func (r *Registry) Heartbeat(zone, id string, hb map[string]any) error {
	if id == "" {
		return fmt.Errorf("heartbeat without device id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.applyLocked(zone, id, "", hb, now)
	if raw, ok := hb["children"]; ok {
		children, ok := raw.([]any)
		if !ok {
			return fmt.Errorf("heartbeat of %s: children must be a list of objects", id)
		}
		for i, c := range children {
			child, ok := c.(map[string]any)
			if !ok {
				return fmt.Errorf("heartbeat of %s: children[%d] is not an object", id, i)
			}
			cid, _ := child["device_id"].(string)
			if cid == "" {
				return fmt.Errorf("heartbeat of %s: children[%d] has no device_id", id, i)
			}
			full := cid
			if !strings.Contains(cid, ".") && !strings.Contains(id, ".") {
				full = id + "." + cid
			}
			r.applyLocked(zone, full, id, child, now)
		}
	}
	return nil
}

func (r *Registry) applyLocked(zone, id, parent string, hb map[string]any, now time.Time) {
	d, ok := r.devices[id]
	if !ok {
		d = &device{id: id, typ: "unknown", powerMode: "ALWAYS_ON", utility: 1, sessionStart: now}
		r.devices[id] = d
	} else if now.Sub(d.lastSeen) >= StaleWithin && !d.isSleeping(now) {
		// Back from offline: close the previous online session.
		d.onlineAccum += d.lastSeen.Sub(d.sessionStart)
		d.sessionStart = now
	}
	d.zone, d.lastSeen, d.lastActive = zone, now, now
	if parent != "" {
		d.parent = parent
	}
	if s, ok := hb["device_type"].(string); ok && s != "" {
		d.typ = s
	}
	if s, ok := hb["power_mode"].(string); ok && s != "" {
		d.powerMode = strings.ToUpper(s)
	}
	if v, ok := hb["battery_pct"]; ok {
		d.battery = intPtr(v)
	} else if v, ok := hb["battery"]; ok {
		// Zigbee bridges send battery, not battery_pct.
		d.battery = intPtr(v)
	}
	if v, ok := hb["hops_to_mqtt"]; ok {
		d.hops = intPtr(v)
	}
	if caps, ok := hb["capabilities"].([]any); ok {
		d.capabilities = d.capabilities[:0]
		for _, c := range caps {
			if s, ok := c.(string); ok {
				d.capabilities = append(d.capabilities, s)
			}
		}
	}
	if q, ok := hb["queue_status"].(map[string]any); ok {
		qs := &QueueStatus{}
		if n := intPtr(q["queued_count"]); n != nil {
			qs.QueuedCount = *n
		}
		if ts, ok := q["targets"].([]any); ok {
			for _, t := range ts {
				if s, ok := t.(string); ok {
					qs.Targets = append(qs.Targets, s)
				}
			}
		}
		d.queue = qs
	}
	if s, ok := hb["label"].(string); ok && s != "" {
		d.label = s
	}
	if n := intPtr(hb["next_wake_sec"]); n != nil && *n > 0 {
		d.nextWake = now.Add(time.Duration(*n) * time.Second)
	} else if _, present := hb["next_wake_sec"]; present {
		d.nextWake = time.Time{}
	}
	if !d.trusted && d.onlineAccum+d.lastSeen.Sub(d.sessionStart) >= r.cfg.TrustAfter {
		d.trusted = true
	}
}

// intPtr reads a heartbeat count: a JSON number only (truncated), nil otherwise.
func intPtr(v any) *int {
	f, ok := jsonnum.Float(v, jsonnum.Numbers)
	if !ok {
		return nil
	}
	n := int(f)
	return &n
}

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
		OnlineFor: (d.onlineAccum + d.lastSeen.Sub(d.sessionStart)).Seconds(), Utility: d.utility,
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
