package perception

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmjpeg"
	"github.com/pion/rtp"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
)

// Frame is one encoded picture from a camera.
type Frame struct {
	JPEG []byte
	Seq  uint64
	At   time.Time // wall time it arrived
}

// source keeps the newest frame of one RTSP camera, reconnecting with
// exponential back-off whenever the stream fails or goes quiet.
type source struct {
	spec     CameraSpec
	log      *slog.Logger
	retryMax time.Duration
	wall     clock.Clock // media time is wall time, whatever the simulated clock does

	mu     sync.Mutex
	latest Frame
	status error // why there are no frames, nil while streaming
	frames atomic.Uint64
}

func newSource(spec CameraSpec, log *slog.Logger, retryMax time.Duration) *source {
	return &source{spec: spec, log: log.With("camera", spec.ID), retryMax: retryMax, wall: clock.Wall{},
		status: errors.New("connecting")}
}

// Latest returns the newest frame (Seq 0 when none arrived yet).
func (s *source) Latest() Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}

// Status is nil while frames flow, else why they do not.
func (s *source) Status() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *source) setStatus(err error) {
	s.mu.Lock()
	s.status = err
	s.mu.Unlock()
}

// quiet is how long a connected stream may send nothing before it is
// dropped and reopened.
const quiet = 10 * time.Second

// run reads the camera until ctx is done.
func (s *source) run(ctx context.Context) error {
	// Many cameras may lose one server at once: jitter keeps them from
	// reconnecting in step.
	bo := backoff.New(s.wall, backoff.Policy{Min: time.Second, Max: s.retryMax, Jitter: 0.2})
	for ctx.Err() == nil {
		gotFrames, err := s.play(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if gotFrames {
			bo.Reset()
		}
		d := bo.Next()
		s.setStatus(fmt.Errorf("%s: %w (retrying in %s)", s.spec.URL, err, d))
		s.log.Warn("camera stream failed; reconnecting", "url", s.spec.URL, "err", err, "in", d)
		if bo.Wait(ctx, d) != nil {
			return nil
		}
	}
	return nil
}

// play streams one RTSP session; it reports whether any frame arrived.
func (s *source) play(ctx context.Context) (bool, error) {
	u, err := base.ParseURL(s.spec.URL)
	if err != nil {
		return false, err
	}
	tcp := gortsplib.TransportTCP
	c := gortsplib.Client{Transport: &tcp, ReadTimeout: quiet}
	if err := c.Start(u.Scheme, u.Host); err != nil {
		return false, err
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		return false, fmt.Errorf("describe: %w", err)
	}
	var forma *format.MJPEG
	medi := desc.FindFormat(&forma)
	if medi == nil {
		return false, errors.New("the stream has no MJPEG video (perception reads RTP/JPEG streams)")
	}
	dec, err := forma.CreateDecoder()
	if err != nil {
		return false, err
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return false, fmt.Errorf("setup: %w", err)
	}
	var got atomic.Bool
	arrived := make(chan struct{}, 1)
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		j, err := dec.Decode(pkt)
		if err != nil {
			if !errors.Is(err, rtpmjpeg.ErrMorePacketsNeeded) && !errors.Is(err, rtpmjpeg.ErrNonStartingPacketAndNoPrevious) {
				s.log.Debug("dropping a broken frame", "err", err)
			}
			return
		}
		seq := s.frames.Add(1)
		s.mu.Lock()
		s.latest = Frame{JPEG: j, Seq: seq, At: s.wall.Now()}
		s.status = nil
		s.mu.Unlock()
		if !got.Swap(true) {
			s.log.Info("receiving frames", "url", s.spec.URL)
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	if _, err := c.Play(nil); err != nil {
		return false, fmt.Errorf("play: %w", err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	watchdog := s.wall.NewTimer(quiet)
	defer watchdog.Stop()
	for {
		select {
		case <-ctx.Done():
			return got.Load(), nil
		case err := <-waitErr:
			return got.Load(), err
		case <-arrived:
			watchdog.Reset(quiet)
		case <-watchdog.C():
			return got.Load(), fmt.Errorf("no frame for %s", quiet)
		}
	}
}
