package worldmodel

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/services/brain/quote"
)

// Event types detected by the world model (names of the original system).
const (
	EventCO2Exceeded   = "co2_threshold_exceeded"
	EventPersonEntered = "person_entered"
	EventPersonExited  = "person_exited"
	EventTempSpike     = "temp_spike"
	EventSedentary     = "sedentary_alert"
	EventTamper        = "sensor_tamper"
	EventDoorOpened    = "door_opened"
	EventDoorClosed    = "door_closed"
	EventFall          = "fall_detected"
	EventAnomaly       = "anomaly_detected"
	EventVLM           = "vlm_analysis"
	EventTaskReport    = "task_report"
)

// Severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Thresholds and cooldowns of the events (docs/brain.md, "Perception: ingest
// and world model").
const (
	co2Cooldown        = 600 * time.Second
	tempSpikeDelta     = 3.0
	tempSpikeCooldown  = 600 * time.Second
	sedentaryAfter     = 1800.0 // seconds of static posture
	sedentaryCooldown  = 3600 * time.Second
	tamperTempDelta    = 5.0
	tamperHumDelta     = 20.0
	tamperMaxGap       = 30 * time.Second
	tamperCooldown     = 300 * time.Second
	counterWindow      = 300 * time.Second
	doorChangeWindow   = time.Hour
	spatialFresh       = 30 * time.Second
	vlmShown           = 600 * time.Second
	maxEvents          = 1000 // across zones
	maxEventsPerZone   = 50
	recentZoneEventAge = 600 * time.Second
)

// Event is something that happened in a zone and may warrant a decision.
type Event struct {
	Seq      uint64         `json:"seq"`
	Zone     string         `json:"zone"`
	Type     string         `json:"type"`
	Severity string         `json:"severity"`
	At       time.Time      `json:"at"`
	Data     map[string]any `json:"data,omitempty"`
}

// Describe is the event as one line for the prompt. Its data came from
// devices and people: numbers are formatted, ids and text quoted (package
// quote), so nothing in it reads as a new line or an instruction.
func (e Event) Describe() string {
	d := e.Data
	typ := quote.ID(e.Type)
	switch e.Type {
	case EventCO2Exceeded:
		return fmt.Sprintf("CO2濃度が基準値を超えました (%.0fppm) [%s]", toF(d["value"]), typ)
	case EventPersonEntered:
		return fmt.Sprintf("入室を検知しました (%s人) [%s]", num(d["count"]), typ)
	case EventPersonExited:
		return fmt.Sprintf("退室を検知しました (%s人) [%s]", num(d["count"]), typ)
	case EventTempSpike:
		return fmt.Sprintf("室温が急変しました (%.1f℃, 変化 %+.1f℃) [%s]", toF(d["value"]), toF(d["change"]), typ)
	case EventSedentary:
		return fmt.Sprintf("長時間同じ姿勢が続いています (%.0f分, %s人) [%s]", toF(d["duration_sec"])/60, num(d["person_count"]), typ)
	case EventTamper:
		return fmt.Sprintf("センサー値の不自然な急変 (%s: %+.1f) 改ざん・故障の可能性 [%s]", idOf(d["channel"]), toF(d["change"]), typ)
	case EventDoorOpened:
		return fmt.Sprintf("ドアが開きました (%s) [%s]", idOf(d["device_id"]), typ)
	case EventDoorClosed:
		return fmt.Sprintf("ドアが閉まりました (%s) [%s]", idOf(d["device_id"]), typ)
	case EventFall:
		return fmt.Sprintf("転倒を検知しました（信頼度 %.2f）至急確認が必要 [%s]", toF(d["confidence"]), typ)
	case EventAnomaly:
		return fmt.Sprintf("異常値を検知しました (%s, スコア %s) [%s]", idOf(d["channel"]), num(d["score"]), typ)
	case EventVLM:
		return fmt.Sprintf("映像解析: %s [%s]", quote.Text(textOf(d["content"]), maxVLMRunes), typ)
	case EventTaskReport:
		return fmt.Sprintf("タスク報告 %s → %s [%s]", quote.Text(textOf(d["title"]), maxTitleRunes), idOf(d["report_status"]), typ)
	case EventLowStock:
		// The item first: what runs low reads as one phrase (the mock LLM's
		// rules, like a reader, look for the item and then 在庫).
		return fmt.Sprintf("%s の在庫が少なくなっています（残り%s個、最低%s個） [%s]", quote.Text(textOf(d["item_name"]), maxNameRunes), num(d["quantity"]), num(d["min_threshold"]), typ)
	case EventRestocked:
		return fmt.Sprintf("棚に %s が戻りました（%s個） [%s]", quote.Text(textOf(d["item_name"]), maxNameRunes), num(d["quantity"]), typ)
	}
	return typ + " " + dataText(d)
}

