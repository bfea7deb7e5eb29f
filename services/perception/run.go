package perception

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/ffmpeg"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/internal/topic"
)

// Run analyses the configured cameras until ctx is cancelled. A missing or
// broken model, runtime library or camera is reported (logs, GET /cameras,
// metrics) and retried with back-off; it never ends Run, and it does not make
// the service unready: cameras come and go, and a model mounted later is
// picked up, without holding back the rest of the stack. Production has no
// built-in models; see RunWithModels.
func Run(ctx context.Context, cfg Config) error { return RunWithModels(ctx, cfg, nil) }

// RunWithModels is Run with builtin: model names resolved by models (the
// simulator's generated test models).
func RunWithModels(ctx context.Context, cfg Config, models BuiltinModels) error {
	return run(ctx, cfg, models, nil)
}

// run is RunWithModels logging to logOut (nil: stderr).
func run(ctx context.Context, cfg Config, models BuiltinModels, logOut io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cams, err := cfg.cameras()
	if err != nil {
		return err
	}
	bin, err := ffmpeg.Find(cfg.FFmpeg, "PERCEPTION_FFMPEG")
	if err != nil {
		return fmt.Errorf("perception decodes cameras with FFmpeg: %w", err)
	}
	kit, err := service.New(ctx, "perception", cfg.Common, service.Options{MQTT: true, LogOutput: logOut})
	if err != nil {
		return err
	}
	defer kit.Close()
	p := newPipeline(cfg, cams, bin, kit.Clock, kit.Bus, kit.Log, kit.Metrics)
	p.builtin = models
	kit.HTTP.Router.Get("/cameras", p.listCameras)
	return kit.Run(ctx, cfg.Addr, p.run)
}

// publisher is the part of the MQTT client the pipeline needs.
type publisher interface {
	PublishJSON(ctx context.Context, topic string, qos byte, retain bool, v any) error
}

var _ publisher = (*bus.Client)(nil)

type pipeline struct {
	cfg     Config
	builtin BuiltinModels
	clock   clock.Clock
	wall    clock.Clock
	bus     publisher
	log     *slog.Logger

	det      atomic.Pointer[Detector]
	modelMu  sync.Mutex
	modelErr error

	cams []*camState

	stage       *prometheus.HistogramVec
	frames      *prometheus.CounterVec
	people      *prometheus.GaugeVec
	cameraUp    *prometheus.GaugeVec
	starts      *prometheus.CounterVec
	modelLoaded prometheus.Gauge
}

// defaultInputSize is the side frames are scaled to until the model is
// loaded (YOLO11's export default); a model of another size restarts the
// decoders.
const defaultInputSize = 640

// camState is one camera's source, cached analysis and monitor state.
type camState struct {
	spec CameraSpec
	src  *source

	mu       sync.Mutex
	seq      uint64 // frame the cached result belongs to
	result   Result
	analysed time.Time
	lastErr  string
	activity *activityMonitor
}

func newPipeline(cfg Config, cams []CameraSpec, ffmpegBin string, clk clock.Clock, b publisher, log *slog.Logger, reg prometheus.Registerer) *pipeline {
	p := &pipeline{cfg: cfg, clock: clk, wall: clock.Wall{}, bus: b, log: log, modelErr: errors.New("loading the model")}
	p.stage = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "soms_perception_stage_seconds", Help: "Per-frame time in this process by pipeline stage (preprocess, inference, postprocess); decoding runs in the cameras' FFmpeg processes.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"stage"})
	p.frames = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soms_perception_frames_analysed_total", Help: "Frames run through the model."}, []string{"camera"})
	p.people = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "soms_perception_persons", Help: "Persons in the camera's last analysed frame."}, []string{"camera"})
	p.cameraUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "soms_perception_camera_up", Help: "1 while the camera delivers frames, 0 while it is down or connecting (GET /cameras says why)."}, []string{"camera"})
	p.starts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soms_perception_decoder_starts_total", Help: "FFmpeg decoder processes started for the camera (more than one: restarts)."}, []string{"camera"})
	p.modelLoaded = prometheus.NewGauge(prometheus.GaugeOpts{Name: "soms_perception_model_loaded", Help: "1 once the model is loaded, 0 while it is missing or broken (GET /cameras says why)."})
	if reg != nil {
		reg.MustRegister(p.stage, p.frames, p.people, p.cameraUp, p.starts, p.modelLoaded)
	}
	for _, c := range cams {
		src := newSource(c, ffmpegBin, log, cfg.RetryMax, cfg.CameraTimeout, p.inputSize)
		up, starts := p.cameraUp.WithLabelValues(c.ID), p.starts.WithLabelValues(c.ID)
		up.Set(0)
		src.onState = func(ok bool) {
			if ok {
				up.Set(1)
			} else {
				up.Set(0)
			}
		}
		src.onStart = starts.Inc
		p.cams = append(p.cams, &camState{spec: c, src: src,
			activity: &activityMonitor{zone: c.Zone, fall: newFallDetector(c.Zone, cfg)}})
	}
	return p
}

