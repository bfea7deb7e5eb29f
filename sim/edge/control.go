package edge

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/scene"
)

var errNotFound = errors.New("not found")

// routes is the edge's control API, used by scenarios and acceptance steps to
// set the scene. Outcomes are observed through product interfaces, not here.
func (o *office) routes(root chi.Router) {
	root.Group(func(r chi.Router) { o.controlRoutes(r.With(o.afterQueued)) })
}

// afterQueued answers a control request only once the scenes and reports it
// queued are published: a scenario step made between two clock steps thus
// has its messages out at that simulated instant, in every run. (The answer
// completes when the handler returns, so waiting here delays it.)
func (o *office) afterQueued(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		o.waitQueued(ctx)
	})
}

func (o *office) controlRoutes(r chi.Router) {
	r.Get("/zones", o.listZones)
	r.Get("/zones/{id}", o.getZone)
	r.Patch("/zones/{id}", o.patchZone)
	r.Get("/zones/{id}/scene", o.getScene)
	r.Put("/zones/{id}/scene", o.putScene)
	r.Post("/zones/{id}/people", o.postPerson)
	r.Patch("/zones/{id}/people/{pid}", o.patchPersonRoute)
	r.Delete("/zones/{id}/people/{pid}", o.deletePerson)
	r.Post("/zones/{id}/ramps", o.postRamp)
	r.Delete("/zones/{id}/ramps", o.deleteRamps)
	r.Get("/ramps", o.listRamps)
	r.Get("/outside", o.getOutside)
	r.Patch("/outside", o.patchOutside)
	r.Get("/devices", o.listDevices)
	r.Get("/devices/{id}/fault", o.getFault)
	r.Put("/devices/{id}/fault", o.putFault)
	r.Delete("/devices/{id}/fault", o.deleteFault)
	r.Get("/devices/{id}/shelf", o.getShelf)
	r.Patch("/devices/{id}/shelf", o.patchShelf)
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
// People sets the head count: generated people are added to, or the most
// recently added removed from, the zone's scene.
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
	DaylightLux  *float64 `json:"daylight_lux"`
}

