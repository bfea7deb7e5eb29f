package worldmodel

import (
	"strings"
	"time"

	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/topic"
)

// Bounds of the per-zone and per-device state (docs/brain.md, "Bounded
// state"). Zone ids, device ids and channel names come from the network; a
// flood of made-up ones must neither grow the model without limit nor slow
// the ingest of the office's own devices, so new ones beyond a bound are
// refused (and counted by the caller) while known ones always get through,
// and what goes quiet is forgotten.
const (
	// MaxZones bounds the zones; a message for a new zone beyond it is
	// refused (telemetry.ZoneLimit).
	MaxZones = 256
	// MaxZoneDevices bounds the devices (sensors, actuators, cameras) of one
	// zone; it also bounds the cost of fusing one channel.
	MaxZoneDevices = 256
	// MaxExtraChannels bounds a zone's passthrough channels (water_leak,
	// weight, ...; telemetry.ChannelLimit beyond).
	MaxExtraChannels = 64
	// DeviceTTL: a device silent this long is forgotten with its readings,
	// door, presence, actuator and camera state.
	DeviceTTL = time.Hour
	// ZoneTTL: a zone without a configured name that has heard nothing this
	// long, and has no device left, is forgotten.
	ZoneTTL = 24 * time.Hour
	// sweepEvery is how often (clock time) ingest sweeps expired state.
	sweepEvery = time.Minute
	// maxCooldown is the longest event cooldown: older cooldown entries no
	// longer matter.
	maxCooldown = sedentaryCooldown
)

// deviceOf is the device whose state a message keeps in its zone: the sensor,
// the actuator or the camera of a spatial summary; "" for zone-wide messages.
func deviceOf(o topic.Office) string {
	switch o.Kind {
	case topic.KindSensor, topic.KindSpatial, topic.KindHVAC, topic.KindLight, topic.KindCoffeeMachine:
		return o.DeviceID
	}
	return ""
}

// admitLocked returns the zone of msg, creating it, and records its device,
// unless that would pass a bound. u is the parsed update (a sensor update's
// passthrough channels are checked too). A refused message changes nothing.
func (m *Model) admitLocked(msg Message, u any, now time.Time) (*zone, error) {
	o := msg.Office
	z, ok := m.zones[o.Zone]
	if !ok && len(m.zones) >= MaxZones {
		return nil, telemetry.Rejectf(telemetry.ZoneLimit, "%s: the world model keeps %d zones", msg.Topic, MaxZones)
	}
	dev := deviceOf(o)
	if ok {
		if _, known := z.devices[dev]; dev != "" && !known && len(z.devices) >= MaxZoneDevices {
			return nil, telemetry.Rejectf(telemetry.DeviceLimit, "%s: zone %s keeps %d devices", msg.Topic, o.Zone, MaxZoneDevices)
		}
		if su, isSensor := u.(sensorUpdate); isSensor {
			extra := 0
			for _, r := range su.readings {
				if _, known := z.extra[r.Channel]; !known && isExtra(r.Channel) {
					extra++
				}
			}
			if extra > 0 && len(z.extra)+extra > MaxExtraChannels {
				return nil, telemetry.Rejectf(telemetry.ChannelLimit, "%s: zone %s keeps %d passthrough channels", msg.Topic, o.Zone, MaxExtraChannels)
			}
		}
	}
	if !ok {
		z = m.zoneLocked(o.Zone)
	}
	if dev != "" {
		z.devices[dev] = now
	}
	return z, nil
}

// isExtra reports whether a channel is passed through to the zone's extra
// values (applyChannelLocked's default).
func isExtra(ch string) bool {
	switch ch {
	case "presence", "motion", "vibration", "motion_count", "door", "contact":
		return false
	}
	return !analogChannels[ch]
}

// sweepLocked forgets silent devices and zones and stale cooldowns, at most
// once per sweepEvery.
func (m *Model) sweepLocked(now time.Time) {
	if now.Sub(m.lastSweep) < sweepEvery {
		return
	}
	m.lastSweep = now
	for id, z := range m.zones {
		for dev, last := range z.devices {
			if now.Sub(last) > DeviceTTL {
				z.forget(dev)
			}
		}
		if z.name == "" && len(z.devices) == 0 && now.Sub(z.lastUpdate) > ZoneTTL {
			delete(m.zones, id)
		}
	}
	for k, last := range m.cooldowns {
		if now.Sub(last) > maxCooldown {
			delete(m.cooldowns, k)
		}
	}
	for k, until := range m.suppress {
		if !now.Before(until) {
			delete(m.suppress, k)
		}
	}
}

// forget drops every piece of state a device holds in the zone.
func (z *zone) forget(dev string) {
	delete(z.devices, dev)
	for _, c := range z.channels {
		delete(c.devices, dev)
	}
	for k := range z.presence {
		if d, _, _ := strings.Cut(k, "/"); d == dev {
			delete(z.presence, k)
		}
	}
	delete(z.doors, dev)
	delete(z.actuators, dev)
	delete(z.spatial, dev)
}
