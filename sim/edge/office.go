package edge

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/scene"
)

// publisher is the part of the MQTT client the office needs; tests record.
type publisher interface {
	PublishJSON(ctx context.Context, topic string, qos byte, retain bool, v any) error
}

// office is the simulated building: zone physics plus the devices that observe
// and act on it, and the scene (who is where) that drives occupancy.
type office struct {
	cfg   Config
	clock clock.Clock
	// link is a device's own MQTT connection (nil: nothing is published;
	// tests read the messages instead). Each device speaks as itself, as a
	// real one does: the broker lets it publish only its own topics.
	link func(device string) publisher
	// scenes publishes the retained scene topics (needs the MQTT user sim).
	scenes publisher
	log    *slog.Logger

	mu       sync.Mutex
	layout   Layout
	zones    map[string]*Zone
	order    []string
	devices  map[string]DeviceSpec
	faults   map[string]*Fault
	scene    map[string]*scene.Zone
	nextID   map[string]int
	sceneSeq uint64
	doorOpen map[string]time.Time // zone → door contact open until
	ramps    []ramp
	outside  Outside
	hubs     map[string]*hub
	shelves  map[string]*shelf
	rng      *rand.Rand            // layout-wide draws (tests)
	rngs     map[string]*rand.Rand // per device and zone: see rngFor
	peopleRn *rand.Rand            // generated people (independent of report timing)
	booted   time.Time

	reportNow chan string     // zone whose devices should report at once
	sceneOut  chan scene.Zone // scenes to publish, in order
	callIn    chan toolCall   // tool calls for the run loop to answer

	// While scenes or report requests wait for the run loop the clock is
	// held, so they go out at the simulated instant they were made.
	pendMu  sync.Mutex
	pending int
	hold    *clock.Hold
	drained chan struct{} // closed when pending drops to 0
	looping atomic.Bool   // run is taking the queue
}

func newOffice(cfg Config, layout Layout, c clock.Clock, log *slog.Logger) (*office, error) {
	o := &office{cfg: cfg, clock: c, log: log, reportNow: make(chan string, 64), sceneOut: make(chan scene.Zone, 1024), callIn: make(chan toolCall, 256), hold: clock.NewHold(c)}
	o.hold.Release()
	if err := o.load(layout); err != nil {
		return nil, err
	}
	return o, nil
}

