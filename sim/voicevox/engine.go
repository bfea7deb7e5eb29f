package voicevox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/voice"
)

// Engine is the simulated VOICEVOX engine.
type Engine struct {
	cfg    Config
	espeak espeak
	log    *slog.Logger
	slots  chan struct{}

	synths  *prometheus.CounterVec
	latency prometheus.Histogram

	mu     sync.Mutex
	fault  Fault
	stats  Stats
	recent []string
}

// Fault makes the engine misbehave, for outage and timeout tests.
type Fault struct {
	// Delay holds every /audio_query and /synthesis this long (wall time:
	// it models network and engine latency, not office time).
	DelayMS int `json:"delay_ms"`
	// Status, when non-zero, is answered instead of doing the work.
	Status int `json:"status"`
	// Remaining limits the fault to that many requests; 0 means until cleared.
	Remaining int `json:"remaining"`
}

// Stats counts what the engine did; GET /control/stats.
type Stats struct {
	Queries    int64    `json:"queries"`
	Syntheses  int64    `json:"syntheses"`
	Errors     int64    `json:"errors"`
	Faulted    int64    `json:"faulted"`
	Fault      Fault    `json:"fault"`
	RecentText []string `json:"recent_texts"`
}

const keepRecent = 50

// New returns an engine; reg (may be nil) receives its metrics. Call Check
// before serving to fail early when espeak-ng is missing.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) *Engine {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	e := &Engine{
		cfg: cfg, espeak: espeak{path: cfg.Espeak, voice: cfg.Voice}, log: log,
		slots: make(chan struct{}, cfg.Workers),
		synths: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_voicevox_sim_requests_total", Help: "audio_query and synthesis requests by result.",
		}, []string{"op", "result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "soms_voicevox_sim_render_seconds", Help: "espeak-ng rendering time per synthesis.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 10),
		}),
	}
	if reg != nil {
		reg.MustRegister(e.synths, e.latency)
	}
	return e
}

// Check verifies espeak-ng and its voice work.
func (e *Engine) Check(ctx context.Context) error { return e.espeak.check(ctx) }

// Routes mounts the VOICEVOX API subset and the control API.
func (e *Engine) Routes(r chi.Router) {
	r.Get("/version", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, EngineVersion)
	})
	r.Get("/speakers", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, speakerList())
	})
	r.Post("/audio_query", e.audioQuery)
	r.Post("/synthesis", e.synthesis)
	r.Route("/control", func(r chi.Router) {
		r.Get("/stats", e.getStats)
		r.Put("/faults", e.putFault)
		r.Delete("/faults", e.clearFault)
	})
}

// validation is FastAPI's 422 body, which VOICEVOX answers for bad parameters.
type validation struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

func invalid(w http.ResponseWriter, items ...validation) {
	httpx.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": items})
}

func detail(w http.ResponseWriter, status int, msg string) {
	httpx.WriteJSON(w, status, map[string]string{"detail": msg})
}

// speakerParam reads ?speaker= and finds its style, answering the error itself.
func speakerParam(w http.ResponseWriter, r *http.Request) (style, bool) {
	raw := r.URL.Query().Get("speaker")
	if raw == "" {
		invalid(w, validation{Loc: []string{"query", "speaker"}, Msg: "field required", Type: "value_error.missing"})
		return style{}, false
	}
	id, err := strconv.Atoi(raw)
	if err != nil {
		invalid(w, validation{Loc: []string{"query", "speaker"}, Msg: "value is not a valid integer", Type: "type_error.integer"})
		return style{}, false
	}
	st, ok := findStyle(id)
	if !ok {
		detail(w, http.StatusUnprocessableEntity, fmt.Sprintf("該当するスタイル(style_id=%d)が見つかりません", id))
		return style{}, false
	}
	return st, true
}

func (e *Engine) audioQuery(w http.ResponseWriter, r *http.Request) {
	if !e.applyFault(w, r, "audio_query") {
		return
	}
	if _, ok := speakerParam(w, r); !ok {
		e.count("audio_query", "invalid")
		return
	}
	text, present := r.URL.Query()["text"]
	switch {
	case !present:
		e.count("audio_query", "invalid")
		invalid(w, validation{Loc: []string{"query", "text"}, Msg: "field required", Type: "value_error.missing"})
		return
	case utf8.RuneCountInString(text[0]) > e.cfg.MaxText:
		e.count("audio_query", "invalid")
		invalid(w, validation{Loc: []string{"query", "text"}, Msg: fmt.Sprintf("ensure this value has at most %d characters", e.cfg.MaxText), Type: "value_error.any_str.max_length"})
		return
	}
	e.mu.Lock()
	e.stats.Queries++
	e.mu.Unlock()
	e.count("audio_query", "ok")
	httpx.WriteJSON(w, http.StatusOK, newQuery(text[0]))
}

