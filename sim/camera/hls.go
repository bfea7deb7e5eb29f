package camera

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
)

// Browsers cannot play RTSP or MJPEG, so with CAMERA_HLS=true each camera's
// MJPEG stream is transcoded to H.264 by an ffmpeg child process that reads
// rtsp://…/{id} and publishes rtsp://…/{id}_h264, which mediamtx's HLS server
// serves at http://…:{CAMERA_HLS_PORT}/{id}_h264/index.m3u8.

// hlsSuffix names the H.264 path of a camera.
const hlsSuffix = "_h264"

// hlsConfig is the HLS part of the mediamtx configuration.
type hlsConfig struct {
	port    int
	variant string
}

// hlsURL is where a camera's HLS playlist is served.
func hlsURL(port int, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + "/" + path + hlsSuffix + "/index.m3u8"
}

// FindFFmpeg resolves CAMERA_FFMPEG: an explicit path as is, else ffmpeg on
// PATH. The error names the Debian package.
func FindFFmpeg(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("CAMERA_FFMPEG=%s: %w", explicit, err)
		}
		return explicit, nil
	}
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", errors.New("CAMERA_HLS=true needs ffmpeg, which is not on PATH: install the Debian package ffmpeg (apt-get install ffmpeg; `make deps` does) or set CAMERA_FFMPEG")
	}
	return p, nil
}

// transcoder keeps one ffmpeg converting a camera's MJPEG to H.264,
// restarting it with back-off when it dies.
type transcoder struct {
	bin     string
	src     string // rtsp://127.0.0.1:port/{id}
	dst     string // rtsp://127.0.0.1:port/{id}_h264
	log     *slog.Logger
	running atomic.Bool
	starts  atomic.Uint64
}

// ffmpegArgs: the smallest CPU cost that browsers play — one thread,
// ultrafast x264 without B-frames, a key frame every 10 frames (2 s at 5 fps)
// so HLS segments stay short.
func (t *transcoder) args() []string {
	return []string{
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
		"-rtsp_transport", "tcp", "-i", t.src,
		"-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
		"-pix_fmt", "yuv420p", "-g", "10", "-threads", "1",
		"-f", "rtsp", "-rtsp_transport", "tcp", t.dst,
	}
}

// run waits for the camera's source to be published (sourceUp), then keeps
// ffmpeg running until ctx is done.
func (t *transcoder) run(ctx context.Context, sourceUp func() bool) error {
	wall := clock.Wall{} // process supervision runs on wall time
	bo := backoff.New(wall, backoff.Policy{Min: time.Second, Max: 30 * time.Second})
	for ctx.Err() == nil {
		if !sourceUp() {
			if clock.Sleep(ctx, wall, 250*time.Millisecond) != nil {
				return nil
			}
			continue
		}
		started := wall.Now()
		err := t.once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if clock.Since(wall, started) > time.Minute {
			bo.Reset()
		}
		d := bo.Next()
		t.log.Warn("ffmpeg transcoder stopped; restarting", "src", t.src, "err", err, "in", d)
		if bo.Wait(ctx, d) != nil {
			return nil
		}
	}
	return nil
}

func (t *transcoder) once(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, t.bin, t.args()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", t.bin, err)
	}
	t.starts.Add(1)
	t.running.Store(true)
	defer t.running.Store(false)
	t.log.Info("transcoding to H.264 for HLS", "src", t.src, "dst", t.dst, "pid", cmd.Process.Pid)
	var last string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		last = sc.Text()
		t.log.Debug(last, "component", "ffmpeg")
	}
	if err := cmd.Wait(); err != nil {
		if last != "" {
			return fmt.Errorf("%w: %s", err, last)
		}
		return err
	}
	return errors.New("ffmpeg exited")
}