// load replaces the office state with layout.
func (o *office) load(layout Layout) error {
	zones := map[string]*Zone{}
	var order []string
	for _, z := range layout.Zones {
		if z.ID == "" {
			return fmt.Errorf("layout: zone without id")
		}
		if _, dup := zones[z.ID]; dup {
			return fmt.Errorf("layout: zone %q twice", z.ID)
		}
		if z.People < 0 || z.People > maxPeople {
			return fmt.Errorf("layout: zone %q: people must be 0..%d", z.ID, maxPeople)
		}
		zc := z
		zc.Furniture = slices.Clone(z.Furniture)
		zones[z.ID] = &zc
		order = append(order, z.ID)
	}
	devices := map[string]DeviceSpec{}
	hubs := map[string]*hub{}
	shelves := map[string]*shelf{}
	for _, d := range layout.Devices {
		if _, ok := zones[d.Zone]; !ok {
			return fmt.Errorf("layout: device %q in unknown zone %q", d.ID, d.Zone)
		}
		if _, dup := devices[d.ID]; dup {
			return fmt.Errorf("layout: device %q twice", d.ID)
		}
		switch d.Kind {
		case KindSwarmHub:
			h, err := newHub(d)
			if err != nil {
				return fmt.Errorf("layout: %w", err)
			}
			hubs[d.ID] = h
		case KindShelf:
			shelves[d.ID] = newShelf(d.Shelf)
		}
		devices[d.ID] = d
	}
	outside := DefaultOutside()
	if layout.Outside != nil {
		outside = *layout.Outside
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.layout, o.zones, o.order, o.devices = layout, zones, order, devices
	o.hubs, o.shelves, o.outside = hubs, shelves, outside
	o.faults, o.ramps, o.doorOpen = map[string]*Fault{}, nil, map[string]time.Time{}
	o.rng = rand.New(rand.NewPCG(o.cfg.Seed, 0x50f5))
	o.rngs = map[string]*rand.Rand{}
	o.peopleRn = rand.New(rand.NewPCG(o.cfg.Seed, 0x9e0))
	o.booted = o.clock.Now()
	o.scene, o.nextID = map[string]*scene.Zone{}, map[string]int{}
	for _, id := range order {
		z := zones[id]
		o.scene[id] = &scene.Zone{Zone: id, People: []scene.Person{}, Furniture: z.Furniture}
		o.setCountLocked(id, z.People)
	}
	for _, h := range hubs {
		h.boot(o.booted)
	}
	return nil
}

// run drives physics, telemetry, the swarm and heartbeats, and answers tool
// calls, until ctx is done. One work timer paces them all: at each instant,
// after the scenes and report requests made before it, the tool calls due
// are answered (in the order they came) and then the jobs run in a fixed
// order — physics, reports, the swarm, heartbeats — and the clock waits
// until their messages are out. The same seed and clock give the same
// readings at the same simulated instants (separate tickers would fire in a
// random order, and let the clock go on before their messages were
// published).
func (o *office) run(ctx context.Context) error {
	jobs := []*job{
		{every: o.cfg.PhysicsStep, catchUp: maxPhysicsCatchUp, do: func() { o.step(o.cfg.PhysicsStep) }},
		{every: o.cfg.ReportInterval, do: func() { o.publishReadings(ctx, "") }},
		{every: o.cfg.SwarmTick, do: func() { o.publish(ctx, o.tickSwarm()) }},
		{every: o.cfg.HeartbeatInterval, do: func() { o.publishHeartbeats(ctx) }},
	}
	jobs = slices.DeleteFunc(jobs, func(j *job) bool { return j.every <= 0 })
	start := o.clock.Now()
	for _, j := range jobs {
		j.next = start.Add(j.every)
	}
	o.looping.Store(true)
	defer o.looping.Store(false)
	o.publishAllScenes()
	o.drainRequests(ctx)
	o.publishHeartbeats(ctx)
	o.publishReadings(ctx, "")
	o.publish(ctx, o.tickSwarm())
	var calls []toolCall // by due time, then arrival
	w := clock.NewWorkTimer(o.clock, nextDue(jobs, calls).Sub(start))
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.C():
			o.drainRequests(ctx)
			calls = o.takeCalls(calls)
			now := o.clock.Now()
			calls = o.answerCalls(ctx, calls, now)
			o.drainRequests(ctx) // the reports the calls asked for
			for _, j := range jobs {
				j.run(now)
			}
			clock.ResetAt(o.clock, w, nextDue(jobs, calls))
			w.Done()
		case c := <-o.callIn:
			calls = addCall(calls, c)
			// Re-armed at an instant, not after a duration from a Now that
			// the next step may have passed meanwhile (the call holds only
			// the step it came in at), and before the call stops holding:
			// a call due now fires at once, one due later at its instant.
			clock.ResetAt(o.clock, w, nextDue(jobs, calls))
			o.queued(-1)
		case zone := <-o.reportNow:
			o.publishReadings(ctx, zone)
			o.queued(-1)
		case sc := <-o.sceneOut:
			o.publishScene(ctx, sc)
			o.queued(-1)
		}
	}
}

// maxPhysicsCatchUp bounds the physics steps run at once after a jump of the
// clock; beyond, the office takes up from the new time.
const maxPhysicsCatchUp = 360

// job is periodic work of the run loop.
type job struct {
	every time.Duration
	next  time.Time
	// catchUp is how many missed runs are made up after a long step (0:
	// none, run once).
	catchUp int
	do      func()
}

// run does the job if due at now.
func (j *job) run(now time.Time) {
	for n := 0; !j.next.After(now); n++ {
		if n > j.catchUp {
			j.next = now.Add(j.every - now.Sub(j.next)%j.every) // keep the phase
			return
		}
		j.do()
		j.next = j.next.Add(j.every)
	}
	if j.next.Sub(now) > j.every { // the clock went back
		j.next = now.Add(j.every)
	}
}

// nextDue is when the next job or tool call is due.
func nextDue(jobs []*job, calls []toolCall) time.Time {
	t := jobs[0].next
	for _, j := range jobs[1:] {
		if j.next.Before(t) {
			t = j.next
		}
	}
	if len(calls) > 0 && calls[0].due.Before(t) {
		t = calls[0].due
	}
	return t
}

// drainRequests publishes the queued scenes, then the requested reports.
func (o *office) drainRequests(ctx context.Context) {
	o.drainScenes(ctx)
	for {
		select {
		case zone := <-o.reportNow:
			o.publishReadings(ctx, zone)
			o.queued(-1)
		default:
			return
		}
	}
}

// queued counts the scenes and report requests waiting for the run loop
// (n < 0: handled) and holds the clock while any wait.
func (o *office) queued(n int) {
	o.pendMu.Lock()
	defer o.pendMu.Unlock()
	was := o.pending
	o.pending = max(0, o.pending+n)
	switch {
	case was == 0 && o.pending > 0:
		o.hold.Resume()
	case was > 0 && o.pending == 0:
		o.hold.Release()
		if o.drained != nil {
			close(o.drained)
			o.drained = nil
		}
	}
}

