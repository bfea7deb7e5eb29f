package perception

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/ffmpeg"
)

// Frame is one picture from a camera, already scaled and letterboxed to the
// model's input by FFmpeg.
type Frame struct {
	Pixels []byte    // Box.Size × Box.Size rgb24
	Box    Letterbox // how the camera's picture lies in Pixels
	Seq    uint64
	At     time.Time // wall time it arrived
}

// source keeps the newest frame of one camera, decoded by a supervised FFmpeg
// that is restarted with exponential back-off whenever it fails, ends or goes
// quiet.
type source struct {
	spec     CameraSpec
	ffmpeg   string
	log      *slog.Logger
	retryMax time.Duration
	timeout  time.Duration          // no frame for this long: restart
	size     func() int             // the model's input side
	onState  func(up bool)          // receiving frames or not (metrics)
	onStart  func()                 // an FFmpeg was started (metrics)
	wall     clock.Clock            // media time is wall time, whatever the simulated clock does
	input    atomic.Pointer[string] // InputSnapshot once an http URL turned out to serve single pictures

	mu     sync.Mutex
	latest Frame
	status error // why there are no frames, nil while receiving
	info   streamInfo
	frames atomic.Uint64
	starts atomic.Uint64
}

func newSource(spec CameraSpec, bin string, log *slog.Logger, retryMax, timeout time.Duration, size func() int) *source {
	s := &source{spec: spec, ffmpeg: bin, log: log.With("camera", spec.ID), retryMax: retryMax, timeout: timeout, size: size,
		onState: func(bool) {}, onStart: func() {}, wall: clock.Wall{}, status: errors.New("connecting")}
	in := spec.Input
	s.input.Store(&in)
	return s
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

// Info is what FFmpeg last said about the camera's stream.
func (s *source) Info() streamInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

func (s *source) setStatus(err error) {
	s.mu.Lock()
	s.status = err
	s.mu.Unlock()
	s.onState(err == nil)
}

// quiet is how long a running decoder may deliver nothing before it is
// restarted: the configured timeout, but at least three frame intervals of a
// slow detection rate.
func (s *source) quiet() time.Duration {
	return max(s.timeout, time.Duration(3*float64(time.Second)/s.spec.FPS))
}

// errRestart asks for an immediate restart (a new model size, an http URL
// found to serve snapshots): not a failure.
var errRestart = errors.New("restarting the decoder")

// run decodes the camera until ctx is done.
func (s *source) run(ctx context.Context) error {
	// Many cameras may lose one server at once: jitter keeps them from
	// reconnecting in step.
	bo := backoff.New(s.wall, backoff.Policy{Min: time.Second, Max: s.retryMax, Jitter: 0.2})
	for ctx.Err() == nil {
		gotFrames, err := s.decode(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errRestart) {
			s.log.Info("restarting the decoder", "reason", err)
			continue
		}
		if gotFrames {
			bo.Reset()
		}
		d := bo.Next()
		s.setStatus(fmt.Errorf("%w (retrying in %s)", err, d.Round(100*time.Millisecond)))
		s.log.Warn("camera decoder stopped; restarting", "url", s.spec.URL(), "err", err, "in", d.Round(time.Millisecond))
		if bo.Wait(ctx, d) != nil {
			return nil
		}
	}
	return nil
}

// decode runs one FFmpeg; it reports whether any frame arrived.
func (s *source) decode(ctx context.Context) (bool, error) {
	size := s.size()
	spec := s.spec
	spec.Input = *s.input.Load()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()

	infos := make(chan frameInfo, 64)
	var si streamInfo
	inInput := true
	p, err := ffmpeg.Start(pctx, ffmpeg.Spec{
		Bin: s.ffmpeg, Args: decoderArgs(spec, size, s.timeout), Log: s.log, Redact: spec.redact.Redact, Stdout: true,
		OnLine: func(l ffmpeg.Line) bool {
			if fi, ok := parseShowinfo(l); ok {
				select {
				case infos <- fi:
				case <-pctx.Done():
				}
				return true
			}
			if inInput {
				if inInput = si.parseInput(l); !inInput {
					s.mu.Lock()
					s.info = si
					s.mu.Unlock()
				}
			}
			return strings.HasPrefix(l.Context, "Parsed_showinfo") // its other per-frame lines
		},
	})
	if err != nil {
		return false, err
	}
	s.onStart()
	s.starts.Add(1)
	s.log.Debug("decoder started", "pid", p.Pid(), "url", spec.URL(), "input", spec.Input, "size", size, "fps", spec.FPS, "hwaccel", spec.HW.String())

	arrived := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	var got atomic.Bool
	go func() {
		readErr <- s.readFrames(pctx, p, size, infos, func(f Frame) {
			s.mu.Lock()
			s.latest = f
			s.mu.Unlock()
			if !got.Swap(true) {
				s.setStatus(nil)
				s.log.Info("receiving frames", "url", spec.URL(), "input", spec.Input, "codec", s.Info().Codec,
					"size", fmt.Sprintf("%dx%d", f.Box.SrcW, f.Box.SrcH), "fps", spec.FPS, "hwaccel", spec.HW.String())
			}
			select {
			case arrived <- struct{}{}:
			default:
			}
		})
	}()
	// kill ends FFmpeg (SIGTERM to its group; closing its stdout unblocks a
	// write it is stuck in) and reaps it.
	kill := func() {
		cancel()
		_ = p.Stdout.Close()
		_ = p.Wait()
	}
	watchdog := s.wall.NewTimer(s.quiet())
	defer watchdog.Stop()
	for {
		select {
		case <-ctx.Done():
			kill()
			<-readErr
			return got.Load(), nil
		case <-arrived:
			watchdog.Reset(s.quiet())
		case <-watchdog.C():
			kill()
			<-readErr
			return got.Load(), fmt.Errorf("no frame for %s", s.quiet())
		case err := <-readErr:
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				kill()
				return got.Load(), err
			}
			// FFmpeg closed its output: it is exiting; Wait says why (and,
			// with stderr drained, si is this run's).
			werr := p.Wait()
			return got.Load(), s.explain(spec, si, werr, p.ErrorLines())
		}
	}
}

