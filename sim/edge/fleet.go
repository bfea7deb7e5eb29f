package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/mqttacl"
)

// Every virtual device connects to the broker as itself, as real devices do:
// with its own account (MQTT_DEVICES: user name = device id) when it has one,
// else with the legacy device account of the original firmware
// (EDGE_LEGACY_MQTT_PASS). The broker's ACL then holds each to its own
// topics (docs/mqtt-acl.md).

// Accounts are the device accounts a layout's devices use, without
// passwords: one per device, a swarm hub's with its leaves. The original's
// demo nodes (hydro, aqua) publish outside office/ under names that are not
// their ids, which only the legacy account may: they are not listed.
func Accounts(l Layout) []mqttacl.Device {
	var out []mqttacl.Device
	for _, d := range l.Devices {
		if usesLegacyAccount(d) {
			continue
		}
		a := mqttacl.Device{ID: d.ID}
		if d.Kind == KindSwarmHub {
			leaves := d.Leaves
			if len(leaves) == 0 {
				leaves = DefaultLeaves()
			}
			for _, l := range leaves {
				a.Leaves = append(a.Leaves, l.Name)
			}
		}
		out = append(out, a)
	}
	return out
}

func usesLegacyAccount(d DeviceSpec) bool { return d.Prefix != "" }

// requestTopics are the MCP request filters a device reads: its own, and
// its leaves' for a hub.
func (o *office) requestTopics(d DeviceSpec) []string {
	out := []string{"mcp/" + d.ID + "/request/#"}
	if h, ok := o.hubs[d.ID]; ok {
		for _, l := range h.leaves {
			out = append(out, "mcp/"+h.childID(l)+"/request/#")
		}
	}
	return out
}

// fleet is the devices' MQTT connections.
type fleet map[string]*bus.Client

func (f fleet) link(id string) publisher {
	if c, ok := f[id]; ok {
		return c
	}
	return nil
}

func (f fleet) close() {
	for _, c := range f {
		c.Close()
	}
}

// ready fails while a device is not connected.
func (f fleet) ready(context.Context) error {
	var down []string
	for id, c := range f {
		if !c.Connected() {
			down = append(down, id)
		}
	}
	if len(down) > 0 {
		slices.Sort(down)
		return fmt.Errorf("devices not connected to the broker: %s", strings.Join(down, ", "))
	}
	return nil
}

// connectDevices opens one connection per device of the layout, each with
// the device's account (base is the broker address and TLS settings).
func connectDevices(base bus.Config, devices, legacyPass string, l Layout, log *slog.Logger) (fleet, error) {
	accounts, err := mqttacl.ParseDevices(devices)
	if err != nil {
		return nil, err
	}
	byID := map[string]mqttacl.Device{}
	for _, a := range accounts {
		byID[a.ID] = a
	}
	want := map[string]mqttacl.Device{}
	for _, a := range Accounts(l) {
		want[a.ID] = a
	}
	f := fleet{}
	for _, d := range l.Devices {
		cfg := base
		cfg.ClientID = d.ID // as the original firmware: its device id
		a, own := byID[d.ID]
		switch {
		case own && usesLegacyAccount(d):
			f.close()
			return nil, fmt.Errorf("device %s publishes under %s/, which only the legacy device account may: remove it from MQTT_DEVICES", d.ID, d.Prefix)
		case own:
			cfg.User, cfg.Pass = d.ID, a.Password
			for _, leaf := range want[d.ID].Leaves {
				if !slices.Contains(a.Leaves, leaf) {
					log.Warn("the broker's ACL does not list this leaf of the hub: its readings will be refused", "hub", d.ID, "leaf", leaf, "fix", "MQTT_DEVICES "+d.ID+":…:"+strings.Join(want[d.ID].Leaves, "+"))
				}
			}
		case legacyPass != "":
			cfg.User, cfg.Pass = mqttacl.UserLegacy, legacyPass
		default:
			f.close()
			return nil, errors.New("virtual device " + d.ID + " has no MQTT account: list it in MQTT_DEVICES (id:password) or set EDGE_LEGACY_MQTT_PASS (the legacy device account)")
		}
		f[d.ID] = bus.New(cfg, "device-"+d.ID, log.With("device", d.ID, "mqtt_user", cfg.User), nil)
	}
	return f, nil
}

// subscribeRequests makes each device read its own tool calls.
func (o *office) subscribeRequests(ctx context.Context, f fleet) error {
	h := o.handleMCP(ctx)
	o.mu.Lock()
	var subs [][2]string
	for _, id := range o.sortedDevices() {
		for _, t := range o.requestTopics(o.devices[id]) {
			subs = append(subs, [2]string{id, t})
		}
	}
	o.mu.Unlock()
	for _, s := range subs {
		if err := f[s[0]].Subscribe(ctx, s[1], 1, h); err != nil {
			return err
		}
	}
	return nil
}
