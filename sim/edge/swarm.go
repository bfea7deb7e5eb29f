package edge

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/topic"
)

// Leaf battery model of the original: 3300 mV at start, a little drain per
// tick, 2000 mV floor, low-battery warning under 2400 mV.
const (
	batteryFullMV  = 3300.0
	batteryEmptyMV = 2000.0
	batteryLowMV   = 2400.0
	// leafOnlineFor is how long after its last report a leaf counts as online.
	leafOnlineFor = 120 * time.Second
	// Hub command queue limits (design doc of the original).
	queuePerLeaf = 16
	queueMaxAge  = time.Hour
)

// leafCommands are the SensorSwarm command ids.
var leafCommands = map[string]int{"set_state": 1, "set_pwm": 2, "read_now": 3, "set_interval": 4, "deep_sleep": 5, "reset": 6}

type queuedCommand struct {
	Command string         `json:"command"`
	Args    map[string]any `json:"args,omitempty"`
	At      time.Time      `json:"queued_at"`
}

type leaf struct {
	spec       LeafSpec
	interval   time.Duration
	lastReport time.Time
	lastSeen   time.Time
	sleepUntil time.Time // set by deep_sleep: no reports, commands queued
	battery    float64
	relay      bool
	pwm        int
	queue      []queuedCommand
	delivered  int
	lastData   map[string]float64
}

// hub is a SensorSwarm hub and its leaves (the radio link is in memory).
type hub struct {
	spec   DeviceSpec
	leaves []*leaf
	booted time.Time
}

func newHub(d DeviceSpec) (*hub, error) {
	specs := d.Leaves
	if len(specs) == 0 {
		specs = DefaultLeaves()
	}
	h := &hub{spec: d}
	seen := map[string]bool{}
	for _, s := range specs {
		switch {
		case s.Name == "" || s.ID <= 0 || s.ID > 255:
			return nil, fmt.Errorf("hub %s: leaf needs a name and an id 1..255", d.ID)
		case seen[s.Name]:
			return nil, fmt.Errorf("hub %s: leaf %s twice", d.ID, s.Name)
		case s.Kind != LeafEnv && s.Kind != LeafPIR && s.Kind != LeafDoor:
			return nil, fmt.Errorf("hub %s: leaf %s: kind must be env, pir or door", d.ID, s.Name)
		}
		seen[s.Name] = true
		if s.PowerMode == "" {
			s.PowerMode = PowerAlwaysOn
		}
		if s.Interval <= 0 {
			s.Interval = Duration(30 * time.Second)
		}
		h.leaves = append(h.leaves, &leaf{spec: s, interval: time.Duration(s.Interval), battery: batteryFullMV, lastData: map[string]float64{}})
	}
	return h, nil
}

func (h *hub) boot(now time.Time) {
	h.booted = now
	for _, l := range h.leaves {
		l.lastReport, l.lastSeen = time.Time{}, time.Time{}
	}
}

func (h *hub) leaf(ref string) *leaf {
	for _, l := range h.leaves {
		if l.spec.Name == ref || strconv.Itoa(l.spec.ID) == ref {
			return l
		}
	}
	return nil
}

func (h *hub) childID(l *leaf) string { return h.spec.ID + "." + l.spec.Name }

func (l *leaf) caps() []string {
	switch l.spec.Kind {
	case LeafEnv:
		return []string{"temperature", "humidity"}
	case LeafPIR:
		return []string{"motion", "illuminance"}
	}
	return []string{"door"}
}

// due reports whether the leaf sends a report at now.
func (l *leaf) due(now time.Time) bool {
	return l.lastReport.IsZero() || now.Sub(l.lastReport) >= l.interval
}

// asleep reports whether the leaf cannot take a command at now: a deep-sleep
// leaf between its reports, or any leaf told to sleep.
func (l *leaf) asleep(now time.Time) bool {
	if now.Before(l.sleepUntil) {
		return true
	}
	return l.spec.PowerMode == PowerDeepSleep && !l.due(now)
}

// nextWake is when a sleeping leaf next listens.
func (l *leaf) nextWake(now time.Time) time.Time {
	if now.Before(l.sleepUntil) {
		return l.sleepUntil
	}
	if l.lastReport.IsZero() {
		return now
	}
	return l.lastReport.Add(l.interval)
}

