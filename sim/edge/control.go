package edge

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/httpx"
)

// routes is the edge's control API, used by scenarios and acceptance steps to
// set the scene. Outcomes are observed through product interfaces, not here.
func (o *office) routes(r chi.Router) {
	r.Get("/zones", o.listZones)
	r.Get("/zones/{id}", o.getZone)
	r.Patch("/zones/{id}", o.patchZone)
	r.Get("/devices", o.listDevices)
	r.Post("/reset", o.reset)
}

func (o *office) listZones(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	out := make([]Zone, 0, len(o.order))
	for _, id := range o.order {
		out = append(out, *o.zones[id])
	}
	o.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (o *office) getZone(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	o.mu.Lock()
	z, ok := o.zones[id]
	var out Zone
	if ok {
		out = *z
	}
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "zone "+id+" not found")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// ZonePatch changes a zone's conditions; absent fields are left alone.
type ZonePatch struct {
	People       *int     `json:"people"`
	CO2          *float64 `json:"co2"`
	Temperature  *float64 `json:"temperature"`
	Humidity     *float64 `json:"humidity"`
	Illuminance  *float64 `json:"illuminance"`
	WindowOpen   *bool    `json:"window_open"`
	LightsOn     *bool    `json:"lights_on"`
	HVACSetpoint *float64 `json:"hvac_setpoint"`
	HVACOff      bool     `json:"hvac_off"`
}

func (p ZonePatch) validate() map[string]string {
	bad := map[string]string{}
	check := func(name string, v *float64, lo, hi float64) {
		if v != nil && (*v < lo || *v > hi) {
			bad[name] = "out of range"
		}
	}
	if p.People != nil && (*p.People < 0 || *p.People > 500) {
		bad["people"] = "must be between 0 and 500"
	}
	check("co2", p.CO2, 300, 10000)
	check("temperature", p.Temperature, -20, 60)
	check("humidity", p.Humidity, 0, 100)
	check("illuminance", p.Illuminance, 0, 100000)
	check("hvac_setpoint", p.HVACSetpoint, 10, 35)
	return bad
}

func (o *office) patchZone(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var p ZonePatch
	if !httpx.DecodeOrError(w, r, &p) {
		return
	}
	if bad := p.validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	o.mu.Lock()
	z, ok := o.zones[id]
	if ok {
		apply(z, p)
	}
	var out Zone
	if ok {
		out = *z
	}
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "zone "+id+" not found")
		return
	}
	o.log.Info("zone changed by control API", "zone", id, "people", out.People, "co2", out.CO2, "temperature", out.Temperature)
	o.requestReport(id)
	httpx.WriteJSON(w, http.StatusOK, out)
}

func apply(z *Zone, p ZonePatch) {
	if p.People != nil {
		z.People = *p.People
	}
	if p.CO2 != nil {
		z.CO2 = *p.CO2
	}
	if p.Temperature != nil {
		z.Temperature = *p.Temperature
	}
	if p.Humidity != nil {
		z.Humidity = *p.Humidity
	}
	if p.Illuminance != nil {
		z.Illuminance = *p.Illuminance
	}
	if p.WindowOpen != nil {
		z.WindowOpen = *p.WindowOpen
	}
	if p.LightsOn != nil {
		z.LightsOn = *p.LightsOn
	}
	if p.HVACSetpoint != nil {
		v := *p.HVACSetpoint
		z.HVACSetpoint = &v
	}
	if p.HVACOff {
		z.HVACSetpoint = nil
	}
}

func (o *office) listDevices(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	out := make([]DeviceSpec, 0, len(o.devices))
	for _, d := range o.devices {
		out = append(out, d)
	}
	o.mu.Unlock()
	slices.SortFunc(out, func(a, b DeviceSpec) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (o *office) reset(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	layout := o.layout
	o.mu.Unlock()
	if err := o.load(layout); err != nil {
		httpx.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