func (p ZonePatch) validate() map[string]string {
	bad := map[string]string{}
	check := func(name string, v *float64, lo, hi float64) {
		if v != nil && (*v < lo || *v > hi) {
			bad[name] = "out of range"
		}
	}
	if p.People != nil && (*p.People < 0 || *p.People > maxPeople) {
		bad["people"] = "must be between 0 and 500"
	}
	check("co2", p.CO2, 300, 10000)
	check("temperature", p.Temperature, -20, 60)
	check("humidity", p.Humidity, 0, 100)
	check("illuminance", p.Illuminance, 0, 100000)
	check("hvac_setpoint", p.HVACSetpoint, 10, 35)
	check("daylight_lux", p.DaylightLux, 0, 100000)
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
	var out Zone
	if ok {
		apply(z, p)
		if p.People != nil {
			o.setCountLocked(id, *p.People)
		}
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
	if p.DaylightLux != nil {
		z.DaylightLux = *p.DaylightLux
	}
}

// sceneError answers a scene mutation error.
func sceneError(w http.ResponseWriter, err error, what string) {
	if errors.Is(err, errNotFound) {
		httpx.Error(w, http.StatusNotFound, what+" not found")
		return
	}
	httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
}

func (o *office) getScene(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	o.mu.Lock()
	sc, ok := o.scene[id]
	var out scene.Zone
	if ok {
		out = *sc
		out.People = slices.Clone(sc.People)
	}
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "zone "+id+" not found")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// ScenePut replaces a zone's people (and optionally its furniture).
type ScenePut struct {
	People    []scene.Person `json:"people"`
	Furniture []scene.Item   `json:"furniture"`
}

func (o *office) putScene(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var in ScenePut
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	out, err := o.replaceScene(id, in.People, in.Furniture)
	if err != nil {
		sceneError(w, err, "zone "+id)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (o *office) postPerson(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var p scene.Person
	if r.ContentLength != 0 && !httpx.DecodeOrError(w, r, &p) {
		return
	}
	out, err := o.addPerson(id, p)
	if err != nil {
		sceneError(w, err, "zone "+id)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
}

// PersonPatch changes one person; absent fields are left alone.
type PersonPatch struct {
	Posture *scene.Posture `json:"posture"`
	X       *float64       `json:"x"`
	Y       *float64       `json:"y"`
	Motion  *float64       `json:"motion"`
}

func (o *office) patchPersonRoute(w http.ResponseWriter, r *http.Request) {
	var p PersonPatch
	if !httpx.DecodeOrError(w, r, &p) {
		return
	}
	out, err := o.patchPerson(chi.URLParam(r, "id"), chi.URLParam(r, "pid"), p)
	if err != nil {
		sceneError(w, err, "person")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (o *office) deletePerson(w http.ResponseWriter, r *http.Request) {
	if err := o.removePerson(chi.URLParam(r, "id"), chi.URLParam(r, "pid")); err != nil {
		sceneError(w, err, "person")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// RampRequest moves a zone quantity linearly to To over simulated time Over,
// starting from From (default: the current value).
type RampRequest struct {
	Channel string   `json:"channel"`
	From    *float64 `json:"from"`
	To      float64  `json:"to"`
	Over    Duration `json:"over"`
}

func (o *office) postRamp(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var in RampRequest
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	bad := map[string]string{}
	if _, ok := rampChannels[in.Channel]; !ok {
		bad["channel"] = "must be co2, temperature or humidity"
	}
	if in.Over < 0 || time.Duration(in.Over) > 7*24*time.Hour {
		bad["over"] = "must be between 0s and 168h"
	}
	if len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	o.mu.Lock()
	z, ok := o.zones[id]
	var rp ramp
	if ok {
		from := z.truth(in.Channel)
		if in.From != nil {
			from = *in.From
		}
		rp = ramp{Zone: id, Channel: in.Channel, From: from, To: in.To, Start: o.clock.Now(), Over: in.Over}
		o.ramps = slices.DeleteFunc(o.ramps, func(x ramp) bool { return x.Zone == id && x.Channel == in.Channel })
		if !rp.apply(z, rp.Start) {
			o.ramps = append(o.ramps, rp)
		}
	}
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "zone "+id+" not found")
		return
	}
	o.requestReport(id)
	httpx.WriteJSON(w, http.StatusCreated, rp)
}

func (o *office) deleteRamps(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	o.mu.Lock()
	o.ramps = slices.DeleteFunc(o.ramps, func(x ramp) bool { return x.Zone == id })
	o.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (o *office) listRamps(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	out := append([]ramp{}, o.ramps...)
	o.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, out)
}

// OutsideView is the weather and what it gives now.
type OutsideView struct {
	Outside
	NowC     float64 `json:"now_c"`
	Daylight float64 `json:"daylight"`
}

func (o *office) outsideView() OutsideView {
	wx := o.outside.at(o.clock.Now())
	return OutsideView{Outside: o.outside, NowC: round(wx.OutsideC, 2), Daylight: round(wx.Daylight, 3)}
}

func (o *office) getOutside(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	v := o.outsideView()
	o.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, v)
}

// OutsidePatch changes the weather; ClearOverride returns to the daily cycle.
type OutsidePatch struct {
	MeanC         *float64 `json:"mean_c"`
	AmplitudeC    *float64 `json:"amplitude_c"`
	Cloud         *float64 `json:"cloud"`
	Humidity      *float64 `json:"humidity"`
	OverrideC     *float64 `json:"override_c"`
	ClearOverride bool     `json:"clear_override"`
}

func (o *office) patchOutside(w http.ResponseWriter, r *http.Request) {
	var p OutsidePatch
	if !httpx.DecodeOrError(w, r, &p) {
		return
	}
	bad := map[string]string{}
	for name, v := range map[string]*float64{"mean_c": p.MeanC, "override_c": p.OverrideC} {
		if v != nil && (*v < -40 || *v > 50) {
			bad[name] = "must be between -40 and 50"
		}
	}
	if p.AmplitudeC != nil && (*p.AmplitudeC < 0 || *p.AmplitudeC > 20) {
		bad["amplitude_c"] = "must be between 0 and 20"
	}
	if p.Cloud != nil && (*p.Cloud < 0 || *p.Cloud > 1) {
		bad["cloud"] = "must be between 0 and 1"
	}
	if p.Humidity != nil && (*p.Humidity < 0 || *p.Humidity > 100) {
		bad["humidity"] = "must be between 0 and 100"
	}
	if len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	o.mu.Lock()
	set := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&o.outside.MeanC, p.MeanC)
	set(&o.outside.AmplitudeC, p.AmplitudeC)
	set(&o.outside.Cloud, p.Cloud)
	set(&o.outside.Humidity, p.Humidity)
	if p.OverrideC != nil {
		v := *p.OverrideC
		o.outside.OverrideC = &v
	}
	if p.ClearOverride {
		o.outside.OverrideC = nil
	}
	v := o.outsideView()
	o.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, v)
}

// DeviceView is a device with its current fault.
type DeviceView struct {
	DeviceSpec
	Fault *Fault `json:"fault,omitempty"`
}

func (o *office) listDevices(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	out := make([]DeviceView, 0, len(o.devices))
	for _, id := range o.sortedDevices() {
		out = append(out, DeviceView{DeviceSpec: o.devices[id], Fault: o.faults[id]})
	}
	o.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (o *office) getFault(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	o.mu.Lock()
	_, ok := o.agentLocked(id)
	f := o.faults[id]
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "device "+id+" not found")
		return
	}
	if f == nil {
		f = &Fault{}
	}
	httpx.WriteJSON(w, http.StatusOK, f)
}

// putFault sets what is wrong with a device (or a hub's leaf, hub.leaf).
func (o *office) putFault(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var f Fault
	if !httpx.DecodeOrError(w, r, &f) {
		return
	}
	if bad := f.validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	o.mu.Lock()
	dev, ok := o.agentLocked(id)
	if ok {
		f.Since = o.clock.Now()
		o.faults[id] = &f
	}
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "device "+id+" not found")
		return
	}
	o.log.Info("device fault set", "device", id, "offline", f.Offline, "dropout", f.Dropout, "tamper", f.Tamper, "override", f.Override)
	o.requestReport(dev.Zone)
	httpx.WriteJSON(w, http.StatusOK, f)
}

