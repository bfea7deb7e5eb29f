package telemetry

import (
	"math"
	"strconv"

	"github.com/somsgo/soms/internal/jsonnum"
)

// Range is what one channel takes for a reading: a finite number (or a
// numeric string, as the original's float() read it) within [Min, Max].
type Range struct {
	Min, Max float64
	Unit     string
	// Bools: the channel is a state, and true/false read as 1/0.
	Bools bool
	// Whole: the channel is a count; fractions are rejected.
	Whole bool
}

// ranges are the plausible values per channel (docs/telemetry.md gives the
// reasons). A reading outside is a fault or a forgery, never weather: it is
// rejected before it can reach a fused value, a rule or the database.
var ranges = map[string]Range{
	// Sensor ranges of the parts on the original nodes (BME280/SHT3x:
	// −40…125 °C, 0…100 %RH, 300…1100 hPa).
	"temperature":      {Min: -40, Max: 125, Unit: "°C"},
	"soil_temperature": {Min: -40, Max: 125, Unit: "°C"},
	"humidity":         {Min: 0, Max: 100, Unit: "%"},
	"soil_moisture":    {Min: 0, Max: 100, Unit: "%"},
	"pressure":         {Min: 300, Max: 1100, Unit: "hPa"},
	// Outdoor air holds about 420 ppm; NDIR sensors report 0 while warming up
	// or failing. 40 000 ppm is the top of the widest common sensor (SCD41).
	"co2": {Min: 100, Max: 40000, Unit: "ppm"},
	// Direct sunlight is about 100 000 lx.
	"illuminance":    {Min: 0, Max: 200000, Unit: "lx"},
	"gas_resistance": {Min: 0, Max: 1e9, Unit: "Ω"},
	// States.
	"motion":     {Min: 0, Max: 1, Bools: true},
	"presence":   {Min: 0, Max: 1, Bools: true},
	"door":       {Min: 0, Max: 1, Bools: true},
	"contact":    {Min: 0, Max: 1, Bools: true},
	"water_leak": {Min: 0, Max: 1, Bools: true},
	"occupancy":  {Min: 0, Max: 1, Bools: true},
	"vibration":  {Min: 0, Max: 1e6, Bools: true},
	// Counts.
	"motion_count": {Min: 0, Max: 10000, Whole: true},
	"person_count": {Min: 0, Max: MaxPersons, Whole: true},
}

// MaxPersons is the largest person count taken for one zone.
const MaxPersons = 1000

// otherRange is every channel not listed (weight, battery, barcode, ...):
// passed through, never fused. The bound is not physics: it keeps values
// exact (below 2^53) and far from overflowing anything that adds them up.
var otherRange = Range{Min: -1e15, Max: 1e15, Bools: true}

// ChannelRange is the range of channel ch.
func ChannelRange(ch string) Range {
	if r, ok := ranges[ch]; ok {
		return r
	}
	return otherRange
}

// Channels lists the channels with a range of their own.
func Channels() map[string]Range {
	out := make(map[string]Range, len(ranges))
	for k, v := range ranges {
		out[k] = v
	}
	return out
}

// Value reads one decoded JSON value as a reading of channel ch, or rejects
// it (NotANumber or OutOfRange).
func Value(ch string, v any) (float64, error) {
	r := ChannelRange(ch)
	accept := jsonnum.Strings
	if r.Bools {
		accept |= jsonnum.Bools
	}
	f, ok := jsonnum.Float(v, accept)
	if !ok {
		return 0, Rejectf(NotANumber, "%s: %s is not a finite number", ch, describe(v))
	}
	if f < r.Min || f > r.Max || (r.Whole && f != math.Trunc(f)) {
		return 0, Rejectf(OutOfRange, "%s: %s outside %s", ch, strconv.FormatFloat(f, 'g', -1, 64), r)
	}
	return f, nil
}

// String is the range as the documentation writes it: "100…40000 ppm".
func (r Range) String() string {
	s := strconv.FormatFloat(r.Min, 'g', -1, 64) + "…" + strconv.FormatFloat(r.Max, 'g', -1, 64)
	if r.Unit != "" {
		s += " " + r.Unit
	}
	if r.Whole {
		s += ", whole"
	}
	return s
}

// describe shows a rejected value briefly (a forged payload may be huge).
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 32 {
			x = x[:32] + "…"
		}
		return strconv.Quote(x)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return "a value"
}
