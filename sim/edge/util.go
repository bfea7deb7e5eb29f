package edge

import (
	"fmt"
	"math"
)

func fmtSscan(s string, v *float64) (int, error) { return fmt.Sscan(s, v) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

func math0(x float64) float64 { return round(x, 0) }

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }
