package worldmodel

import (
	"slices"
	"strings"
	"time"
)

// Alert kinds, also the keys of alert suppression.
const (
	AlertHighCO2      = "high_co2"
	AlertHighTemp     = "high_temp"
	AlertLowTemp      = "low_temp"
	AlertHighHumidity = "high_humidity"
	AlertLowHumidity  = "low_humidity"
)

// suppressFor is how long a task keeps an alert kind "in progress".
var suppressFor = map[string]time.Duration{
	AlertHighTemp: 1800 * time.Second, AlertLowTemp: 1800 * time.Second,
	AlertHighCO2:      600 * time.Second,
	AlertHighHumidity: 1200 * time.Second, AlertLowHumidity: 1200 * time.Second,
	"low_stock": 3600 * time.Second,
}

const defaultSuppression = 1800 * time.Second

// suppressKeywords map words of a task to the alerts it handles (docs/brain.md,
// "Perception: ingest and world model", alert suppression).
var suppressKeywords = []struct {
	word  string
	kinds []string
}{
	{"温度", []string{AlertHighTemp, AlertLowTemp}}, {"室温", []string{AlertHighTemp, AlertLowTemp}},
	{"エアコン", []string{AlertHighTemp, AlertLowTemp}}, {"空調", []string{AlertHighTemp, AlertLowTemp}},
	{"暑", []string{AlertHighTemp}}, {"冷", []string{AlertHighTemp}},
	{"寒", []string{AlertLowTemp}}, {"暖", []string{AlertLowTemp}},
	{"co2", []string{AlertHighCO2}}, {"換気", []string{AlertHighCO2}},
	{"湿度", []string{AlertHighHumidity, AlertLowHumidity}},
	{"加湿", []string{AlertLowHumidity}}, {"除湿", []string{AlertHighHumidity}},
}

// Suppress marks an alert kind in a zone as handled for its suppression period.
func (m *Model) Suppress(zone, kind string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.suppressLocked(zone, kind)
}

func (m *Model) suppressLocked(zone, kind string) {
	d, ok := suppressFor[kind]
	if !ok {
		d = defaultSuppression
	}
	m.suppress[cooldownKey{zone, kind}] = m.clock.Now().Add(d)
}

func (m *Model) clearSuppressionLocked(zone, kind string) {
	delete(m.suppress, cooldownKey{zone, kind})
}

// SuppressForTask records that a created environment/urgent task handles the
// alerts its text names, in zone (every known zone when empty). When no keyword
// matches, whatever is out of band in those zones is suppressed. It returns the
// kinds suppressed.
func (m *Model) SuppressForTask(zone, text string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	kinds := TaskAlertKinds(text)
	zones := []string{zone}
	if zone == "" {
		zones = zones[:0]
		for id := range m.zones {
			zones = append(zones, id)
		}
	}
	now := m.clock.Now()
	var out []string
	for _, zid := range zones {
		zk := kinds
		if len(zk) == 0 {
			if z, ok := m.zones[zid]; ok {
				for _, a := range z.snapshot(now).Alerts() {
					zk = append(zk, a.Kind)
				}
			}
		}
		for _, kind := range zk {
			m.suppressLocked(zid, kind)
			if !slices.Contains(out, kind) {
				out = append(out, kind)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TaskAlertKinds are the alert kinds a task's text (title, description,
// types) names, by keyword (docs/brain.md, alert suppression), in table order.
func TaskAlertKinds(text string) []string {
	text = strings.ToLower(text)
	var kinds []string
	for _, k := range suppressKeywords {
		if strings.Contains(text, k.word) {
			for _, kind := range k.kinds {
				if !slices.Contains(kinds, kind) {
					kinds = append(kinds, kind)
				}
			}
		}
	}
	return kinds
}

// Suppressed reports whether alert kind is in progress in zone.
func (m *Model) Suppressed(zone, kind string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.suppress[cooldownKey{zone, kind}]
	return ok && m.clock.Now().Before(until)
}

// AnySuppressed reports whether any alert kind is in progress in zone.
func (m *Model) AnySuppressed(zone string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	for k, until := range m.suppress {
		if !now.Before(until) {
			delete(m.suppress, k)
			continue
		}
		if k.zone == zone {
			return true
		}
	}
	return false
}
