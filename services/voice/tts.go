package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/voice"
)

// Audio is one stored utterance.
type Audio struct {
	File     string
	Duration float64 // seconds
	Cached   bool
}

// SynthError is a synthesis that failed for a reason outside the request:
// Status is 502 (engine down or failing) or 504 (engine too slow).
type SynthError struct {
	Status int
	Msg    string
	Err    error
}

func (e *SynthError) Error() string { return e.Msg }
func (e *SynthError) Unwrap() error { return e.Err }

// Synth speaks texts through the engine, through the store's cache.
type Synth struct {
	engine  *voice.Engine
	store   *Store
	speaker int
	timeout time.Duration
	group   singleflight.Group

	results *prometheus.CounterVec
	latency prometheus.Histogram
}

// NewSynth returns a synthesiser; reg may be nil.
func NewSynth(e *voice.Engine, st *Store, speaker int, timeout time.Duration, reg prometheus.Registerer) *Synth {
	s := &Synth{
		engine: e, store: st, speaker: speaker, timeout: timeout,
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_voice_synth_total", Help: "Synthesis requests by result: cache_hit, synthesized or error.",
		}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "soms_voice_engine_seconds", Help: "VOICEVOX audio_query+synthesis time of cache misses.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(s.results, s.latency)
	}
	return s
}

// Speak returns the stored audio of text in tone, synthesising it on a miss.
// Concurrent requests for the same audio share one synthesis.
func (s *Synth) Speak(ctx context.Context, text, tone string) (Audio, error) {
	name := Key(text, s.speaker, tone)
	if d, ok := s.store.Lookup(name); ok {
		s.results.WithLabelValues("cache_hit").Inc()
		return Audio{File: name, Duration: d, Cached: true}, nil
	}
	ch := s.group.DoChan(name, func() (any, error) {
		// The shared work outlives any one waiting request, bounded by the
		// engine timeout.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		start := time.Now() // wall time: engine latency, not office time
		wav, err := s.engine.Synthesize(wctx, text, s.speaker, toneAdjust(tone))
		if err != nil {
			return nil, classify(err, s.timeout)
		}
		s.latency.Observe(time.Since(start).Seconds())
		d, err := s.store.Put(name, wav)
		if err != nil {
			return nil, &SynthError{Status: http.StatusBadGateway, Msg: err.Error(), Err: err}
		}
		return d, nil
	})
	select {
	case <-ctx.Done():
		s.results.WithLabelValues("error").Inc()
		return Audio{}, &SynthError{Status: http.StatusGatewayTimeout, Msg: "request cancelled while synthesising: " + ctx.Err().Error(), Err: ctx.Err()}
	case r := <-ch:
		if r.Err != nil {
			s.results.WithLabelValues("error").Inc()
			return Audio{}, r.Err
		}
		s.results.WithLabelValues("synthesized").Inc()
		return Audio{File: name, Duration: r.Val.(float64)}, nil
	}
}

func classify(err error, timeout time.Duration) error {
	var ve *voice.Error
	switch {
	case llm.IsTimeout(err):
		return &SynthError{Status: http.StatusGatewayTimeout, Msg: fmt.Sprintf("voice engine did not answer within %v", timeout), Err: err}
	case errors.As(err, &ve) && ve.Status == 0:
		return &SynthError{Status: http.StatusBadGateway, Msg: "voice engine unreachable: " + ve.Msg, Err: err}
	case errors.As(err, &ve):
		return &SynthError{Status: http.StatusBadGateway, Msg: fmt.Sprintf("voice engine failed (HTTP %d): %s", ve.Status, ve.Msg), Err: err}
	}
	return &SynthError{Status: http.StatusBadGateway, Msg: "voice engine: " + err.Error(), Err: err}
}

// toneAdjust shapes the query for a tone; VOICEVOX has one style per id, so
// tones are expressed through speed, pitch, intonation and volume.
func toneAdjust(tone string) func(*voice.AudioQuery) {
	return func(q *voice.AudioQuery) {
		switch tone {
		case voice.ToneCaring:
			q.SpeedScale *= 0.95
			q.IntonationScale = 1.1
		case voice.ToneHumorous:
			q.SpeedScale *= 1.05
			q.PitchScale += 0.03
			q.IntonationScale = 1.3
		case voice.ToneAlert:
			q.SpeedScale *= 1.1
			q.PitchScale += 0.02
			q.VolumeScale = 1.2
		}
	}
}
