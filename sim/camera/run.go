package camera

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/errgroup"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/ffmpeg"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/sim/scene"
)

// Run serves the cameras until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	cams, err := ParseCameras(cfg.Cameras)
	if err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	ffmpegBin, err := ffmpeg.Find(cfg.FFmpeg, "CAMERA_FFMPEG")
	if err != nil {
		return fmt.Errorf("the virtual camera encodes its streams with FFmpeg: %w", err)
	}
	var srv *mediamtx
	base := strings.TrimRight(cfg.RTSPServer, "/")
	if base == "" {
		bin, err := FindMediamtx(cfg.Mediamtx)
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "soms-camera-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		pass := cfg.PublishPass
		if pass == "" {
			pass = randomPass()
		}
		srv = &mediamtx{bin: bin, port: cfg.RTSPPort, dir: dir,
			auth: mediamtxAuth{listen: cfg.Listen, publishPass: pass, readUser: cfg.ReadUser, readPass: cfg.ReadPass}}
		if cfg.HLS {
			srv.hls = &hlsConfig{port: cfg.HLSPort, variant: cfg.HLSVariant}
		}
		base = "rtsp://" + net.JoinHostPort(loopbackOf(cfg.Listen), strconv.Itoa(cfg.RTSPPort))
	} else if u, err := url.Parse(base); err != nil || u.Scheme != "rtsp" || u.Host == "" {
		return fmt.Errorf("CAMERA_RTSP_SERVER=%q: want rtsp://host:port", cfg.RTSPServer)
	}

	kit, err := service.New(ctx, "camera", cfg.Common, service.Options{MQTT: cfg.FollowScene})
	if err != nil {
		return err
	}
	defer kit.Close()
	s := &server{log: kit.Log, feeds: map[string]*feed{}, lastSeq: map[string]uint64{}}
	transcoding := false
	// Publishing (and the transcoders' reading) with the publisher's
	// account; URLs shown or logged carry no credentials.
	var redact func(string) string
	publishURL := func(u string) string { return u }
	if srv != nil {
		redact = redactor(srv.auth.secrets())
		publishURL = func(u string) string { return withUser(u, PublisherUser, srv.auth.publishPass) }
	} else if u, err := url.Parse(base); err == nil && u.User != nil {
		user := u.User.Username()
		pass, _ := u.User.Password()
		redact = redactor([]string{pass})
		u.User = nil
		base = u.String()
		publishURL = func(raw string) string { return withUser(raw, user, pass) }
	}
	for _, c := range cams {
		f := newFeed(c, base+"/"+c.Path, cfg, ffmpegBin, kit.Clock, kit.Log)
		f.publishURL, f.redact = publishURL(f.url), redact
		switch {
		case cfg.HLS && cfg.Codec == CodecH264:
			f.hls = hlsURL(cfg.HLSPort, c.Path) // browsers play the camera's own stream
		case cfg.HLS:
			f.hls = hlsURL(cfg.HLSPort, c.Path+hlsSuffix)
			f.transcoder = &transcoder{bin: ffmpegBin, src: f.publishURL, dst: publishURL(f.url + hlsSuffix), redact: redact, log: f.log}
			transcoding = true
		}
		s.feeds[c.ID] = f
		s.order = append(s.order, c.ID)
	}
	serverUp := func() bool { return true }
	if srv != nil {
		srv.log = kit.Log
		serverUp = srv.up.Load
		kit.HTTP.AddCheck("mediamtx", func(context.Context) error {
			if !srv.up.Load() {
				return errors.New("mediamtx is not serving RTSP yet")
			}
			return nil
		})
	}
	kit.HTTP.AddCheck("publishers", s.ready)
	if transcoding {
		kit.HTTP.AddCheck("transcoders", s.transcoding)
	}
	s.routes(kit.HTTP.Router)

	return kit.Run(ctx, cfg.Addr, func(ctx context.Context) error {
		g, ctx := errgroup.WithContext(ctx)
		if srv != nil {
			g.Go(func() error { return srv.run(ctx) })
		}
		if cfg.FollowScene {
			if err := kit.Bus.Subscribe(ctx, scene.TopicAll, 1, s.onScene); err != nil {
				return err
			}
		}
		for _, id := range s.order {
			f := s.feeds[id]
			g.Go(func() error { return f.run(ctx, serverUp) })
			if f.transcoder != nil {
				g.Go(func() error { return f.transcoder.run(ctx, f.live.Load) })
			}
		}
		return g.Wait()
	})
}

// loopbackOf is the address this process reaches a server listening on
// listen at.
func loopbackOf(listen string) string {
	if ip := net.ParseIP(listen); ip == nil || ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return listen
}

// randomPass is a fresh password for the publisher account.
func randomPass() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type server struct {
	log   *slog.Logger
	feeds map[string]*feed
	order []string

	mu      sync.Mutex
	lastSeq map[string]uint64
}

