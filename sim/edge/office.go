package edge

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/topic"
)

// office is the simulated building: zone physics plus the devices that observe
// and act on it.
type office struct {
	cfg   Config
	clock clock.Clock
	bus   *bus.Client
	log   *slog.Logger

	mu      sync.Mutex
	layout  Layout
	zones   map[string]*Zone
	order   []string
	devices map[string]DeviceSpec
	rng     *rand.Rand
	booted  time.Time

	reportNow chan string // zone whose devices should report at once
}

func newOffice(cfg Config, layout Layout, c clock.Clock, b *bus.Client, log *slog.Logger) (*office, error) {
	o := &office{cfg: cfg, clock: c, bus: b, log: log, reportNow: make(chan string, 64)}
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
		zc := z
		zones[z.ID] = &zc
		order = append(order, z.ID)
	}
	devices := map[string]DeviceSpec{}
	for _, d := range layout.Devices {
		if _, ok := zones[d.Zone]; !ok {
			return fmt.Errorf("layout: device %q in unknown zone %q", d.ID, d.Zone)
		}
		if _, dup := devices[d.ID]; dup {
			return fmt.Errorf("layout: device %q twice", d.ID)
		}
		devices[d.ID] = d
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.layout, o.zones, o.order, o.devices = layout, zones, order, devices
	o.rng = rand.New(rand.NewPCG(o.cfg.Seed, 0x50f5))
	o.booted = o.clock.Now()
	return nil
}

// run drives physics, telemetry and heartbeats until ctx is done.
func (o *office) run(ctx context.Context) error {
	physics := o.clock.NewTicker(o.cfg.PhysicsStep)
	defer physics.Stop()
	report := o.clock.NewTicker(o.cfg.ReportInterval)
	defer report.Stop()
	heartbeat := o.clock.NewTicker(o.cfg.HeartbeatInterval)
	defer heartbeat.Stop()

	o.publishHeartbeats(ctx)
	o.publishReadings(ctx, "")
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-physics.C():
			o.step(o.cfg.PhysicsStep)
		case <-report.C():
			o.publishReadings(ctx, "")
		case zone := <-o.reportNow:
			o.publishReadings(ctx, zone)
		case <-heartbeat.C():
			o.publishHeartbeats(ctx)
		}
	}
}

func (o *office) step(dt time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range o.order {
		o.zones[id].step(dt, o.rng)
	}
}

// message is one MQTT publication.
type message struct {
	topic   string
	payload any
}

// publishReadings publishes every sensor channel of every device (or only those
// in zone, when given) in the original format {"value": v}.
func (o *office) publishReadings(ctx context.Context, zone string) {
	for _, m := range o.readings(zone) {
		if err := o.bus.PublishJSON(ctx, m.topic, 0, false, m.payload); err != nil {
			o.log.Warn("publish failed", "topic", m.topic, "err", err)
		}
	}
}

func (o *office) readings(zone string) []message {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []message
	for _, id := range o.sortedDevices() {
		d := o.devices[id]
		if zone != "" && d.Zone != zone {
			continue
		}
		z := o.zones[d.Zone]
		switch d.Kind {
		case KindEnv:
			out = append(out,
				value(d, "temperature", round(z.Temperature+o.rng.NormFloat64()*0.05, 2)),
				value(d, "humidity", round(z.Humidity+o.rng.NormFloat64()*0.3, 1)),
				value(d, "co2", math.Round(z.CO2+o.rng.NormFloat64()*3)),
				value(d, "illuminance", math.Round(z.Illuminance+o.rng.NormFloat64()*5)),
			)
		case KindPresence:
			out = append(out, value(d, "presence", z.People > 0))
		case KindLight:
			out = append(out, message{"office/" + d.Zone + "/light/" + d.ID, map[string]any{"power_state": onOff(z.LightsOn)}})
		case KindHVAC:
			st := map[string]any{"power_state": onOff(z.HVACSetpoint != nil)}
			if z.HVACSetpoint != nil {
				st["mode"], st["target_temp"] = "auto", *z.HVACSetpoint
			}
			out = append(out, message{"office/" + d.Zone + "/hvac/" + d.ID, st})
		}
	}
	return out
}

func (o *office) publishHeartbeats(ctx context.Context) {
	o.mu.Lock()
	uptime := int(o.clock.Now().Sub(o.booted).Seconds())
	var msgs []message
	for _, id := range o.sortedDevices() {
		d := o.devices[id]
		msgs = append(msgs, message{topic.Heartbeat(d.Zone, d.ID), map[string]any{
			"status": "online", "uptime_sec": uptime, "device_id": d.ID, "device_type": string(d.Kind),
			"power_mode": "ALWAYS_ON", "capabilities": capabilities(d.Kind),
		}})
	}
	o.mu.Unlock()
	for _, m := range msgs {
		if err := o.bus.PublishJSON(ctx, m.topic, 0, false, m.payload); err != nil {
			o.log.Warn("heartbeat failed", "topic", m.topic, "err", err)
		}
	}
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
	select {
	case o.reportNow <- zone:
	default:
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
	}
	return nil
}

func value(d DeviceSpec, channel string, v any) message {
	return message{topic.Sensor(d.Zone, d.ID, channel), map[string]any{"value": v}}
}

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