func (o *office) deleteFault(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	o.mu.Lock()
	dev, ok := o.agentLocked(id)
	delete(o.faults, id)
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "device "+id+" not found")
		return
	}
	o.requestReport(dev.Zone)
	w.WriteHeader(http.StatusNoContent)
}

// ShelfView is a weight shelf's state.
type ShelfView struct {
	ShelfSpec
	WeightG float64 `json:"weight_g"`
}

// ShelfPatch uses or restocks a shelf: take_g removes (someone takes beans),
// put_g adds (someone restocks), weight_g sets the weight; the rates change
// how fast it is consumed from now on. The shelf reports at once.
type ShelfPatch struct {
	TakeG          *float64 `json:"take_g"`
	PutG           *float64 `json:"put_g"`
	WeightG        *float64 `json:"weight_g"`
	RateGPerS      *float64 `json:"rate_g_per_s"`
	PerPersonGPerH *float64 `json:"per_person_g_per_h"`
}

const maxShelfG = 100000

func (p ShelfPatch) validate() map[string]string {
	bad := map[string]string{}
	for name, v := range map[string]*float64{"take_g": p.TakeG, "put_g": p.PutG, "weight_g": p.WeightG} {
		if v != nil && (*v < 0 || *v > maxShelfG) {
			bad[name] = "grams between 0 and 100000"
		}
	}
	if p.RateGPerS != nil && (*p.RateGPerS < 0 || *p.RateGPerS > 1000) {
		bad["rate_g_per_s"] = "between 0 and 1000"
	}
	if p.PerPersonGPerH != nil && (*p.PerPersonGPerH < 0 || *p.PerPersonGPerH > 100000) {
		bad["per_person_g_per_h"] = "between 0 and 100000"
	}
	return bad
}

// shelfLocked finds a weight shelf.
func (o *office) shelfLocked(id string) (*shelf, DeviceSpec, bool) {
	d, ok := o.devices[id]
	s := o.shelves[id]
	return s, d, ok && s != nil
}

func (o *office) getShelf(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	o.mu.Lock()
	s, _, ok := o.shelfLocked(id)
	var out ShelfView
	if ok {
		out = ShelfView{ShelfSpec: s.spec, WeightG: round(s.weight, 1)}
	}
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "weight shelf "+id+" not found")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (o *office) patchShelf(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var p ShelfPatch
	if !httpx.DecodeOrError(w, r, &p) {
		return
	}
	if bad := p.validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	o.mu.Lock()
	s, d, ok := o.shelfLocked(id)
	var out ShelfView
	if ok {
		if p.WeightG != nil {
			s.weight = *p.WeightG
		}
		if p.TakeG != nil {
			s.weight = max(s.spec.TareG, s.weight-*p.TakeG)
		}
		if p.PutG != nil {
			s.weight = min(maxShelfG, s.weight+*p.PutG)
		}
		if p.RateGPerS != nil {
			s.spec.RateGPerS = *p.RateGPerS
		}
		if p.PerPersonGPerH != nil {
			s.spec.PerPersonGPerH = *p.PerPersonGPerH
		}
		s.emptyFor = 0
		out = ShelfView{ShelfSpec: s.spec, WeightG: round(s.weight, 1)}
	}
	o.mu.Unlock()
	if !ok {
		httpx.Error(w, http.StatusNotFound, "weight shelf "+id+" not found")
		return
	}
	o.log.Info("shelf changed by control API", "device", id, "weight_g", out.WeightG, "rate_g_per_s", out.RateGPerS)
	o.requestReport(d.Zone)
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
