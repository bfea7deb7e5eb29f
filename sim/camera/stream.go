package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/ffmpeg"
	"github.com/somsgo/soms/sim/scene"
)

// Codecs the virtual camera publishes.
const (
	CodecH264  = "h264"  // what real IP cameras send; browsers play it over HLS as is
	CodecH265  = "h265"  // newer cameras; browsers do not play it (the HLS live view transcodes)
	CodecMJPEG = "mjpeg" // older cameras (RTP/JPEG)
)

// feed is one camera: its scene, its latest frame and its RTSP publisher
// (an FFmpeg child fed with the rendered frames).
type feed struct {
	Camera
	url        string // what readers use (no credentials: shown and logged)
	publishURL string // url with the publisher's account (FFmpeg's only)
	redact     func(string) string
	cfg        Config
	ffmpeg     string
	clock      clock.Clock // scene time: walking in and out follows the simulated clock
	log        *slog.Logger
	started    time.Time
	hls        string      // HLS playlist URL; "" when CAMERA_HLS is off
	transcoder *transcoder // nil unless CAMERA_HLS is on and browsers cannot play the codec

	mu      sync.Mutex
	stage   *stage
	last    *image.RGBA // the latest frame drawn
	lastSeq uint64
	lastJ   []byte // JPEG of frame jSeq
	jSeq    uint64
	frames  atomic.Uint64
	live    atomic.Bool
}

func newFeed(c Camera, url string, cfg Config, ffmpegBin string, clk clock.Clock, log *slog.Logger) *feed {
	f := &feed{Camera: c, url: url, publishURL: url, cfg: cfg, ffmpeg: ffmpegBin, clock: clk, log: log.With("camera", c.ID), stage: newStage(cfg.Seed, cfg.Transition)}
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

// render draws the current frame into img and keeps a copy for snapshots.
func (f *feed) render(img *image.RGBA) uint64 {
	f.mu.Lock()
	now := f.clock.Now()
	actors := f.stage.actors(now)
	furniture := f.stage.zone.Furniture
	f.mu.Unlock()
	render(img, furniture, actors, now.Sub(f.started).Seconds())
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.last = image.NewRGBA(img.Rect)
	}
	copy(f.last.Pix, img.Pix)
	f.lastSeq++
	return f.lastSeq
}

// jpegOf encodes frame seq (held in f.last) once, for the MJPEG stream and
// snapshots alike.
func (f *feed) jpegOf(seq uint64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastJ != nil && f.jSeq == seq {
		return f.lastJ, nil
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, f.last, &jpeg.Options{Quality: f.cfg.Quality}); err != nil {
		return nil, err
	}
	f.lastJ, f.jSeq = buf.Bytes(), seq
	return f.lastJ, nil
}

// snapshot returns the latest frame as JPEG, rendering one if none was
// streamed yet.
func (f *feed) snapshot() ([]byte, error) {
	f.mu.Lock()
	seq := f.lastSeq
	f.mu.Unlock()
	if seq == 0 {
		seq = f.render(image.NewRGBA(image.Rect(0, 0, f.cfg.Width, f.cfg.Height)))
	}
	return f.jpegOf(seq)
}

// run publishes frames to the RTSP server until ctx is done, reconnecting
// with back-off when the server or FFmpeg goes away.
func (f *feed) run(ctx context.Context, serverUp func() bool) error {
	bo := backoff.New(clock.Wall{}, backoff.Policy{Min: 500 * time.Millisecond, Max: 10 * time.Second})
	for ctx.Err() == nil {
		tried := serverUp()
		var err error
		if tried {
			err = f.publish(ctx)
			wasLive := f.live.Swap(false)
			if ctx.Err() != nil {
				return nil
			}
			if wasLive {
				bo.Reset() // it was publishing: a new failure, not more of the old one
			}
		}
		d := bo.Next()
		if tried {
			f.log.Warn("RTSP publishing stopped; restarting", "url", f.url, "err", err, "in", d)
		}
		if bo.Wait(ctx, d) != nil {
			return nil
		}
	}
	return nil
}

// encoderArgs: FFmpeg reads rendered frames on stdin — raw RGBA for H.264
// and H.265, our own JPEGs for MJPEG (copied, so CAMERA_JPEG_QUALITY holds) —
// and publishes them over RTSP (TCP). The encoders take the least CPU that
// plays well: one thread, ultrafast, no B-frames, a key frame every second
// (a reader that joins waits at most that long; HLS segments stay short).
func (f *feed) encoderArgs() []string {
	fps := strconv.FormatFloat(f.cfg.FPS, 'f', -1, 64)
	gop := strconv.Itoa(max(1, int(math.Round(f.cfg.FPS))))
	args := append([]string{}, ffmpeg.LogArgs...)
	raw := []string{"-f", "rawvideo", "-pix_fmt", "rgba", "-video_size", fmt.Sprintf("%dx%d", f.cfg.Width, f.cfg.Height), "-framerate", fps, "-i", "pipe:0"}
	switch f.cfg.Codec {
	case CodecMJPEG:
		args = append(args, "-f", "mjpeg", "-framerate", fps, "-i", "pipe:0", "-c:v", "copy")
	case CodecH265:
		args = append(args, raw...)
		args = append(args, "-c:v", "libx265", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", gop,
			"-x265-params", "log-level=error:pools=1:frame-threads=1")
	default:
		args = append(args, raw...)
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", gop, "-threads", "1")
	}
	return append(args, "-an", "-f", "rtsp", "-rtsp_transport", "tcp", f.publishURL)
}

// publish streams until an error. Video runs in real time whatever the
// simulated clock's speed, so frames are paced by the wall clock.
func (f *feed) publish(ctx context.Context) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := ffmpeg.Start(pctx, ffmpeg.Spec{Bin: f.ffmpeg, Args: f.encoderArgs(), Log: f.log, Redact: f.redact, Stdin: true,
		OnLine: func(l ffmpeg.Line) bool {
			// FFmpeg describes its output once the RTSP server accepted the
			// stream (ANNOUNCE, SETUP, RECORD): from then on it publishes.
			if l.Context == "" && strings.HasPrefix(l.Text, "Output #0") && !f.live.Swap(true) {
				f.log.Info("publishing", "url", f.url, "codec", f.cfg.Codec, "size", fmt.Sprintf("%dx%d", f.cfg.Width, f.cfg.Height), "fps", f.cfg.FPS)
			}
			return false
		}})
	if err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- p.Wait() }()
	stop := func() error {
		_ = p.Stdin.Close()
		cancel()
		return <-exited
	}

	wall := clock.Wall{}
	tick := wall.NewTicker(time.Duration(float64(time.Second) / f.cfg.FPS))
	defer tick.Stop()
	img := image.NewRGBA(image.Rect(0, 0, f.cfg.Width, f.cfg.Height))
	for {
		seq := f.render(img)
		data := img.Pix
		if f.cfg.Codec == CodecMJPEG {
			if data, err = f.jpegOf(seq); err != nil {
				stop()
				return err
			}
		}
		if _, err := p.Stdin.Write(data); err != nil {
			// FFmpeg is gone (a broken pipe): why it went is the error.
			if werr := stop(); werr != nil {
				return fmt.Errorf("ffmpeg: %w", werr)
			}
			return fmt.Errorf("writing to ffmpeg: %w", err)
		}
		f.frames.Add(1)
		select {
		case <-ctx.Done():
			stop()
			return nil
		case err := <-exited:
			cancel()
			if err == nil {
				err = errors.New("exited")
			}
			return fmt.Errorf("ffmpeg: %w", err)
		case <-tick.C():
		}
	}
}
