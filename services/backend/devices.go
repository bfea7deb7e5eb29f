package backend

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/telemetry"
)

// Bounds of the per-device state the backend keeps (docs/telemetry.md).
const (
	// DefaultMaxDevices is how many devices (a device id in a zone) the
	// backend keeps latest values and heartbeats of.
	DefaultMaxDevices = 10000
	// DefaultDeviceRetention is how long a device's latest values and
	// heartbeat row outlive its last message.
	DefaultDeviceRetention = 30 * 24 * time.Hour
	// maxDeviceChannels bounds the channels of one device in one zone (a bulk
	// node reports 15; the rest is room for passthrough channels).
	maxDeviceChannels = 64
)

type deviceKey struct{ zone, device string }

// deviceIndex mirrors which devices the backend stores (sensor_latest and
// dashboard.devices), so that admitting a message costs map lookups: a message
// that would add a device beyond max, or a channel beyond maxDeviceChannels,
// is refused whole (telemetry.DeviceLimit, telemetry.ChannelLimit); devices
// already known are never refused. It is loaded from the database at start
// and after each prune, which removes expired devices.
type deviceIndex struct {
	max int

	mu   sync.Mutex
	devs map[deviceKey]map[string]struct{} // → channels in sensor_latest
}

func newDeviceIndex(max int) *deviceIndex {
	if max <= 0 {
		max = DefaultMaxDevices
	}
	return &deviceIndex{max: max, devs: map[deviceKey]map[string]struct{}{}}
}

// admit records the devices and channels of p, or refuses p whole.
func (ix *deviceIndex) admit(p parsed) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	newDevs := map[deviceKey]map[string]struct{}{} // channels to add, per device
	unknown := 0                                   // devices new to the index
	need := func(k deviceKey, ch string) error {
		chans, known := ix.devs[k]
		add, pending := newDevs[k]
		if !pending {
			if !known {
				if len(ix.devs)+unknown >= ix.max {
					return telemetry.Rejectf(telemetry.DeviceLimit, "%s/%s: the backend keeps %d devices", k.zone, k.device, ix.max)
				}
				unknown++
			}
			add = map[string]struct{}{}
			newDevs[k] = add
		}
		if ch == "" {
			return nil
		}
		if _, ok := chans[ch]; ok {
			return nil
		}
		if _, ok := add[ch]; ok {
			return nil
		}
		if len(chans)+len(add) >= maxDeviceChannels {
			return telemetry.Rejectf(telemetry.ChannelLimit, "%s/%s: %d channels already", k.zone, k.device, maxDeviceChannels)
		}
		add[ch] = struct{}{}
		return nil
	}
	for _, r := range p.Readings {
		if err := need(deviceKey{r.Zone, r.DeviceID}, r.Channel); err != nil {
			return err
		}
	}
	if p.Heartbeat != nil {
		for _, d := range p.Heartbeat.Devices() {
			if err := need(deviceKey{p.Zone, d.DeviceID}, ""); err != nil {
				return err
			}
		}
	}
	for k, add := range newDevs {
		chans, ok := ix.devs[k]
		if !ok {
			chans = make(map[string]struct{}, len(add))
			ix.devs[k] = chans
		}
		for ch := range add {
			chans[ch] = struct{}{}
		}
	}
	return nil
}

// load replaces the index with what the database holds.
func (ix *deviceIndex) load(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT zone, device_id, channel FROM dashboard.sensor_latest
		UNION ALL SELECT zone, device_id, '' FROM dashboard.devices`)
	if err != nil {
		return fmt.Errorf("load the device index: %w", err)
	}
	defer rows.Close()
	devs := map[deviceKey]map[string]struct{}{}
	for rows.Next() {
		var k deviceKey
		var ch string
		if err := rows.Scan(&k.zone, &k.device, &ch); err != nil {
			return fmt.Errorf("load the device index: %w", err)
		}
		chans, ok := devs[k]
		if !ok {
			chans = map[string]struct{}{}
			devs[k] = chans
		}
		if ch != "" {
			chans[ch] = struct{}{}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load the device index: %w", err)
	}
	ix.mu.Lock()
	ix.devs = devs
	ix.mu.Unlock()
	return nil
}

// len is the number of devices indexed.
func (ix *deviceIndex) len() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.devs)
}