// explain turns an FFmpeg exit into the camera's status.
func (s *source) explain(spec CameraSpec, info streamInfo, werr error, lines []string) error {
	if err := hardwareFailure(spec.HW, lines); err != nil {
		return err
	}
	// An http URL that answered one JPEG is a snapshot URL (ESP32-CAM
	// /capture): poll it from now on.
	if spec.Input == InputHTTP && info.Demuxer == "jpeg_pipe" {
		snap := InputSnapshot
		s.input.Store(&snap)
		return fmt.Errorf("%w: the URL serves single JPEG pictures; polling it as a snapshot URL at %s/s", errRestart, formatFPS(spec.FPS))
	}
	if strings.Contains(strings.Join(lines, " "), "matches no streams") {
		return fmt.Errorf("the stream has no video (FFmpeg read it as %s)", cmp.Or(info.Demuxer, "unknown"))
	}
	if werr == nil {
		return errors.New("the stream ended")
	}
	return fmt.Errorf("ffmpeg: %w", werr)
}

// readFrames reads size×size rgb24 frames from FFmpeg until its output ends,
// pairing frame k with showinfo's line for frame k (the camera's picture size).
func (s *source) readFrames(ctx context.Context, p *ffmpeg.Proc, size int, infos <-chan frameInfo, deliver func(Frame)) error {
	n := size * size * 3
	for k := uint64(0); ; k++ {
		buf := make([]byte, n)
		if _, err := io.ReadFull(p.Stdout, buf); err != nil {
			return err
		}
		var fi frameInfo
		for {
			select {
			case fi = <-infos:
			case <-ctx.Done():
				return io.EOF
			}
			if fi.n >= k {
				break
			}
		}
		if fi.n != k {
			return fmt.Errorf("frame %d arrived without its description (showinfo said %d)", k, fi.n)
		}
		deliver(Frame{Pixels: buf, Box: NewLetterbox(fi.w, fi.h, size), Seq: s.frames.Add(1), At: s.wall.Now()})
		if s.size() != size {
			return fmt.Errorf("%w: the model's input is %d pixels, frames were %d", errRestart, s.size(), size)
		}
	}
}
