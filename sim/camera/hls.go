package camera

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/ffmpeg"
)

// Browsers play neither RTSP nor MJPEG, and few play H.265. With
// CAMERA_HLS=true mediamtx's HLS server serves each H.264 camera's own stream
// at http://…:{CAMERA_HLS_PORT}/{id}/index.m3u8, as it would a real H.264
// camera's; an MJPEG or H.265 camera gets an ffmpeg transcoder that reads
// rtsp://…/{id} and publishes H.264 to rtsp://…/{id}_h264, served at
// …/{id}_h264/index.m3u8.

// hlsSuffix names the transcoded H.264 path of a camera.
const hlsSuffix = "_h264"

// hlsConfig is the HLS part of the mediamtx configuration.
type hlsConfig struct {
	port    int
	variant string
}

// hlsURL is where the HLS playlist of an RTSP path is served.
func hlsURL(port int, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + "/" + path + "/index.m3u8"
}

// transcoder keeps one ffmpeg converting a camera's MJPEG or H.265 to H.264,
// restarting it with back-off when it dies.
type transcoder struct {
	bin     string
	src     string              // rtsp://camera:…@127.0.0.1:port/{id}
	dst     string              // rtsp://camera:…@127.0.0.1:port/{id}_h264
	redact  func(string) string // keeps the password out of logs (nil: none)
	log     *slog.Logger
	running atomic.Bool
	starts  atomic.Uint64
}

// ffmpegArgs: the smallest CPU cost that browsers play — one thread,
// ultrafast x264 without B-frames, a key frame every 10 frames (2 s at 5 fps)
// so HLS segments stay short.
func (t *transcoder) args() []string {
	return append(append([]string{}, ffmpeg.LogArgs...),
		"-rtsp_transport", "tcp", "-i", t.src,
		"-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
		"-pix_fmt", "yuv420p", "-g", "10", "-threads", "1",
		"-f", "rtsp", "-rtsp_transport", "tcp", t.dst,
	)
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
		t.log.Warn("ffmpeg transcoder stopped; restarting", "src", t.clean(t.src), "err", err, "in", d)
		if bo.Wait(ctx, d) != nil {
			return nil
		}
	}
	return nil
}

func (t *transcoder) clean(s string) string {
	if t.redact == nil {
		return s
	}
	return t.redact(s)
}

func (t *transcoder) once(ctx context.Context) error {
	p, err := ffmpeg.Start(ctx, ffmpeg.Spec{Bin: t.bin, Args: t.args(), Log: t.log, Redact: t.redact})
	if err != nil {
		return err
	}
	t.starts.Add(1)
	t.running.Store(true)
	defer t.running.Store(false)
	t.log.Info("transcoding to H.264 for HLS", "src", t.clean(t.src), "dst", t.clean(t.dst), "pid", p.Pid())
	if err := p.Wait(); err != nil {
		return err
	}
	return errors.New("ffmpeg exited")
}