// waitQueued returns once nothing is queued for the run loop (or ctx ends).
func (o *office) waitQueued(ctx context.Context) {
	if !o.looping.Load() {
		return // nothing takes the queue (tests that drive the office directly)
	}
	o.pendMu.Lock()
	if o.pending == 0 {
		o.pendMu.Unlock()
		return
	}
	if o.drained == nil {
		o.drained = make(chan struct{})
	}
	ch := o.drained
	o.pendMu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// rngFor is the random stream of one device or zone (key), seeded from the
// run's seed and the key: what one device draws does not depend on what the
// others drew before it, so the order two things happen in at one simulated
// instant does not change the run. Callers hold mu.
func (o *office) rngFor(key string) *rand.Rand {
	r, ok := o.rngs[key]
	if !ok {
		h := fnv.New64a()
		h.Write([]byte(key))
		r = rand.New(rand.NewPCG(o.cfg.Seed, h.Sum64()))
		o.rngs[key] = r
	}
	return r
}

func (o *office) step(dt time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clock.Now()
	w := o.outside.at(now)
	for _, id := range o.order {
		o.zones[id].step(dt, w, o.rngFor("zone:"+id))
	}
	o.applyRampsLocked(now)
	for _, id := range slices.Sorted(maps.Keys(o.shelves)) { // sorted: the same seed, the same run
		o.shelves[id].step(dt, o.zones[o.devices[id].Zone].People, o.rngFor("physics:"+id))
	}
}

func (o *office) applyRampsLocked(now time.Time) {
	kept := o.ramps[:0]
	for _, r := range o.ramps {
		if z, ok := o.zones[r.Zone]; ok && !r.apply(z, now) {
			kept = append(kept, r)
		}
	}
	o.ramps = kept
}

// message is one MQTT publication by a device.
type message struct {
	device  string
	topic   string
	payload any
}

// publish sends each message through its device's own connection and
// returns once the broker has them all: on each connection the last goes at
// QoS 1 (the broker keeps a connection's messages in order). The edge
// acknowledges clock steps on another connection (its own), so only a
// confirmed hand-off makes sure a step's readings reach their subscribers
// before the step's acknowledgement lets the clock go on. The connections
// are confirmed in parallel.
func (o *office) publish(ctx context.Context, msgs []message) {
	if o.link == nil || len(msgs) == 0 {
		return
	}
	byLink := map[publisher][]message{}
	var order []publisher
	for _, m := range msgs {
		l := o.link(m.device)
		if l == nil {
			o.log.Warn("no MQTT connection for device", "device", m.device, "topic", m.topic)
			continue
		}
		if _, ok := byLink[l]; !ok {
			order = append(order, l)
		}
		byLink[l] = append(byLink[l], m)
	}
	var wg sync.WaitGroup
	for _, l := range order {
		wg.Add(1)
		go func(l publisher, msgs []message) {
			defer wg.Done()
			for i, m := range msgs {
				qos := byte(0)
				if i == len(msgs)-1 {
					qos = 1
				}
				if err := l.PublishJSON(ctx, m.topic, qos, false, m.payload); err != nil {
					o.log.Warn("publish failed", "device", m.device, "topic", m.topic, "err", err)
				}
			}
		}(l, byLink[l])
	}
	wg.Wait()
}

// publishReadings publishes every sensor channel of every device (or only those
// in zone, when given) in the original format {"value": v}. A zone's report
// was asked for by a control request, which is answered once the broker has
// it (afterQueued): before the clock's next step can reach anyone.
func (o *office) publishReadings(ctx context.Context, zone string) {
	o.publish(ctx, o.readings(zone))
}

// envChannels are an environment node's channels by default.
var envChannels = []string{"temperature", "humidity", "co2", "illuminance"}

func (z *Zone) truth(channel string) float64 {
	switch channel {
	case "temperature":
		return z.Temperature
	case "humidity":
		return z.Humidity
	case "co2":
		return z.CO2
	case "illuminance":
		return z.Illuminance
	}
	return 0
}

func roundChannel(channel string, v float64) any {
	switch channel {
	case "temperature":
		return round(v, 2)
	case "humidity":
		return round(v, 1)
	case "co2", "illuminance":
		return math.Max(0, math.Round(v))
	}
	return round(v, 2)
}

func (o *office) readings(zone string) []message {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clock.Now()
	var out []message
	for _, id := range o.sortedDevices() {
		d := o.devices[id]
		if zone != "" && d.Zone != zone {
			continue
		}
		f := o.faults[d.ID]
		if f.offline() {
			continue
		}
		z := o.zones[d.Zone]
		switch d.Kind {
		case KindEnv:
			chans := d.Channels
			if len(chans) == 0 {
				chans = envChannels
			}
			bulk := map[string]any{}
			for _, ch := range chans {
				v := roundChannel(ch, f.measure(ch, z.truth(ch), now, o.rngFor(d.ID)))
				if f.dropped(o.rngFor(d.ID)) {
					continue
				}
				if d.Bulk {
					bulk[ch] = v
				} else {
					out = append(out, value(d, ch, v))
				}
			}
			if d.Bulk && len(bulk) > 0 {
				out = append(out, message{d.ID, topic.Sensor(d.Zone, d.ID, "status"), bulk})
			}
		case KindPresence:
			if f.dropped(o.rngFor(d.ID)) {
				continue
			}
			present := z.People > 0
			if v, ok := f.override("presence"); ok {
				present = v != 0
			}
			out = append(out, value(d, "presence", present))
		case KindLight:
			out = append(out, message{d.ID, "office/" + d.Zone + "/light/" + d.ID, map[string]any{"power_state": powerState(z.LightsOn)}})
		case KindHVAC:
			st := map[string]any{"power_state": powerState(z.HVACSetpoint != nil)}
			if z.HVACSetpoint != nil {
				st["mode"], st["target_temp"] = "auto", *z.HVACSetpoint
			}
			out = append(out, message{d.ID, "office/" + d.Zone + "/hvac/" + d.ID, st})
		case KindShelf:
			out = append(out, o.shelves[d.ID].readings(d, f, now, o.rngFor(d.ID))...)
		case KindHydro:
			out = append(out, message{d.ID, d.Prefix + "/status", map[string]any{"ph": round(7.5+0.001*now.Sub(o.booted).Seconds()/2, 3), "ec": 1.2}})
		case KindAqua:
			out = append(out, message{d.ID, d.Prefix + "/status", map[string]any{"temp": 25.0, "lights": "on"}})
		}
	}
	return out
}

func (f *Fault) override(channel string) (float64, bool) {
	if f == nil {
		return 0, false
	}
	v, ok := f.Override[channel]
	return v, ok
}

func (o *office) publishHeartbeats(ctx context.Context) {
	o.mu.Lock()
	now := o.clock.Now()
	uptime := int(now.Sub(o.booted).Seconds())
	var msgs []message
	for _, id := range o.sortedDevices() {
		d := o.devices[id]
		if o.faults[d.ID].offline() {
			continue
		}
		if h, ok := o.hubs[d.ID]; ok {
			msgs = append(msgs, message{d.ID, topic.Heartbeat(d.Zone, d.ID), h.heartbeat(now, o.faults)})
			continue
		}
		msgs = append(msgs, message{d.ID, topic.Heartbeat(d.Zone, d.ID), map[string]any{
			"status": "online", "uptime_sec": uptime, "device_id": d.ID, "device_type": string(d.Kind),
			"power_mode": PowerAlwaysOn, "capabilities": capabilities(d.Kind),
		}})
	}
	o.mu.Unlock()
	o.publish(ctx, msgs)
}

func (o *office) sortedDevices() []string {
	ids := make([]string, 0, len(o.devices))
	for id := range o.devices {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// requestReport asks the run loop to publish zone's readings now, as sensors do
// on a significant change.
func (o *office) requestReport(zone string) {
	o.queued(1) // before the loop can take it
	select {
	case o.reportNow <- zone:
	default:
		o.queued(-1)
	}
}

func capabilities(k DeviceKind) []string {
	switch k {
	case KindEnv:
		return []string{"temperature", "humidity", "co2", "illuminance"}
	case KindPresence:
		return []string{"presence"}
	case KindWindow:
		return []string{"open", "close"}
	case KindLight:
		return []string{"turn_on", "turn_off"}
	case KindHVAC:
		return []string{"set_temperature", "turn_off"}
	case KindSwarmHub:
		return []string{"leaf_command", "get_swarm_status"}
	case KindShelf:
		return []string{"weight", "tare", "calibrate"}
	case KindHydro:
		return []string{"dose_ph_down"}
	case KindAqua:
		return []string{"set_lights", "feed_fish"}
	}
	return nil
}

func value(d DeviceSpec, channel string, v any) message {
	return message{d.ID, topic.Sensor(d.Zone, d.ID, channel), map[string]any{"value": v}}
}

// powerState is a device's power_state word.
func powerState(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
