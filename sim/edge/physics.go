package edge

import (
	"math"
	"math/rand/v2"
	"time"
)

// Physical constants of the office air model.
const (
	outdoorCO2 = 420.0 // ppm
	// co2PerPerson is a seated adult's CO2 exhalation in m³/s (≈0.0052 L/s).
	co2PerPerson = 5.2e-6
	// Air changes per hour through the building envelope, and with a window open.
	achClosed = 0.5
	achWindow = 6.0
	// heatPerPerson warms a room by this many °C per hour per person per 100 m³
	// when HVAC does not compensate.
	heatPerPerson = 0.6
)

// Zone is the physical state of one room.
type Zone struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	VolumeM3    float64 `json:"volume_m3"`
	People      int     `json:"people"`
	CO2         float64 `json:"co2"`
	Temperature float64 `json:"temperature"`
	Humidity    float64 `json:"humidity"`
	Illuminance float64 `json:"illuminance"`
	WindowOpen  bool    `json:"window_open"`
	// HVACSetpoint is the temperature the air conditioning pulls towards; nil is off.
	HVACSetpoint *float64 `json:"hvac_setpoint"`
	LightsOn     bool     `json:"lights_on"`
}

// step advances the zone by dt of simulated time. rng adds small process noise
// so runs with the same seed are reproducible.
func (z *Zone) step(dt time.Duration, rng *rand.Rand) {
	s := dt.Seconds()
	ach := achClosed
	if z.WindowOpen {
		ach = achWindow
	}
	vol := math.Max(z.VolumeM3, 1)

	// Well-mixed room: generation by occupants, exchange with outdoor air.
	gen := float64(z.People) * co2PerPerson * 1e6 / vol // ppm/s
	z.CO2 += (gen - ach/3600*(z.CO2-outdoorCO2)) * s
	z.CO2 = math.Max(z.CO2, outdoorCO2)

	// Temperature: occupants warm the room; HVAC pulls to its set-point with a
	// 15-minute time constant; an open window leaks towards 15 °C outside.
	heat := float64(z.People) * heatPerPerson * (100 / vol) / 3600
	z.Temperature += heat * s
	if z.HVACSetpoint != nil {
		z.Temperature += (*z.HVACSetpoint - z.Temperature) * (1 - math.Exp(-s/900))
	}
	if z.WindowOpen {
		z.Temperature += (15 - z.Temperature) * (1 - math.Exp(-s/3600))
	}
	z.Temperature += rng.NormFloat64() * 0.005 * math.Sqrt(s)

	// Humidity drifts slowly around its value; people add a little moisture.
	z.Humidity += float64(z.People)*0.02/3600*s*(100/vol) + rng.NormFloat64()*0.02*math.Sqrt(s)
	z.Humidity = math.Min(math.Max(z.Humidity, 5), 95)

	if z.LightsOn {
		z.Illuminance = 500
	} else {
		z.Illuminance = 50
	}
}