func (e *Engine) synthesis(w http.ResponseWriter, r *http.Request) {
	if !e.applyFault(w, r, "synthesis") {
		return
	}
	st, ok := speakerParam(w, r)
	if !ok {
		e.count("synthesis", "invalid")
		return
	}
	var q voice.AudioQuery
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20))
	if err := dec.Decode(&q); err != nil {
		e.count("synthesis", "invalid")
		invalid(w, validation{Loc: []string{"body"}, Msg: "invalid AudioQuery JSON: " + err.Error(), Type: "value_error.jsondecode"})
		return
	}
	if bad := checkQuery(q); len(bad) > 0 {
		e.count("synthesis", "invalid")
		invalid(w, bad...)
		return
	}
	text := queryText(q)
	if utf8.RuneCountInString(text) > e.cfg.MaxText {
		e.count("synthesis", "invalid")
		invalid(w, validation{Loc: []string{"body", "accent_phrases"}, Msg: fmt.Sprintf("more than %d characters to speak", e.cfg.MaxText), Type: "value_error"})
		return
	}
	wav, err := e.render(r.Context(), text, st, q)
	if err != nil {
		e.count("synthesis", "error")
		e.mu.Lock()
		e.stats.Errors++
		e.mu.Unlock()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return // the client has gone
		}
		e.log.Error("synthesis failed", "err", err)
		detail(w, http.StatusInternalServerError, "synthesis failed: "+err.Error())
		return
	}
	e.mu.Lock()
	e.stats.Syntheses++
	e.recent = append(e.recent, text)
	if len(e.recent) > keepRecent {
		e.recent = e.recent[len(e.recent)-keepRecent:]
	}
	e.mu.Unlock()
	e.count("synthesis", "ok")
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
	_, _ = w.Write(wav)
}

// render waits for a worker slot, runs espeak-ng and shapes its output.
func (e *Engine) render(ctx context.Context, text string, st style, q voice.AudioQuery) ([]byte, error) {
	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	start := time.Now()
	var samples []int16
	rate := 22050
	if text != "" && !allSeparators(text) {
		var err error
		if samples, rate, err = e.espeak.render(ctx, text, paramsFor(st, q)); err != nil {
			return nil, err
		}
	}
	e.latency.Observe(time.Since(start).Seconds())
	return assemble(samples, rate, q), nil
}

func allSeparators(s string) bool {
	for _, r := range s {
		if !isSeparator(r) {
			return false
		}
	}
	return true
}

// checkQuery rejects parameters the engine cannot honour.
func checkQuery(q voice.AudioQuery) []validation {
	var bad []validation
	field := func(name, msg string) {
		bad = append(bad, validation{Loc: []string{"body", name}, Msg: msg, Type: "value_error"})
	}
	if q.SpeedScale <= 0 || q.SpeedScale > 4 {
		field("speedScale", "must be in (0, 4]")
	}
	if q.VolumeScale < 0 || q.VolumeScale > 2 {
		field("volumeScale", "must be in [0, 2]")
	}
	if q.PitchScale < -0.5 || q.PitchScale > 0.5 {
		field("pitchScale", "must be in [-0.5, 0.5]")
	}
	if q.OutputSamplingRate < 8000 || q.OutputSamplingRate > 48000 {
		field("outputSamplingRate", "must be between 8000 and 48000")
	}
	if q.PrePhonemeLength < 0 || q.PrePhonemeLength > 5 {
		field("prePhonemeLength", "must be in [0, 5] seconds")
	}
	if q.PostPhonemeLength < 0 || q.PostPhonemeLength > 5 {
		field("postPhonemeLength", "must be in [0, 5] seconds")
	}
	return bad
}

// applyFault delays or fails the request per the configured fault; it reports
// whether the handler should go on.
func (e *Engine) applyFault(w http.ResponseWriter, r *http.Request, op string) bool {
	e.mu.Lock()
	f := e.fault
	active := f.DelayMS > 0 || f.Status != 0
	if active {
		e.stats.Faulted++
		if f.Remaining > 0 {
			e.fault.Remaining--
			if e.fault.Remaining == 0 {
				e.fault = Fault{}
			}
		}
	}
	e.mu.Unlock()
	if !active {
		return true
	}
	if f.DelayMS > 0 {
		t := time.NewTimer(time.Duration(f.DelayMS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		}
	}
	if f.Status != 0 {
		e.count(op, "faulted")
		detail(w, f.Status, "simulated engine fault")
		return false
	}
	return true
}

func (e *Engine) count(op, result string) { e.synths.WithLabelValues(op, result).Inc() }

func (e *Engine) getStats(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	s := e.stats
	s.Fault = e.fault
	s.RecentText = append([]string{}, e.recent...)
	e.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, s)
}

func (e *Engine) putFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !httpx.DecodeOrError(w, r, &f) {
		return
	}
	fields := map[string]string{}
	if f.DelayMS < 0 || f.DelayMS > 600_000 {
		fields["delay_ms"] = "must be between 0 and 600000"
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		fields["status"] = "must be 0 or an HTTP error status (400–599)"
	}
	if f.Remaining < 0 {
		fields["remaining"] = "must not be negative"
	}
	if len(fields) > 0 {
		httpx.Invalid(w, fields)
		return
	}
	e.mu.Lock()
	e.fault = f
	e.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, f)
}

func (e *Engine) clearFault(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	e.fault = Fault{}
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