// inputSize is the side of the model's square input.
func (p *pipeline) inputSize() int {
	if det := p.det.Load(); det != nil {
		return det.engine.Size
	}
	return defaultInputSize
}

func (p *pipeline) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.loadModel(ctx) })
	for _, c := range p.cams {
		g.Go(func() error { return c.src.run(ctx) })
		for _, m := range p.cfg.Monitors {
			switch m {
			case "occupancy":
				g.Go(func() error {
					return p.every(ctx, p.cfg.OccupancyInterval, func(ctx context.Context) { p.occupancy(ctx, c) })
				})
			case "activity":
				g.Go(func() error {
					return p.every(ctx, p.cfg.ActivityInterval, func(ctx context.Context) { p.activity(ctx, c) })
				})
			}
		}
	}
	err := g.Wait()
	// Only now is no frame being analysed: closing the engine while a
	// monitor's Detect still runs on it would free it under the model.
	if det := p.det.Swap(nil); det != nil {
		if cerr := det.engine.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the model: %w", cerr))
		}
	}
	return err
}

// loadModel loads the runtime and model, retrying with back-off until it
// works; run closes the engine once every monitor has stopped.
func (p *pipeline) loadModel(ctx context.Context) error {
	lib := FindRuntimeLibrary(p.cfg.Library)
	var e *Engine
	bo := backoff.New(p.wall, backoff.Policy{Min: time.Second, Max: p.cfg.RetryMax})
	err := bo.Retry(ctx, func(context.Context) (err error) {
		e, err = NewEngine(EngineConfig{Library: lib, Model: p.cfg.Model, Provider: p.cfg.Provider, Threads: p.cfg.Threads, Kind: p.cfg.ModelKind, Builtin: p.builtin})
		return err
	}, func(err error, d time.Duration) {
		p.setModelErr(fmt.Errorf("%w (retrying in %s)", err, d))
		p.log.Error("cannot load the model; retrying", "err", err, "in", d)
	})
	if err != nil {
		return nil // ctx ended
	}
	p.det.Store(NewDetector(e, p.cfg.Confidence, p.cfg.IoU))
	p.setModelErr(nil)
	p.modelLoaded.Set(1)
	p.log.Info("model loaded", "model", p.cfg.Model, "library", lib, "provider", p.cfg.Provider, "input", e.Size, "output", e.OutShape, "kind", e.Kind)
	return nil
}

func (p *pipeline) setModelErr(err error) {
	p.modelMu.Lock()
	p.modelErr = err
	p.modelMu.Unlock()
}

func (p *pipeline) modelStatus() error {
	p.modelMu.Lock()
	defer p.modelMu.Unlock()
	return p.modelErr
}

// every runs f each interval of clock time until ctx ends.
func (p *pipeline) every(ctx context.Context, interval time.Duration, f func(context.Context)) error {
	t := p.clock.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
			f(ctx)
		}
	}
}

