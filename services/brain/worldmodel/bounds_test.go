package worldmodel

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/telemetry"
)

func dropReason(err error) telemetry.Reason {
	var r *telemetry.Reject
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func TestZoneLimit(t *testing.T) {
	m := New(clock.NewManual(t0))
	for i := range MaxZones {
		if err := m.Ingest(fmt.Sprintf("office/z%d/occupancy", i), []byte(`{"person_count":0}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Ingest("office/one_more/sensor/env_01/co2", []byte(`{"value":600}`)); dropReason(err) != telemetry.ZoneLimit {
		t.Fatalf("zone past the bound: %v", err)
	}
	if err := m.Ingest("office/z0/sensor/env_01/co2", []byte(`{"value":600}`)); err != nil {
		t.Fatalf("a known zone refused: %v", err)
	}
	if n := len(m.Zones()); n != MaxZones {
		t.Fatalf("%d zones", n)
	}
}

// TestDeviceLimitAndExpiry: a zone keeps MaxZoneDevices devices; known ones
// keep reporting; a device silent for DeviceTTL is forgotten with its
// readings and state, which frees its room; a zone with nothing left and no
// name goes after ZoneTTL.
func TestDeviceLimitAndExpiry(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	m.SetZoneName("named", "Named room")
	ingest := func(tp, payload string) error { return m.Ingest(tp, []byte(payload)) }
	if err := ingest("office/main/sensor/env_01/co2", `{"value":600}`); err != nil {
		t.Fatal(err)
	}
	if err := ingest("office/named/sensor/door_01/door", `{"value":1}`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < MaxZoneDevices; i++ {
		if err := ingest(fmt.Sprintf("office/main/sensor/fake_%d/presence", i), `{"value":1}`); err != nil {
			t.Fatal(err)
		}
	}
	for _, tp := range []string{"office/main/sensor/fake_x/co2", "office/main/hvac/ac_x", "office/main/spatial/cam_x"} {
		if err := ingest(tp, `{"value":600,"power_state":"on"}`); dropReason(err) != telemetry.DeviceLimit {
			t.Fatalf("%s past the bound: %v", tp, err)
		}
	}
	// env_01 keeps reporting; the rest go quiet.
	for range 61 {
		c.Advance(time.Minute)
		if err := ingest("office/main/sensor/env_01/co2", `{"value":610}`); err != nil {
			t.Fatalf("a known device refused: %v", err)
		}
	}
	z, _ := m.Zone("main")
	if len(z.Devices) != 1 || z.PersonCount != 0 {
		t.Fatalf("after an hour of silence: devices %v, %d people", z.Devices, z.PersonCount)
	}
	if err := ingest("office/main/sensor/newcomer/co2", `{"value":620}`); err != nil {
		t.Fatalf("room not freed: %v", err)
	}
	// An unnamed zone whose devices have all gone is forgotten after a day;
	// a configured one is kept.
	c.Advance(ZoneTTL + time.Minute)
	if err := ingest("office/other/occupancy", `{"person_count":0}`); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Zone("main"); ok {
		t.Fatal("an empty unnamed zone outlived ZoneTTL")
	}
	if z, ok := m.Zone("named"); !ok || len(z.Devices) != 0 || len(z.Doors) != 0 {
		t.Fatalf("named zone: %+v, %v", z, ok)
	}
}

func TestExtraChannelLimit(t *testing.T) {
	m := New(clock.NewManual(t0))
	for i := range MaxExtraChannels {
		if err := m.Ingest(fmt.Sprintf("office/main/sensor/node/x%d", i), []byte(`{"value":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Ingest("office/main/sensor/node/one_more", []byte(`{"value":1}`)); dropReason(err) != telemetry.ChannelLimit {
		t.Fatalf("channel past the bound: %v", err)
	}
	for _, tp := range []string{"office/main/sensor/node/x0", "office/main/sensor/node/co2", "office/main/sensor/node/motion"} {
		if err := m.Ingest(tp, []byte(`{"value":1000}`)); err != nil && dropReason(err) != telemetry.OutOfRange {
			t.Fatalf("%s: %v", tp, err)
		}
	}
}

// TestFusionStaysFinite: whatever reaches a channel, its fused value is a
// finite number or none (huge readings are refused at parse time; this is the
// second line).
func TestFusionStaysFinite(t *testing.T) {
	c := newChannel("co2")
	for i, v := range []float64{math.MaxFloat64, math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64} {
		c.add(fmt.Sprintf("d%d", i), v, t0)
		if f, ok := c.fused(t0); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
			t.Fatalf("after %d readings: fused %v", i+1, f)
		}
	}
	z := &zone{channels: map[string]*channel{"co2": c}, extra: map[string]float64{}, devices: map[string]time.Time{}}
	if _, err := json.Marshal(z.snapshot(t0)); err != nil {
		t.Fatalf("snapshot does not encode: %v", err)
	}
}

// TestImplausibleReadingsChangeNothing: the 1e308 readings of a made-up
// device that once raised a CO2 event (and an urgent task) are dropped.
func TestImplausibleReadingsChangeNothing(t *testing.T) {
	m := New(clock.NewManual(t0))
	for i := range 3 {
		for _, ch := range []string{"co2", "temperature"} {
			err := m.Ingest(fmt.Sprintf("office/main/sensor/fake_%d/%s", i, ch), []byte(`{"value":1e308}`))
			if dropReason(err) != telemetry.OutOfRange {
				t.Fatalf("%s: %v", ch, err)
			}
		}
	}
	if evs := m.EventsSince(time.Time{}); len(evs) != 0 || len(m.Zones()) != 0 {
		t.Fatalf("events %+v, zones %+v", evs, m.Zones())
	}
}
