package worldmodel

import "time"

// The apply step of each message kind: a parsed update into its zone, with
// the model's lock held and now taken once per message.

func (m *Model) applySensor(z *zone, u sensorUpdate, now time.Time) {
	if u.heartbeat { // the device is recorded as seen (admitLocked)
		return
	}
	prev := z.people
	for _, r := range u.readings {
		m.applyChannelLocked(z, u.device, r.Channel, r.Value, now)
	}
	z.lastUpdate = now
	m.detectLocked(z, prev, now)
}

func (m *Model) applyOccupancy(z *zone, n int, now time.Time) {
	prev := z.people
	z.vision, z.visionAt, z.lastUpdate = n, now, now
	m.detectLocked(z, prev, now)
}

func (m *Model) applyActivity(z *zone, u activityUpdate, now time.Time) {
	prev := z.people
	if u.hasCount {
		z.vision, z.visionAt = u.count, now
	}
	z.activity, z.lastUpdate = u.activity, now
	z.activity.At = now
	m.detectLocked(z, prev, now)
}

func (m *Model) applyCamera(z *zone, u cameraUpdate, now time.Time) {
	z.lastUpdate = now
	switch {
	case u.event != "":
		m.emitLocked(z.id, "engagement_"+u.event, SeverityInfo, u.data, 0)
	case u.hasCount:
		prev := z.people
		z.vision, z.visionAt = u.count, now
		m.detectLocked(z, prev, now)
	}
}

func (m *Model) applySpatial(z *zone, u spatialUpdate, now time.Time) {
	sp := u.spatial
	sp.At = now
	z.spatial[u.camera], z.lastUpdate = sp, now
}

func (m *Model) applyEvent(z *zone, e zoneEvent, now time.Time) {
	z.lastUpdate = now
	if e.typ != "" {
		m.emitLocked(z.id, e.typ, e.severity, e.data, 0)
	}
}

func (m *Model) applyVLM(z *zone, u vlmUpdate, now time.Time) {
	z.lastVLM, z.lastVLMAt, z.lastUpdate = u.content, now, now
	m.emitLocked(z.id, EventVLM, SeverityInfo, u.event, 0)
}

func (m *Model) applyActuator(z *zone, u actuatorUpdate, now time.Time) {
	a := u.state
	a.At = now
	z.actuators[u.device], z.lastUpdate = a, now
}

func (m *Model) applyTouch(z *zone, _ struct{}, now time.Time) { z.lastUpdate = now }

// applyChannelLocked routes one channel value into the zone.
func (m *Model) applyChannelLocked(z *zone, device, ch string, v float64, now time.Time) {
	m.trackStockLocked(z, device, ch, v, now)
	switch {
	case analogChannels[ch]:
		m.applyAnalogLocked(z, device, ch, v, now)
	case ch == "presence":
		z.presence[device+"/"+ch] = presence{on: v != 0, at: now}
	case ch == "motion" || ch == "vibration":
		if v != 0 {
			z.counters = append(z.counters, now)
		}
		if ch == "motion" {
			z.presence[device+"/"+ch] = presence{on: v != 0, at: now}
		}
	case ch == "motion_count":
		for i := 0; i < int(min(v, 1000)); i++ {
			z.counters = append(z.counters, now)
		}
	case ch == "door" || ch == "contact":
		m.applyDoorLocked(z, device, ch, v != 0, now)
	default:
		z.extra[ch] = v
	}
}

// applyAnalogLocked fuses a reading into its channel and checks it for
// tampering.
func (m *Model) applyAnalogLocked(z *zone, device, ch string, v float64, now time.Time) {
	c, ok := z.channels[ch]
	if !ok {
		c = newChannel(ch)
		z.channels[ch] = c
	}
	var prev *sample
	if n := len(c.history); n > 0 {
		p := c.history[n-1]
		prev = &p
	}
	own, hadOwn := c.devices[device]
	c.add(device, v, now)
	if !m.checkTamperLocked(z, c, prev, now) && hadOwn {
		// Fusion dilutes one device's jump among its neighbours, so a
		// tampered sensor is also judged against its own last reading.
		m.checkDeviceTamperLocked(z, c.name, device, own, v, now)
	}
}

// applyDoorLocked records a door ("door": 1 is open) or contact ("contact": 1
// is closed) sensor's state; door sensors also raise door events.
func (m *Model) applyDoorLocked(z *zone, device, ch string, on bool, now time.Time) {
	open := on
	if ch == "contact" {
		open = !open
	}
	d, ok := z.doors[device]
	if !ok {
		d = &Door{Open: open, Since: now}
		z.doors[device] = d
	} else if d.Open != open {
		d.Open, d.Since = open, now
		d.changes = append(d.changes, now)
	}
	d.trim(now)
	if ch != "door" {
		return
	}
	if z.lastDoor != nil && *z.lastDoor != open {
		typ, state := EventDoorClosed, "closed"
		if open {
			typ, state = EventDoorOpened, "open"
		}
		m.emitLocked(z.id, typ, SeverityInfo, map[string]any{"device_id": device, "state": state}, 0)
	}
	z.lastDoor = &open
}
