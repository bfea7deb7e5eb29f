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
			for _, ch := range []string{"temperature", "humidity", "co2", "illuminance"} {
				msgs = append(msgs, msg{fmt.Sprintf("office/zone_%02d/sensor/env_%d/%s", z, d, ch), []byte(`{"value":612.5}`)})
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
