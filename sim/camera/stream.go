package camera

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/sim/scene"
)

// feed is one camera: its scene, its latest frame and its RTSP publisher.
type feed struct {
	Camera
	url        string
	cfg        Config
	clock      clock.Clock // scene time: walking in and out follows the simulated clock
	log        *slog.Logger
	started    time.Time
	hls        string      // HLS playlist URL; "" when CAMERA_HLS is off
	transcoder *transcoder // nil when CAMERA_HLS is off

	mu     sync.Mutex
	stage  *stage
	lastJ  []byte
	frames atomic.Uint64
	live   atomic.Bool
}

func newFeed(c Camera, url string, cfg Config, clk clock.Clock, log *slog.Logger) *feed {
	f := &feed{Camera: c, url: url, cfg: cfg, clock: clk, log: log.With("camera", c.ID), stage: newStage(cfg.Seed, cfg.Transition)}
	f.started = clk.Now()
	f.stage.set(scene.Zone{Zone: c.Zone, People: []scene.Person{}}, f.started)
	return f
}

// setScene replaces the camera's scene.
func (f *feed) setScene(z scene.Zone) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stage.set(z, f.clock.Now())
}

func (f *feed) scene() scene.Zone {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stage.zone
}

// render draws the current frame and encodes it as JPEG.
func (f *feed) render(img *image.RGBA, buf *bytes.Buffer) ([]byte, error) {
	f.mu.Lock()
	now := f.clock.Now()
	actors := f.stage.actors(now)
	furniture := f.stage.zone.Furniture
	f.mu.Unlock()
	render(img, furniture, actors, now.Sub(f.started).Seconds())
	buf.Reset()
	if err := jpeg.Encode(buf, img, &jpeg.Options{Quality: f.cfg.Quality}); err != nil {
		return nil, err
	}
	out := bytes.Clone(buf.Bytes())
	f.mu.Lock()
	f.lastJ = out
	f.mu.Unlock()
	return out, nil
}

// snapshot returns the latest frame, rendering one if none was streamed yet.
func (f *feed) snapshot() ([]byte, error) {
	f.mu.Lock()
	j := f.lastJ
	f.mu.Unlock()
	if j != nil {
		return j, nil
	}
	return f.render(image.NewRGBA(image.Rect(0, 0, f.cfg.Width, f.cfg.Height)), &bytes.Buffer{})
}

// run publishes frames to the RTSP server until ctx is done, reconnecting
// with back-off when the server goes away.
func (f *feed) run(ctx context.Context, serverUp func() bool) error {
	bo := backoff.New(clock.Wall{}, backoff.Policy{Min: 500 * time.Millisecond, Max: 10 * time.Second})
	for ctx.Err() == nil {
		tried := serverUp()
		var err error
		if tried {
			sent := f.frames.Load()
			err = f.publish(ctx)
			f.live.Store(false)
			if ctx.Err() != nil {
				return nil
			}
			if f.frames.Load() > sent {
				bo.Reset() // it was publishing: a new failure, not more of the old one
			}
		}
		d := bo.Next()
		if tried {
			f.log.Warn("RTSP publishing stopped; reconnecting", "url", f.url, "err", err, "in", d)
		}
		if bo.Wait(ctx, d) != nil {
			return nil
		}
	}
	return nil
}

// publish streams until an error. Video runs in real time whatever the
// simulated clock's speed, so frames are paced by the wall clock.
func (f *feed) publish(ctx context.Context) error {
	forma := &format.MJPEG{}
	desc := &description.Session{Medias: []*description.Media{{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}}}
	tcp := gortsplib.TransportTCP
	c := gortsplib.Client{Transport: &tcp}
	if err := c.StartRecording(f.url, desc); err != nil {
		return fmt.Errorf("announce %s: %w", f.url, err)
	}
	defer c.Close()
	enc, err := forma.CreateEncoder()
	if err != nil {
		return err
	}
	f.live.Store(true)
	f.log.Info("publishing", "url", f.url, "size", fmt.Sprintf("%dx%d", f.cfg.Width, f.cfg.Height), "fps", f.cfg.FPS)

	wall := clock.Wall{}
	start := wall.Now()
	tick := wall.NewTicker(time.Duration(float64(time.Second) / f.cfg.FPS))
	defer tick.Stop()
	img := image.NewRGBA(image.Rect(0, 0, f.cfg.Width, f.cfg.Height))
	var buf bytes.Buffer
	clientErr := make(chan error, 1)
	go func() { clientErr <- c.Wait() }()
	for {
		j, err := f.render(img, &buf)
		if err != nil {
			return err
		}
		pkts, err := enc.Encode(j)
		if err != nil {
			return fmt.Errorf("RTP/JPEG: %w", err)
		}
		ts := uint32(wall.Now().Sub(start).Seconds() * float64(forma.ClockRate()))
		for _, p := range pkts {
			p.Timestamp = ts
			if err := c.WritePacketRTP(desc.Medias[0], p); err != nil {
				return err
			}
		}
		f.frames.Add(1)
		select {
		case <-ctx.Done():
			return nil
		case err := <-clientErr:
			return err
		case <-tick.C():
		}
	}
}
