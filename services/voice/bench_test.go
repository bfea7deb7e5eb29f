package voice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/somsgo/soms/internal/voice"
)

// Synthesis through the whole service over HTTP: the sim engine (espeak-ng)
// for misses, the content-addressed store for hits.

func benchSynth(b *testing.B, parallel bool, text func(i int64) string) {
	f := newFixture(b, fixtureOpts{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	post := func(i int64) {
		body, _ := json.Marshal(voice.SynthesizeRequest{Text: text(i)})
		resp, err := client.Post(f.srv.URL+"/api/voice/synthesize", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	post(-1) // warm the connection (and the cache, for the cached case)
	var seq atomic.Int64
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				post(seq.Add(1))
			}
		})
	} else {
		for b.Loop() {
			post(seq.Add(1))
		}
	}
	b.ReportMetric(float64(seq.Load())/b.Elapsed().Seconds(), "req/s")
}

const benchText = "会議室のCO2濃度が高くなっています。窓を開けて換気をお願いします。"

func BenchmarkSynthesizeCached(b *testing.B) {
	benchSynth(b, false, func(int64) string { return benchText })
}

func BenchmarkSynthesizeCachedParallel(b *testing.B) {
	benchSynth(b, true, func(int64) string { return benchText })
}

func BenchmarkSynthesizeUncached(b *testing.B) {
	benchSynth(b, false, func(i int64) string { return fmt.Sprintf("%s その%d。", benchText, i) })
}

func BenchmarkSynthesizeUncachedParallel(b *testing.B) {
	benchSynth(b, true, func(i int64) string { return fmt.Sprintf("%s その%d。", benchText, i) })
}
