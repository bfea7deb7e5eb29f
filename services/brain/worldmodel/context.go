package worldmodel

import (
	"fmt"
	"strings"
)

// Alert is an out-of-band condition in a zone.
type Alert struct {
	Zone   string
	Kind   string // high_co2, high_temp, low_temp, high_humidity, low_humidity
	Line   string
	Value  float64
	Normal string
}

// Alerts lists the zone's out-of-band conditions.
func (s Snapshot) Alerts() []Alert {
	var out []Alert
	if v, ok := s.Value("co2"); ok && v > CO2Threshold {
		out = append(out, Alert{s.ID, "high_co2", fmt.Sprintf("CO2 %.0fppm（基準 %.0fppm 超）換気が必要", v, CO2Threshold), v, "< 1000ppm"})
	}
	if v, ok := s.Value("temperature"); ok {
		switch {
		case v > TempComfortHigh:
			out = append(out, Alert{s.ID, "high_temp", fmt.Sprintf("室温 %.1f℃ 高温（快適範囲 %.0f–%.0f℃）", v, TempComfortLow, TempComfortHigh), v, "18–26℃"})
		case v < TempComfortLow:
			out = append(out, Alert{s.ID, "low_temp", fmt.Sprintf("室温 %.1f℃ 低温（快適範囲 %.0f–%.0f℃）", v, TempComfortLow, TempComfortHigh), v, "18–26℃"})
		}
	}
	if v, ok := s.Value("humidity"); ok {
		switch {
		case v > HumidityHigh:
			out = append(out, Alert{s.ID, "high_humidity", fmt.Sprintf("湿度 %.0f%% 高湿（快適範囲 30–60%%）", v), v, "30–60%"})
		case v < HumidityLow:
			out = append(out, Alert{s.ID, "low_humidity", fmt.Sprintf("湿度 %.0f%% 低湿・乾燥（快適範囲 30–60%%）", v), v, "30–60%"})
		}
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

// Describe renders the zone for the LLM prompt and get_zone_status.
func (s Snapshot) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s (%s)\n", s.DisplayName(), s.ID)
	if s.PersonCount > 0 {
		fmt.Fprintf(&b, "- 在室: %d人\n", s.PersonCount)
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
	return b.String()
}
