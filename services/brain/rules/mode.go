package rules

import (
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// Cadence of each activity mode (docs/brain.md, "Decision cycle").
type Cadence struct {
	Interval, Spacing time.Duration
}

// Mode timing (docs/brain.md, "Decision cycle").
const (
	InactiveAfter     = 300 * time.Second
	EscalationSpacing = 1800 * time.Second
)

// Mode tracks whether the office is in normal or inactive mode. The office
// goes inactive once every zone has been empty for InactiveAfter and returns
// to normal as soon as anyone is seen.
type Mode struct {
	clock clock.Clock

	mu             sync.Mutex
	inactive       bool
	emptySince     time.Time
	lastEscalation time.Time
}

// NewMode starts in normal mode.
func NewMode(c clock.Clock) *Mode { return &Mode{clock: c} }

// Evaluate updates the mode from the zones; it reports the mode and whether it
// just changed.
func (m *Mode) Evaluate(zones []worldmodel.Snapshot) (inactive, changed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	people := 0
	for _, z := range zones {
		people += z.PersonCount
	}
	was := m.inactive
	switch {
	case people > 0:
		m.emptySince = time.Time{}
		m.inactive = false
	case m.emptySince.IsZero():
		m.emptySince = now
	case now.Sub(m.emptySince) >= InactiveAfter:
		m.inactive = true
	}
	return m.inactive, m.inactive != was
}

// Inactive reports the current mode.
func (m *Mode) Inactive() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inactive
}

// Escalate reports whether inactive mode may consult the LLM now (at most once
// per EscalationSpacing) and, if so, records it.
func (m *Mode) Escalate() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	if !m.lastEscalation.IsZero() && now.Sub(m.lastEscalation) < EscalationSpacing {
		return false
	}
	m.lastEscalation = now
	return true
}
