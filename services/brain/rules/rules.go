// Package rules is the brain's deterministic fallback: threshold rules that
// create tasks without an LLM (when the office is empty, and — unlike the
// original — whenever the LLM is unreachable or answers garbage), and the
// activity mode that decides between the normal and the inactive cadence.
package rules

import (
	"fmt"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// Thresholds of the rule engine (env-overridable through the brain's Config).
type Thresholds struct {
	CO2High      float64 `env:"THRESHOLD_CO2_HIGH" default:"1000" doc:"rule engine: CO2 ppm above which a ventilation task is created"`
	CO2Critical  float64 `env:"THRESHOLD_CO2_CRITICAL" default:"1500" doc:"rule engine: critical CO2 ppm (acts even in inactive mode)"`
	TempHigh     float64 `env:"THRESHOLD_TEMP_HIGH" default:"26" doc:"rule engine: high temperature °C"`
	TempLow      float64 `env:"THRESHOLD_TEMP_LOW" default:"18" doc:"rule engine: low temperature °C"`
	TempCritHigh float64 `env:"THRESHOLD_TEMP_CRITICAL_HIGH" default:"35" doc:"rule engine: critical high temperature °C"`
	TempCritLow  float64 `env:"THRESHOLD_TEMP_CRITICAL_LOW" default:"10" doc:"rule engine: critical low temperature °C"`
	HumHigh      float64 `env:"THRESHOLD_HUMIDITY_HIGH" default:"60" doc:"rule engine: high humidity %"`
	HumLow       float64 `env:"THRESHOLD_HUMIDITY_LOW" default:"30" doc:"rule engine: low humidity %"`
}

// DefaultThresholds are the original's values (docs/brain.md, "Decision
// cycle": the rule engine).
var DefaultThresholds = Thresholds{CO2High: 1000, CO2Critical: 1500, TempHigh: 26, TempLow: 18, TempCritHigh: 35, TempCritLow: 10, HumHigh: 60, HumLow: 30}

// Cooldown is the minimum time between two firings of one rule in one zone.
const Cooldown = 300 * time.Second

// fallWindow is how recent a fall must be for the critical rule, at least:
// when the last evaluation is older, the rule looks back to it (Since).
const fallWindow = 60 * time.Second

// Kinds of the safety tasks that are not alert kinds (those are
// worldmodel.Alert*): the brain's duplicate checks go by zone and kind.
const (
	KindFall      = "fall"
	KindWaterLeak = "water_leak"
)

// Action is a rule's decision: a create_task call.
type Action struct {
	Rule     string
	Zone     string
	Kind     string // KindFall, KindWaterLeak or a worldmodel alert kind
	Critical bool
	Args     map[string]any
}

// Engine evaluates the rules. Safe for concurrent use.
type Engine struct {
	th    Thresholds
	clock clock.Clock

	mu           sync.Mutex
	last         map[string]time.Time // rule_zone → last firing
	lastCritical time.Time            // last evaluation of the critical rules
}

// New returns an engine.
func New(c clock.Clock, th Thresholds) *Engine {
	return &Engine{th: th, clock: c, last: map[string]time.Time{}}
}

// Since is how far back the next Critical evaluation looks for falls: the
// last minute, or back to the previous evaluation when that is older — a
// cycle that took long (a hung LLM) must not let a fall age out unseen.
// Callers pass Critical the events since then.
func (e *Engine) Since() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sinceLocked(e.clock.Now())
}

func (e *Engine) sinceLocked(now time.Time) time.Time {
	since := now.Add(-fallWindow)
	if !e.lastCritical.IsZero() && e.lastCritical.Before(since) {
		since = e.lastCritical
	}
	return since
}