func (s *server) ready(context.Context) error {
	var down []string
	for _, id := range s.order {
		if !s.feeds[id].live.Load() {
			down = append(down, id)
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("not publishing yet: %s", strings.Join(down, ", "))
	}
	return nil
}

// transcoding is ready when every camera's ffmpeg is running.
func (s *server) transcoding(context.Context) error {
	var down []string
	for _, id := range s.order {
		if tr := s.feeds[id].transcoder; tr != nil && !tr.running.Load() {
			down = append(down, id)
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("no ffmpeg transcoder running for: %s", strings.Join(down, ", "))
	}
	return nil
}

// onScene applies a zone's scene from the virtual edge to its cameras.
// Retained copies older than what was applied are ignored (Seq).
func (s *server) onScene(m bus.Message) {
	zone, ok := scene.ZoneFromTopic(m.Topic)
	if !ok {
		return
	}
	z, err := scene.Decode(m.Payload)
	if err != nil {
		s.log.Warn("ignoring bad scene", "topic", m.Topic, "err", err)
		return
	}
	if z.Zone != zone {
		s.log.Warn("ignoring scene for another zone", "topic", m.Topic, "zone", z.Zone)
		return
	}
	s.mu.Lock()
	stale := m.Retained && z.Seq != 0 && z.Seq <= s.lastSeq[zone]
	if !stale {
		s.lastSeq[zone] = z.Seq
	}
	s.mu.Unlock()
	if stale {
		return
	}
	n := s.applyZone(z)
	s.log.Debug("scene applied", "zone", zone, "people", len(z.People), "cameras", n)
}

func (s *server) applyZone(z scene.Zone) int {
	n := 0
	for _, id := range s.order {
		if f := s.feeds[id]; f.Zone == z.Zone {
			f.setScene(z)
			n++
		}
	}
	return n
}

// routes is the camera's control API.
func (s *server) routes(r chi.Router) {
	r.Get("/cameras", s.list)
	r.Get("/cameras/{id}", s.get)
	r.Get("/cameras/{id}/scene", s.getScene)
	r.Put("/cameras/{id}/scene", s.putScene)
	r.Get("/cameras/{id}/snapshot.jpg", s.snapshot)
}

// CameraStatus is one camera in GET /cameras.
type CameraStatus struct {
	Camera
	URL        string `json:"url"`
	Codec      string `json:"codec"`
	HLS        string `json:"hls,omitempty"` // H.264 playlist (CAMERA_HLS=true)
	Publishing bool   `json:"publishing"`
	Frames     uint64 `json:"frames"`
	People     int    `json:"people"`
}

func (s *server) status(f *feed) CameraStatus {
	return CameraStatus{Camera: f.Camera, URL: f.url, Codec: f.cfg.Codec, HLS: f.hls, Publishing: f.live.Load(), Frames: f.frames.Load(), People: f.scene().Count()}
}

func (s *server) list(w http.ResponseWriter, _ *http.Request) {
	out := make([]CameraStatus, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.status(s.feeds[id]))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *server) feed(w http.ResponseWriter, r *http.Request) *feed {
	id := chi.URLParam(r, "id")
	f, ok := s.feeds[id]
	if !ok {
		httpx.Error(w, http.StatusNotFound, "camera "+id+" not found")
	}
	return f
}

func (s *server) get(w http.ResponseWriter, r *http.Request) {
	if f := s.feed(w, r); f != nil {
		httpx.WriteJSON(w, http.StatusOK, s.status(f))
	}
}

func (s *server) getScene(w http.ResponseWriter, r *http.Request) {
	if f := s.feed(w, r); f != nil {
		httpx.WriteJSON(w, http.StatusOK, f.scene())
	}
}

// putScene sets the scene of the camera's zone (every camera on that zone
// shows it). The zone field may be left out; people and furniture replace
// what was there.
func (s *server) putScene(w http.ResponseWriter, r *http.Request) {
	f := s.feed(w, r)
	if f == nil {
		return
	}
	var z scene.Zone
	if !httpx.DecodeOrError(w, r, &z) {
		return
	}
	if z.Zone == "" {
		z.Zone = f.Zone
	}
	if z.Zone != f.Zone {
		httpx.Invalid(w, map[string]string{"zone": "camera " + f.ID + " watches zone " + f.Zone})
		return
	}
	if z.People == nil {
		z.People = []scene.Person{}
	}
	if err := z.Validate(); err != nil {
		httpx.Invalid(w, map[string]string{"people": err.Error()})
		return
	}
	if len(z.People) > 50 {
		httpx.Invalid(w, map[string]string{"people": "at most 50 people fit in one camera view"})
		return
	}
	slices.SortStableFunc(z.People, func(a, b scene.Person) int { return strings.Compare(a.ID, b.ID) })
	n := s.applyZone(z)
	s.log.Info("scene set by control API", "camera", f.ID, "zone", z.Zone, "people", len(z.People), "cameras", n)
	httpx.WriteJSON(w, http.StatusOK, f.scene())
}

func (s *server) snapshot(w http.ResponseWriter, r *http.Request) {
	f := s.feed(w, r)
	if f == nil {
		return
	}
	j, err := f.snapshot()
	if err != nil {
		httpx.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(j)
}