func (l *leaf) batteryPct() int {
	return int(clamp((l.battery-batteryEmptyMV)/(batteryFullMV-batteryEmptyMV)*100, 0, 100))
}

// tickSwarm runs one radio tick of every hub: awake leaves deliver their
// queued commands and report when due.
func (o *office) tickSwarm() []message {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clock.Now()
	var out []message
	for _, id := range o.sortedDevices() {
		h, ok := o.hubs[id]
		if !ok || o.faults[id].offline() {
			continue
		}
		for _, l := range h.leaves {
			if now.Before(l.sleepUntil) || o.faults[h.childID(l)].offline() {
				continue
			}
			due := l.due(now)
			if l.spec.PowerMode == PowerDeepSleep && !due {
				continue
			}
			l.lastSeen = now
			l.battery = max(batteryEmptyMV, l.battery-o.rngFor("battery:"+h.childID(l)).Float64()*0.05)
			o.deliverLocked(h, l, now)
			if due && !now.Before(l.sleepUntil) {
				out = append(out, o.leafReportLocked(h, l, now)...)
			}
		}
	}
	return out
}

// deliverLocked executes a woken leaf's queued commands (stale ones expire).
func (o *office) deliverLocked(h *hub, l *leaf, now time.Time) {
	q := l.queue
	l.queue = nil
	for _, c := range q {
		if now.Sub(c.At) > queueMaxAge {
			o.log.Info("queued leaf command expired", "leaf", h.childID(l), "command", c.Command)
			continue
		}
		o.execLeafLocked(l, c.Command, c.Args, now)
		l.delivered++
		o.log.Info("queued leaf command delivered", "leaf", h.childID(l), "command", c.Command)
	}
}

// execLeafLocked applies a command on the leaf.
func (o *office) execLeafLocked(l *leaf, cmd string, args map[string]any, now time.Time) {
	switch cmd {
	case "set_state":
		v := args["state"]
		n, _ := jsonnum.Float(v, argAccept)
		l.relay = v == "on" || n == 1
	case "set_pwm":
		n, _ := jsonnum.Float(args["duty"], argAccept)
		l.pwm = int(n)
	case "read_now":
		l.lastReport = time.Time{}
	case "set_interval":
		n, ok := jsonnum.Float(args["seconds"], argAccept)
		if !ok || n < 1 {
			n = 30
		}
		l.interval = time.Duration(n * float64(time.Second))
	case "deep_sleep":
		n, ok := jsonnum.Float(args["wake_after_ms"], argAccept)
		if !ok || n <= 0 {
			n = 60000
		}
		l.sleepUntil = now.Add(time.Duration(n * float64(time.Millisecond)))
	case "reset":
		l.interval, l.relay, l.pwm = time.Duration(l.spec.Interval), false, 0
	}
}

// leafReportLocked reads the leaf's sensors from the zone and forwards them
// as the hub does: office/{zone}/sensor/{hub}.{leaf}/{channel} {"value": v}.
func (o *office) leafReportLocked(h *hub, l *leaf, now time.Time) []message {
	l.lastReport = now
	z := o.zones[h.spec.Zone]
	f := o.faults[h.childID(l)]
	rng := o.rngFor(h.childID(l))
	data := map[string]float64{}
	switch l.spec.Kind {
	case LeafEnv:
		data["temperature"] = round(f.measure("temperature", z.Temperature, now, rng), 2)
		data["humidity"] = round(clamp(f.measure("humidity", z.Humidity, now, rng), 0, 100), 1)
	case LeafPIR:
		motion := 0.0
		if rng.Float64() < o.motionLocked(h.spec.Zone) {
			motion = 1
		}
		data["motion"] = f.measure("motion", motion, now, rng)
		data["illuminance"] = round(max(0, f.measure("illuminance", z.Illuminance, now, rng)), 0)
	case LeafDoor:
		door := 0.0
		if now.Before(o.doorOpen[h.spec.Zone]) {
			door = 1
		}
		data["door"] = f.measure("door", door, now, rng)
	}
	var out []message
	for _, ch := range l.caps() {
		v, ok := data[ch]
		if !ok || f.dropped(rng) {
			continue
		}
		l.lastData[ch] = v
		out = append(out, message{h.spec.ID, topic.Sensor(h.spec.Zone, h.childID(l), ch), map[string]any{"value": v}})
	}
	return out
}

