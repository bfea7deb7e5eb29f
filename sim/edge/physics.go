package edge

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/somsgo/soms/sim/scene"
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
	// (air plus the furniture and walls that soak most of it up).
	heatPerPerson = 0.35
	// The building's background heating holds an empty, closed room near
	// buildingBaseC, moving buildingOutsideGain °C per °C of outside
	// temperature away from 15 °C, with time constant envelopeTau.
	buildingBaseC       = 21.0
	buildingOutsideGain = 0.2
	envelopeTau         = 4 * time.Hour
	// Lights give this much illuminance on the desks, daylight comes on top.
	lightsLux = 500.0
	darkLux   = 5.0
)

// Zone is the physical state of one room.
type Zone struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	VolumeM3 float64 `json:"volume_m3"`
	// People is the number of people in the zone's scene (read-only here:
	// PATCH people or the scene routes change it).
	People      int     `json:"people"`
	CO2         float64 `json:"co2"`
	Temperature float64 `json:"temperature"`
	Humidity    float64 `json:"humidity"`
	Illuminance float64 `json:"illuminance"`
	WindowOpen  bool    `json:"window_open"`
	// HVACSetpoint is the temperature the air conditioning pulls towards; nil is off.
	HVACSetpoint *float64 `json:"hvac_setpoint"`
	LightsOn     bool     `json:"lights_on"`
	// DaylightLux is the daylight on the desks at noon under a clear sky.
	DaylightLux float64 `json:"daylight_lux"`
	// Furniture is drawn by the virtual camera.
	Furniture []scene.Item `json:"furniture,omitempty"`
}

// weather is what the room exchanges with at one instant.
type weather struct {
	OutsideC        float64
	OutsideHumidity float64
	// Daylight is the fraction of clear-noon daylight reaching the windows.
	Daylight float64
}

// at evaluates the outside conditions at simulated time t (local time of t).
func (o Outside) at(t time.Time) weather {
	h := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
	// Daily temperature: a cosine with its maximum at 14:00 and minimum at
	// 02:00, flattened so the coldest hour is near dawn.
	c := o.MeanC + o.AmplitudeC*math.Cos((h-14)/24*2*math.Pi)
	if o.OverrideC != nil {
		c = *o.OverrideC
	}
	w := weather{OutsideC: c, OutsideHumidity: o.Humidity}
	if h > o.SunriseH && h < o.SunsetH {
		sun := math.Sin(math.Pi * (h - o.SunriseH) / (o.SunsetH - o.SunriseH))
		w.Daylight = sun * (1 - 0.8*clamp(o.Cloud, 0, 1))
	}
	return w
}

// step advances the zone by dt of simulated time. rng adds small process noise
// so runs with the same seed are reproducible.
func (z *Zone) step(dt time.Duration, w weather, rng *rand.Rand) {
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

	// Temperature: occupants warm the room; the envelope pulls towards the
	// heated building's base; HVAC pulls to its set-point with a 15-minute
	// time constant; an open window leaks towards the outside air.
	heat := float64(z.People) * heatPerPerson * (100 / vol) / 3600
	z.Temperature += heat * s
	base := buildingBaseC + buildingOutsideGain*(w.OutsideC-15)
	z.Temperature += (base - z.Temperature) * (1 - math.Exp(-s/envelopeTau.Seconds()))
	if z.HVACSetpoint != nil {
		z.Temperature += (*z.HVACSetpoint - z.Temperature) * (1 - math.Exp(-s/900))
	}
	if z.WindowOpen {
		z.Temperature += (w.OutsideC - z.Temperature) * (1 - math.Exp(-s/3600))
		z.Humidity += (w.OutsideHumidity - z.Humidity) * (1 - math.Exp(-s/1800))
	}
	z.Temperature += rng.NormFloat64() * 0.005 * math.Sqrt(s)

	// Humidity drifts slowly around its value; people add a little moisture.
	z.Humidity += float64(z.People)*0.02/3600*s*(100/vol) + rng.NormFloat64()*0.02*math.Sqrt(s)
	z.Humidity = clamp(z.Humidity, 5, 95)

	z.Illuminance = darkLux + z.DaylightLux*w.Daylight
	if z.LightsOn {
		z.Illuminance += lightsLux
	}
}

// ramp moves one zone quantity linearly to a target over simulated time,
// overriding the physics for that quantity while it runs.
type ramp struct {
	Zone    string    `json:"zone"`
	Channel string    `json:"channel"`
	From    float64   `json:"from"`
	To      float64   `json:"to"`
	Start   time.Time `json:"start"`
	Over    Duration  `json:"over"`
}

// rampChannels are the zone quantities a ramp may drive.
var rampChannels = map[string]func(z *Zone) *float64{
	"co2":         func(z *Zone) *float64 { return &z.CO2 },
	"temperature": func(z *Zone) *float64 { return &z.Temperature },
	"humidity":    func(z *Zone) *float64 { return &z.Humidity },
}

// apply sets the ramped value at now and reports whether the ramp is done.
func (r ramp) apply(z *Zone, now time.Time) bool {
	frac := 1.0
	if over := time.Duration(r.Over); over > 0 {
		frac = clamp(float64(now.Sub(r.Start))/float64(over), 0, 1)
	}
	*rampChannels[r.Channel](z) = r.From + (r.To-r.From)*frac
	return frac >= 1
}