// Critical evaluates the critical rules: a fall since Since, CO2 above the
// critical level, extreme temperatures, a water leak.
func (e *Engine) Critical(zones []worldmodel.Snapshot, events []worldmodel.Event) []Action {
	now := e.clock.Now()
	e.mu.Lock()
	since := e.sinceLocked(now)
	e.lastCritical = now
	e.mu.Unlock()
	var out []Action
	for _, z := range zones {
		name := z.DisplayName()
		if fallSince(z.ID, events, since) {
			out = e.fire(out, "fall", z.ID, KindFall, true, 4, "転倒の確認", fmt.Sprintf("%sで転倒が検知されました。至急様子を確認してください。", name), "urgent,safety")
		}
		if v, ok := z.Value("co2"); ok && v > e.th.CO2Critical {
			out = e.fire(out, "co2_critical", z.ID, worldmodel.AlertHighCO2, true, 3, "緊急換気", fmt.Sprintf("%sのCO2濃度が%.0fppmと危険な水準です。すぐに換気してください。", name, v), "environment,urgent")
		}
		if v, ok := z.Value("temperature"); ok {
			switch {
			case v > e.th.TempCritHigh:
				out = e.fire(out, "temp_critical_high", z.ID, worldmodel.AlertHighTemp, true, 3, "異常高温の確認", fmt.Sprintf("%sの室温が%.1f℃と異常に高くなっています。空調と熱源を確認してください。", name, v), "environment,urgent")
			case v < e.th.TempCritLow:
				out = e.fire(out, "temp_critical_low", z.ID, worldmodel.AlertLowTemp, true, 3, "異常低温の確認", fmt.Sprintf("%sの室温が%.1f℃と異常に低くなっています。暖房と窓を確認してください。", name, v), "environment,urgent")
			}
		}
		if z.Extra["water_leak"] > 0 {
			out = e.fire(out, "water_leak", z.ID, KindWaterLeak, true, 4, "漏水の確認", fmt.Sprintf("%sで漏水が検知されました。至急確認してください。", name), "urgent,safety")
		}
	}
	return out
}

// Normal evaluates the out-of-band rules below the critical levels.
func (e *Engine) Normal(zones []worldmodel.Snapshot) []Action {
	var out []Action
	for _, z := range zones {
		name := z.DisplayName()
		if v, ok := z.Value("co2"); ok && v > e.th.CO2High && v <= e.th.CO2Critical {
			out = e.fire(out, "co2_high", z.ID, worldmodel.AlertHighCO2, false, 1, "換気のお願い", fmt.Sprintf("%sのCO2濃度が%.0fppmです。窓を開けて換気してください。", name, v), "environment")
		}
		if v, ok := z.Value("temperature"); ok {
			switch {
			case v > e.th.TempHigh && v <= e.th.TempCritHigh:
				out = e.fire(out, "temp_high", z.ID, worldmodel.AlertHighTemp, false, 1, "室温調整（暑い）", fmt.Sprintf("%sの室温が%.1f℃です。冷房を確認してください。", name, v), "environment")
			case v < e.th.TempLow && v > e.th.TempCritLow:
				out = e.fire(out, "temp_low", z.ID, worldmodel.AlertLowTemp, false, 1, "室温調整（寒い）", fmt.Sprintf("%sの室温が%.1f℃です。暖房を確認してください。", name, v), "environment")
			}
		}
		for _, st := range z.Stock {
			if st.Low && !st.Requested {
				item := []rune(st.Item)
				if len(item) > 80 {
					item = item[:80]
				}
				out = e.fire(out, "low_stock", z.ID, worldmodel.AlertLowStock, false, 1, string(item)+"を補充してください",
					fmt.Sprintf("%sの%sが残り%d個です（最低%d個）。補充してください。", name, string(item), st.Quantity, st.MinThreshold), "supply")
			}
		}
		if v, ok := z.Value("humidity"); ok {
			switch {
			case v > e.th.HumHigh:
				out = e.fire(out, "humidity_high", z.ID, worldmodel.AlertHighHumidity, false, 1, "除湿のお願い", fmt.Sprintf("%sの湿度が%.0f%%です。除湿してください。", name, v), "environment")
			case v < e.th.HumLow:
				out = e.fire(out, "humidity_low", z.ID, worldmodel.AlertLowHumidity, false, 1, "加湿のお願い", fmt.Sprintf("%sの湿度が%.0f%%です。加湿してください。", name, v), "environment")
			}
		}
	}
	return out
}

// fire appends an action unless the rule is cooling down in the zone; firing
// consumes the cooldown.
func (e *Engine) fire(out []Action, rule, zone, kind string, critical bool, urgency int, title, desc, types string) []Action {
	key := rule + "_" + zone
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if last, ok := e.last[key]; ok && now.Sub(last) < Cooldown {
		return out
	}
	e.last[key] = now
	return append(out, Action{Rule: rule, Zone: zone, Kind: kind, Critical: critical, Args: map[string]any{
		"title": title, "description": desc, "urgency": float64(urgency), "zone": zone, "task_types": types,
	}})
}

// fallSince reports a fall in zone after since. Every fall counts, however
// many other events the zone had since (the original looked at the zone's
// last ten events only).
func fallSince(zone string, events []worldmodel.Event, since time.Time) bool {
	for _, e := range events {
		if e.Zone == zone && e.Type == worldmodel.EventFall && e.At.After(since) {
			return true
		}
	}
	return false
}
