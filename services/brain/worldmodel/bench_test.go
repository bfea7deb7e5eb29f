package worldmodel

import (
	"fmt"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// BenchmarkIngest measures sustained sensor ingest into the world model: 20
// zones × 5 devices × 4 channels, one simulated second apart.
func BenchmarkIngest(b *testing.B) {
	c := clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	m := New(c)
	type msg struct {
		topic   string
		payload []byte
	}
	var msgs []msg
	for z := range 20 {
		for d := range 5 {
			for _, ch := range []struct{ name, value string }{{"temperature", "22.5"}, {"humidity", "45.5"}, {"co2", "612.5"}, {"illuminance", "480"}} {
				msgs = append(msgs, msg{fmt.Sprintf("office/zone_%02d/sensor/env_%d/%s", z, d, ch.name), []byte(`{"value":` + ch.value + `}`)})
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ms := msgs[i%len(msgs)]
		if i%len(msgs) == 0 {
			c.Advance(time.Second)
		}
		if err := m.Ingest(ms.topic, ms.payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkIngestAmongForgedIDs measures one zone's own CO2 sensor after
// 50 000 made-up device ids have each sent a plausible CO2 reading into the
// same zone within the last second (issue 15's id flood).
func BenchmarkIngestAmongForgedIDs(b *testing.B) {
	c := clock.NewManual(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	m := New(c)
	if err := m.Ingest("office/main/sensor/env_01/co2", []byte(`{"value":612}`)); err != nil {
		b.Fatal(err)
	}
	for i := range 50_000 {
		_ = m.Ingest(fmt.Sprintf("office/main/sensor/fake_%05d/co2", i), []byte(`{"value":650}`))
	}
	c.Advance(time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := m.Ingest("office/main/sensor/env_01/co2", []byte(`{"value":612}`)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