// analyse returns the result for the camera's newest frame, running the
// model only when that frame has not been analysed yet.
func (p *pipeline) analyse(c *camState) (Result, bool) {
	det := p.det.Load()
	if det == nil {
		return Result{}, false
	}
	f := c.src.Latest()
	if f.Seq == 0 {
		return Result{}, false
	}
	if age := p.wall.Now().Sub(f.At); age > p.cfg.FrameMaxAge {
		c.noteErr(p.log, fmt.Sprintf("newest frame is %s old", age.Round(time.Second)))
		return Result{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Seq == c.seq {
		return c.result, true
	}
	r, err := det.DetectFrame(f)
	if err != nil {
		c.lastErr = err.Error()
		p.log.Warn("frame not analysed", "camera", c.spec.ID, "err", err)
		return Result{}, false
	}
	c.seq, c.result, c.analysed, c.lastErr = f.Seq, r, p.clock.Now(), ""
	p.stage.WithLabelValues("preprocess").Observe(r.Timings.Preprocess.Seconds())
	p.stage.WithLabelValues("inference").Observe(r.Timings.Inference.Seconds())
	p.stage.WithLabelValues("postprocess").Observe(r.Timings.Postprocess.Seconds())
	p.frames.WithLabelValues(c.spec.ID).Inc()
	p.people.WithLabelValues(c.spec.ID).Set(float64(len(r.Persons)))
	return r, true
}

func (c *camState) noteErr(log *slog.Logger, msg string) {
	c.mu.Lock()
	changed := c.lastErr != msg
	c.lastErr = msg
	c.mu.Unlock()
	if changed {
		log.Warn("camera not analysed", "camera", c.spec.ID, "reason", msg)
	}
}

func (p *pipeline) occupancy(ctx context.Context, c *camState) {
	r, ok := p.analyse(c)
	if !ok {
		return
	}
	now := p.clock.Now()
	p.publish(ctx, topic.Occupancy(c.spec.Zone), Occupancy(c.spec.Zone, r, now))
	p.publish(ctx, topic.Spatial(c.spec.Zone, c.spec.ID), Spatial(c.spec.Zone, c.spec.ID, r, false, now))
}

func (p *pipeline) activity(ctx context.Context, c *camState) {
	r, ok := p.analyse(c)
	if !ok {
		return
	}
	now := p.clock.Now()
	c.mu.Lock()
	msg := c.activity.observe(r, now)
	alerts := c.activity.fall.observe(r, now)
	c.mu.Unlock()
	p.publish(ctx, topic.Activity(c.spec.Zone), msg)
	p.publish(ctx, topic.Spatial(c.spec.Zone, c.spec.ID), Spatial(c.spec.Zone, c.spec.ID, r, true, now))
	for _, a := range alerts {
		p.log.Warn("fall detected", "camera", c.spec.ID, "zone", a.Zone, "tracker", a.TrackerID, "confidence", a.Confidence)
		p.publish(ctx, topic.Fall(c.spec.Zone), a)
	}
}

func (p *pipeline) publish(ctx context.Context, t string, v any) {
	if err := p.bus.PublishJSON(ctx, t, 1, false, v); err != nil && ctx.Err() == nil {
		p.log.Warn("publish failed", "topic", t, "err", err)
	}
}

// Status is GET /cameras: the model and every camera, healthy or not.
type Status struct {
	Model   ModelStatus    `json:"model"`
	Cameras []CameraStatus `json:"cameras"`
}

// ModelStatus says whether the model is loaded, and why not.
type ModelStatus struct {
	Model    string `json:"model"`
	Provider string `json:"provider"`
	Loaded   bool   `json:"loaded"`
	Kind     string `json:"kind,omitempty"`  // detect or pose
	Input    int    `json:"input,omitempty"` // input side in pixels
	Error    string `json:"error,omitempty"`
}

// CameraStatus is one camera in GET /cameras.
type CameraStatus struct {
	ID        string   `json:"camera_id"`
	Zone      string   `json:"zone"`
	URL       string   `json:"url"` // credentials replaced by xxxxx
	Input     string   `json:"input"`
	Codec     string   `json:"codec,omitempty"`
	Width     int      `json:"width,omitempty"` // the camera's picture
	Height    int      `json:"height,omitempty"`
	DetectFPS float64  `json:"detect_fps"`
	HWAccel   string   `json:"hwaccel"`
	Receiving bool     `json:"receiving"`
	Frames    uint64   `json:"frames_received"`
	Restarts  uint64   `json:"decoder_restarts"`
	Persons   int      `json:"persons"`
	Analysed  *float64 `json:"analysed_at,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func (p *pipeline) status() Status {
	st := Status{Model: ModelStatus{Model: p.cfg.Model, Provider: p.cfg.Provider}, Cameras: make([]CameraStatus, 0, len(p.cams))}
	if err := p.modelStatus(); err != nil {
		st.Model.Error = err.Error()
	} else if det := p.det.Load(); det != nil {
		st.Model.Loaded, st.Model.Kind, st.Model.Input = true, det.engine.Kind, det.engine.Size
	}
	for _, c := range p.cams {
		info, f := c.src.Info(), c.src.Latest()
		cs := CameraStatus{ID: c.spec.ID, Zone: c.spec.Zone, URL: c.spec.URL(), Input: *c.src.input.Load(), Codec: info.Codec,
			Width: f.Box.SrcW, Height: f.Box.SrcH, DetectFPS: c.spec.FPS, HWAccel: c.spec.HW.String(),
			Frames: c.src.frames.Load(), Restarts: max(c.src.starts.Load(), 1) - 1}
		if err := c.src.Status(); err != nil {
			cs.Error = err.Error()
		} else {
			cs.Receiving = true
		}
		c.mu.Lock()
		cs.Persons = len(c.result.Persons)
		if !c.analysed.IsZero() {
			ts := Timestamp(c.analysed)
			cs.Analysed = &ts
		}
		if cs.Error == "" {
			cs.Error = c.lastErr
		}
		c.mu.Unlock()
		st.Cameras = append(st.Cameras, cs)
	}
	slices.SortFunc(st.Cameras, func(a, b CameraStatus) int { return strings.Compare(a.ID, b.ID) })
	return st
}

func (p *pipeline) listCameras(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, p.status())
}