// heartbeat is the hub's heartbeat: itself, its queue and its leaves as
// children with their power modes.
func (h *hub) heartbeat(now time.Time, faults map[string]*Fault) map[string]any {
	children := []map[string]any{}
	queued, targets := 0, []string{}
	for _, l := range h.leaves {
		if len(l.queue) > 0 {
			queued += len(l.queue)
			targets = append(targets, h.childID(l))
		}
		if faults[h.childID(l)].offline() || l.lastSeen.IsZero() || now.Sub(l.lastSeen) > leafOnlineFor {
			continue
		}
		c := map[string]any{
			"device_id": l.spec.Name, "device_type": l.spec.HW, "status": "online",
			"power_mode": l.spec.PowerMode, "battery_pct": l.batteryPct(), "battery_mv": int(l.battery),
			"hops_to_mqtt": 1, "capabilities": l.caps(),
		}
		if l.asleep(now) || l.spec.PowerMode == PowerDeepSleep {
			c["power_mode"] = PowerDeepSleep
			c["next_wake_sec"] = max(1, int(l.nextWake(now).Sub(now).Seconds()))
		}
		children = append(children, c)
	}
	return map[string]any{
		"status": "online", "uptime_sec": int(now.Sub(h.booted).Seconds()), "device_id": h.spec.ID,
		"device_type": string(KindSwarmHub), "power_mode": PowerAlwaysOn, "leaf_count": len(h.leaves),
		"capabilities": capabilities(KindSwarmHub), "children": children,
		"queue_status": map[string]any{"queued_count": queued, "targets": targets},
	}
}

// leafCommandLocked sends (or queues, for a sleeping leaf) a command. Errors
// are result objects, as the original hub returns them.
func (o *office) leafCommandLocked(h *hub, ref, cmd string, args map[string]any) map[string]any {
	l := h.leaf(ref)
	if l == nil {
		return map[string]any{"error": "Unknown leaf: " + ref}
	}
	if _, ok := leafCommands[cmd]; !ok {
		return map[string]any{"error": "Unknown command: " + cmd}
	}
	now := o.clock.Now()
	if l.asleep(now) {
		l.queue = slices.DeleteFunc(l.queue, func(c queuedCommand) bool { return c.Command == cmd }) // newest wins
		if len(l.queue) >= queuePerLeaf {
			return map[string]any{"status": "queue_full", "target": h.childID(l), "leaf_id": l.spec.Name}
		}
		l.queue = append(l.queue, queuedCommand{Command: cmd, Args: args, At: now})
		return map[string]any{
			"status": "queued", "target": h.childID(l), "leaf_id": l.spec.Name, "command": cmd,
			"estimated_delivery_sec": max(0, int(l.nextWake(now).Sub(now).Seconds()+0.999)),
			"queue_position":         len(l.queue),
		}
	}
	o.execLeafLocked(l, cmd, args, now)
	return map[string]any{"status": "sent", "leaf_id": l.spec.Name, "command": cmd}
}

func (o *office) swarmStatusLocked(h *hub) map[string]any {
	now := o.clock.Now()
	leaves := []map[string]any{}
	for _, l := range h.leaves {
		ago := -1.0
		if !l.lastSeen.IsZero() {
			ago = round(now.Sub(l.lastSeen).Seconds(), 1)
		}
		e := map[string]any{
			"leaf_id": l.spec.ID, "name": l.spec.Name, "hw_type": l.spec.HW, "capabilities": l.caps(),
			"battery_mv": int(l.battery), "last_seen_sec_ago": ago,
			"online": ago >= 0 && ago < leafOnlineFor.Seconds(), "last_data": l.lastData,
			"power_mode": l.spec.PowerMode, "asleep": l.asleep(now), "queued": l.queue, "relay": l.relay,
			"report_interval_sec": l.interval.Seconds(),
		}
		if l.battery > 0 && l.battery < batteryLowMV {
			e["warning"] = "low_battery"
		}
		leaves = append(leaves, e)
	}
	return map[string]any{"hub_id": h.spec.ID, "leaf_count": len(h.leaves), "leaves": leaves}
}
