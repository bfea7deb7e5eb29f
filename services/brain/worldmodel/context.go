package worldmodel

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/somsgo/soms/services/brain/quote"
)

// Alert is an out-of-band condition in a zone.
type Alert struct {
	Zone   string
	Kind   string // high_co2, high_temp, low_temp, high_humidity, low_humidity
	Line   string
	Value  float64
	Normal string
	// Suppressed is true when a task already handles it ("in progress").
	Suppressed bool
}

// Alerts lists the zone's out-of-band conditions.
func (s Snapshot) Alerts() []Alert {
	var out []Alert
	if v, ok := s.Value("co2"); ok && v > CO2Threshold {
		out = append(out, Alert{Zone: s.ID, Kind: AlertHighCO2, Line: fmt.Sprintf("CO2 %.0fppm（基準 %.0fppm 超）換気が必要", v, CO2Threshold), Value: v, Normal: "< 1000ppm"})
	}
	if v, ok := s.Value("temperature"); ok {
		switch {
		case v > TempComfortHigh:
			out = append(out, Alert{Zone: s.ID, Kind: AlertHighTemp, Line: fmt.Sprintf("室温 %.1f℃ 高温（快適範囲 %.0f–%.0f℃）", v, TempComfortLow, TempComfortHigh), Value: v, Normal: "18–26℃"})
		case v < TempComfortLow:
			out = append(out, Alert{Zone: s.ID, Kind: AlertLowTemp, Line: fmt.Sprintf("室温 %.1f℃ 低温（快適範囲 %.0f–%.0f℃）", v, TempComfortLow, TempComfortHigh), Value: v, Normal: "18–26℃"})
		}
	}
	if v, ok := s.Value("humidity"); ok {
		switch {
		case v > HumidityHigh:
			out = append(out, Alert{Zone: s.ID, Kind: AlertHighHumidity, Line: fmt.Sprintf("湿度 %.0f%% 高湿（快適範囲 30–60%%）", v), Value: v, Normal: "30–60%"})
		case v < HumidityLow:
			out = append(out, Alert{Zone: s.ID, Kind: AlertLowHumidity, Line: fmt.Sprintf("湿度 %.0f%% 低湿・乾燥（快適範囲 30–60%%）", v), Value: v, Normal: "30–60%"})
		}
	}
	for i := range out {
		out[i].Suppressed = slices.Contains(s.Suppressed, out[i].Kind)
	}
	return out
}

// Comfort labels a temperature.
func Comfort(t float64) string {
	switch {
	case t < TempComfortLow:
		return "寒い"
	case t > TempComfortHigh:
		return "暑い"
	}
	return "快適"
}

var trendArrow = map[string]string{TrendRising: "↑", TrendFalling: "↓", TrendStable: "→"}

// Describe renders the zone for the LLM prompt and get_zone_status. Every
// name and id in it came from a device (topics, payloads): each is written
// through package quote, so none can forge a line or pass for an instruction.
func (s Snapshot) Describe() string {
	var b strings.Builder
	name := quote.ID(s.ID)
	if s.Name != "" {
		name = quote.Text(s.Name, maxNameRunes)
	}
	fmt.Fprintf(&b, "### %s (%s)\n", name, quote.ID(s.ID))
	if s.PersonCount > 0 {
		fmt.Fprintf(&b, "- 在室: %d人", s.PersonCount)
		if a := s.Activity; a.Class != "" && a.Class != "unknown" {
			fmt.Fprintf(&b, "（活動: %s", quote.ID(a.Class))
			if a.Level > 0 {
				fmt.Fprintf(&b, ", 動き %.2f", a.Level)
			}
			if a.PostureStatus != "" && a.PostureStatus != "unknown" {
				fmt.Fprintf(&b, ", 姿勢 %s %.0f分", quote.ID(a.PostureStatus), a.PostureDuration/60)
			}
			b.WriteString("）")
		}
		b.WriteString("\n")
	} else {
		b.WriteString("- 在室: 無人\n")
	}
	if v, ok := s.Channels["temperature"]; ok {
		fmt.Fprintf(&b, "- 温度: %.1f℃ %s (%s)\n", v.Value, trendArrow[v.Trend], Comfort(v.Value))
	}
	if v, ok := s.Channels["humidity"]; ok {
		fmt.Fprintf(&b, "- 湿度: %.0f%% %s\n", v.Value, trendArrow[v.Trend])
	}
	if v, ok := s.Channels["co2"]; ok {
		flag := ""
		if v.Value > CO2Threshold {
			flag = " 要換気"
		}
		fmt.Fprintf(&b, "- CO2: %.0fppm %s%s\n", v.Value, trendArrow[v.Trend], flag)
	}
	if v, ok := s.Channels["pressure"]; ok {
		fmt.Fprintf(&b, "- 気圧: %.1fhPa\n", v.Value)
	}
	if v, ok := s.Channels["illuminance"]; ok {
		fmt.Fprintf(&b, "- 照度: %.0flx\n", v.Value)
	}
	for _, ch := range []string{"soil_moisture", "soil_temperature", "gas_resistance"} {
		if v, ok := s.Channels[ch]; ok {
			fmt.Fprintf(&b, "- %s: %.1f\n", ch, v.Value)
		}
	}
	if s.MotionCount > 0 {
		fmt.Fprintf(&b, "- 動き検知: %d回/5分\n", s.MotionCount)
	}
	for _, id := range slices.Sorted(maps.Keys(s.Doors)) {
		d := s.Doors[id]
		state := "閉"
		if d.Open {
			state = "開"
		}
		fmt.Fprintf(&b, "- ドア %s: %s（%d分, 1時間に%d回変化）\n", quote.ID(id), state, minutes(s.Now.Sub(d.Since)), d.ChangesLastHour())
	}
	for _, st := range s.Stock {
		fmt.Fprintf(&b, "- 在庫 %s: %d個（最低%d個）\n", quote.Text(st.Item, maxNameRunes), st.Quantity, st.MinThreshold)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Extra)) {
		fmt.Fprintf(&b, "- %s: %g\n", quote.ID(k), s.Extra[k])
	}
	for _, id := range slices.Sorted(maps.Keys(s.Actuators)) {
		a := s.Actuators[id]
		fmt.Fprintf(&b, "- 機器 %s (%s): %s\n", quote.ID(id), quote.ID(a.Type), quote.ID(a.Power))
	}
	for _, cam := range slices.Sorted(maps.Keys(s.Spatial)) {
		sp := s.Spatial[cam]
		fmt.Fprintf(&b, "- カメラ %s: %d人検出", quote.ID(cam), sp.Persons)
		if len(sp.Objects) > 0 {
			objs := make([]string, 0, 5)
			for _, o := range sp.Objects[:min(5, len(sp.Objects))] {
				objs = append(objs, quote.ID(o))
			}
			fmt.Fprintf(&b, "、物体 %s", strings.Join(objs, ","))
		}
		b.WriteString("\n")
	}
	if s.VLM != "" {
		fmt.Fprintf(&b, "- 映像解析: %s\n", quote.Text(s.VLM, maxVLMRunes))
	}
	return b.String()
}

// Prompt caps of free text from devices.
const (
	maxNameRunes = 40
	maxVLMRunes  = 150
)

func minutes(d time.Duration) int { return int(d.Minutes()) }
