package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/service"
)

// Run simulates the office's edge devices until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	layout, err := LoadLayout(cfg.Layout)
	if err != nil {
		return err
	}
	kit, err := service.New(ctx, "edge", cfg.Common, service.Options{MQTT: true})
	if err != nil {
		return err
	}
	defer kit.Close()
	o, err := newOffice(cfg, layout, kit.Clock, kit.Log)
	if err != nil {
		return err
	}
	devices, err := connectDevices(cfg.Common.MQTT, cfg.Devices, cfg.LegacyPass, layout, kit.Log)
	if err != nil {
		return err
	}
	defer devices.close()
	o.link = devices.link
	kit.HTTP.AddCheck("devices", devices.ready)
	// Scenes live under soms/sim/, which only the simulator's account writes;
	// the edge's own connection (kit.Bus) follows the clock.
	o.scenes = kit.Bus
	if cfg.SceneUser != "" {
		mc := cfg.Common.MQTT
		mc.User, mc.Pass, mc.ClientID = cfg.SceneUser, cfg.ScenePass, ""
		sb := bus.New(mc, "edge-scene", kit.Log, nil)
		defer sb.Close()
		o.scenes = sb
	}
	// After a reconnection (the broker restarted) the scenes are published
	// again; the first connection's come from run.
	sceneBus := kit.Bus
	var connected atomic.Bool
	if sb, ok := o.scenes.(*bus.Client); ok {
		sceneBus = sb
	}
	sceneBus.OnConnect(func() {
		if connected.Swap(true) {
			o.republishScenes()
		}
	})
	o.routes(kit.HTTP.Router)
	return kit.Run(ctx, cfg.Addr, func(ctx context.Context) error {
		if err := o.subscribeRequests(ctx, devices); err != nil {
			return err
		}
		for _, c := range devices {
			if err := c.WaitConnected(ctx); err != nil {
				return nil // cancelled before the broker answered
			}
		}
		return o.run(ctx)
	})
}

// LoadLayout resolves EDGE_LAYOUT: a built-in name or a JSON file.
func LoadLayout(spec string) (Layout, error) {
	switch spec {
	case "builtin:office", "":
		return DefaultLayout(), nil
	case "builtin:original":
		return OriginalLayout(), nil
	case "builtin:meeting":
		l := DefaultLayout()
		for i := range l.Zones {
			if l.Zones[i].ID == "meeting_room" {
				l.Zones[i].People, l.Zones[i].CO2 = 6, 900
			}
		}
		return l, nil
	}
	if strings.HasPrefix(spec, "builtin:") {
		return Layout{}, fmt.Errorf("EDGE_LAYOUT=%s: unknown built-in layout (builtin:office, builtin:meeting, builtin:original)", spec)
	}
	data, err := os.ReadFile(spec)
	if err != nil {
		return Layout{}, fmt.Errorf("EDGE_LAYOUT: %w", err)
	}
	var l Layout
	if err := json.Unmarshal(data, &l); err != nil {
		return Layout{}, fmt.Errorf("EDGE_LAYOUT %s: %w", spec, err)
	}
	return l, nil
}
