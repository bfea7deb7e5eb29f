package worldmodel

import (
	"fmt"
	"time"
)

// Event types detected by the world model (names of the original system).
const (
	EventCO2Exceeded   = "co2_threshold_exceeded"
	EventPersonEntered = "person_entered"
	EventPersonExited  = "person_exited"
)

// Severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// co2Cooldown keeps one CO2 event per zone per 10 minutes.
const co2Cooldown = 600 * time.Second

// maxEvents bounds the in-memory event history across zones.
const maxEvents = 1000

// Event is something that happened in a zone and may warrant a decision.
type Event struct {
	Seq      uint64         `json:"seq"`
	Zone     string         `json:"zone"`
	Type     string         `json:"type"`
	Severity string         `json:"severity"`
	At       time.Time      `json:"at"`
	Data     map[string]any `json:"data,omitempty"`
}

// Describe is the event as one line for the prompt.
func (e Event) Describe() string {
	switch e.Type {
	case EventCO2Exceeded:
		return fmt.Sprintf("CO2濃度が基準値を超えました (%.0fppm) [%s]", e.Data["value"], e.Type)
	case EventPersonEntered:
		return fmt.Sprintf("入室を検知しました (%v人) [%s]", e.Data["count"], e.Type)
	case EventPersonExited:
		return fmt.Sprintf("退室を検知しました (%v人) [%s]", e.Data["count"], e.Type)
	}
	return fmt.Sprintf("%s %v", e.Type, e.Data)
}

type cooldownKey struct{ zone, typ string }

// emitLocked records an event unless the same type fired in the zone within
// cooldown. It reports whether the event was recorded.
func (m *Model) emitLocked(zone, typ, severity string, data map[string]any, cooldown time.Duration) bool {
	now := m.clock.Now()
	key := cooldownKey{zone, typ}
	if cooldown > 0 {
		if last, ok := m.cooldowns[key]; ok && now.Sub(last) < cooldown {
			return false
		}
		m.cooldowns[key] = now
	}
	m.seq++
	m.events = append(m.events, Event{Seq: m.seq, Zone: zone, Type: typ, Severity: severity, At: now, Data: data})
	if over := len(m.events) - maxEvents; over > 0 {
		m.events = append(m.events[:0:0], m.events[over:]...)
	}
	select {
	case m.changed <- struct{}{}:
	default:
	}
	return true
}

// detectLocked runs event detection for z after an update.
func (m *Model) detectLocked(z *zone, prevPeople int) {
	now := m.clock.Now()
	if c, ok := z.channels["co2"]; ok {
		if v, ok := c.fused(now); ok && v > CO2Threshold {
			m.emitLocked(z.id, EventCO2Exceeded, SeverityWarning, map[string]any{"value": v}, co2Cooldown)
		}
	}
	people := z.occupancy(now)
	switch {
	case people > prevPeople:
		m.emitLocked(z.id, EventPersonEntered, SeverityInfo, map[string]any{"count": people}, 0)
	case people < prevPeople:
		m.emitLocked(z.id, EventPersonExited, SeverityInfo, map[string]any{"count": people}, 0)
	}
	z.people = people
}

// Seq is the sequence number of the latest event; it only grows, so a change
// means new events (the original compared per-zone counts of a capped list and
// stopped triggering once a zone had 50 events).
func (m *Model) Seq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seq
}

// Changed is signalled (coalesced) whenever an event is recorded.
func (m *Model) Changed() <-chan struct{} { return m.changed }

// EventsSince returns events newer than t, oldest first.
func (m *Model) EventsSince(t time.Time) []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range m.events {
		if e.At.After(t) {
			out = append(out, e)
		}
	}
	return out
}