// Prompt caps of event text.
const (
	maxTitleRunes = 100
	maxDataKeys   = 8
	maxDataRunes  = 80
)

// num formats a numeric datum ("?" when it is not a finite number).
func num(v any) string {
	f, ok := jsonnum.Float(v, jsonnum.Strings|jsonnum.Bools)
	if !ok {
		return "?"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// textOf is a datum as text: strings as they are, anything else as JSON.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// idOf is a datum as an id for the prompt.
func idOf(v any) string { return quote.ID(textOf(v)) }

// dataText renders other events' data as key=value pairs, at most
// maxDataKeys, keys sorted: numbers as numbers, the rest quoted.
func dataText(d map[string]any) string {
	keys := slices.Sorted(maps.Keys(d))
	parts := make([]string, 0, min(len(keys), maxDataKeys+1))
	for i, k := range keys {
		if i == maxDataKeys {
			parts = append(parts, "…")
			break
		}
		v := ""
		switch x := d[k].(type) {
		case float64, int, bool:
			v = fmt.Sprint(x)
		default:
			v = quote.Text(textOf(x), maxDataRunes)
		}
		parts = append(parts, quote.ID(k)+"="+v)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func toF(v any) float64 {
	f, _ := jsonnum.Float(v, jsonnum.Strings)
	return f
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
	ev := Event{Seq: m.seq, Zone: zone, Type: typ, Severity: severity, At: now, Data: data}
	m.events = append(m.events, ev)
	m.trimEventsLocked(zone)
	if m.onEvent != nil {
		m.onEvent(ev)
	}
	select {
	case m.changed <- struct{}{}:
	default:
	}
	return true
}

// trimEventsLocked keeps at most maxEventsPerZone events of zone and
// maxEvents overall, dropping the oldest. The sequence number keeps growing, so
// trimming never hides a new event from the cycle trigger.
func (m *Model) trimEventsLocked(zone string) {
	n := 0
	for _, e := range m.events {
		if e.Zone == zone {
			n++
		}
	}
	if over := n - maxEventsPerZone; over > 0 {
		kept := m.events[:0:0]
		for _, e := range m.events {
			if e.Zone == zone && over > 0 {
				over--
				continue
			}
			kept = append(kept, e)
		}
		m.events = kept
	}
	if over := len(m.events) - maxEvents; over > 0 {
		m.events = append(m.events[:0:0], m.events[over:]...)
	}
}

// detectLocked runs event detection for z after an update at now.
func (m *Model) detectLocked(z *zone, prevPeople int, now time.Time) {
	if c, ok := z.channels["co2"]; ok {
		if v, ok := c.fused(now); ok {
			if v > CO2Threshold {
				m.emitLocked(z.id, EventCO2Exceeded, SeverityWarning, map[string]any{"value": v}, co2Cooldown)
			} else {
				m.clearSuppressionLocked(z.id, AlertHighCO2)
			}
		}
	}
	if c, ok := z.channels["temperature"]; ok {
		if v, ok := c.fused(now); ok {
			if z.prevTemp != nil && *z.prevTemp != 0 && v != 0 && math.Abs(v-*z.prevTemp) > tempSpikeDelta {
				m.emitLocked(z.id, EventTempSpike, SeverityWarning, map[string]any{"value": v, "change": v - *z.prevTemp}, tempSpikeCooldown)
			}
			z.prevTemp = &v
			if v >= TempComfortLow && v <= TempComfortHigh {
				m.clearSuppressionLocked(z.id, AlertHighTemp)
				m.clearSuppressionLocked(z.id, AlertLowTemp)
			}
		}
	}
	people := z.occupancy(now)
	a := z.activity
	if people > 0 && a.PostureStatus == "static" && a.PostureDuration >= sedentaryAfter {
		m.emitLocked(z.id, EventSedentary, SeverityInfo, map[string]any{"duration_sec": a.PostureDuration, "person_count": people}, sedentaryCooldown)
	}
	switch {
	case people > prevPeople:
		z.lastEntry = now
		m.emitLocked(z.id, EventPersonEntered, SeverityInfo, map[string]any{"count": people}, 0)
	case people < prevPeople:
		if people == 0 {
			z.lastExit = now
		}
		m.emitLocked(z.id, EventPersonExited, SeverityInfo, map[string]any{"count": people}, 0)
	}
	z.people = people
}

// checkTamperLocked flags a physically implausible jump of the fused
// temperature or humidity between two readings at most 30 s apart.
// It reports whether it raised (or was cooling down from) an event.
func (m *Model) checkTamperLocked(z *zone, c *channel, prev *sample, now time.Time) bool {
	limit := tamperLimit(c.name)
	if limit == 0 || prev == nil || len(c.history) == 0 {
		return false
	}
	cur := c.history[len(c.history)-1]
	dt := cur.at.Sub(prev.at)
	if dt <= 0 || dt > tamperMaxGap {
		return false
	}
	if d := cur.value - prev.value; math.Abs(d) >= limit {
		m.emitLocked(z.id, EventTamper, SeverityWarning, map[string]any{
			"channel": c.name, "change": d, "duration_sec": dt.Seconds(), "value": cur.value,
		}, tamperCooldown)
		return true
	}
	return false
}

// checkDeviceTamperLocked flags one device whose own consecutive readings
// jump implausibly (the original compared fused values only, which hides a
// tampered sensor among healthy ones).
func (m *Model) checkDeviceTamperLocked(z *zone, ch, device string, prev reading, v float64, now time.Time) {
	limit := tamperLimit(ch)
	dt := now.Sub(prev.at)
	// dt 0: two readings at one simulated instant (a device reporting at once
	// on a change, right after its periodic report) differ by the jump too.
	// The reference 30 s: on the closed-loop clock a sensor's periodic
	// reports arrive exactly their interval apart, whatever the load.
	if limit == 0 || dt < 0 || dt > tamperMaxGap {
		return
	}
	if d := v - prev.value; math.Abs(d) >= limit {
		m.emitLocked(z.id, EventTamper, SeverityWarning, map[string]any{
			"channel": ch, "device_id": device, "change": d, "duration_sec": dt.Seconds(), "value": v,
		}, tamperCooldown)
	}
}

func tamperLimit(ch string) float64 {
	switch ch {
	case "temperature":
		return tamperTempDelta
	case "humidity":
		return tamperHumDelta
	}
	return 0
}

// motionCount is the number of motion/vibration detections in the last 5 min.
func (z *zone) motionCount(now time.Time) int {
	i := 0
	for i < len(z.counters) && now.Sub(z.counters[i]) > counterWindow {
		i++
	}
	if i > 0 {
		z.counters = append(z.counters[:0], z.counters[i:]...)
	}
	return len(z.counters)
}

func (d *Door) trim(now time.Time) {
	i := 0
	for i < len(d.changes) && now.Sub(d.changes[i]) > doorChangeWindow {
		i++
	}
	d.changes = d.changes[i:]
}

// ChangesLastHour is how often the door changed state in the last hour.
func (d Door) ChangesLastHour() int { return len(d.changes) }

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
