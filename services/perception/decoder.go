package perception

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/ffmpeg"
)

// Each camera is decoded by an FFmpeg child process that writes raw frames
// already scaled and letterboxed to the model's input — size×size rgb24 on a
// pipe — at the camera's detection rate, whatever the camera's own rate:
//
//	camera → demux → decode (CPU, VAAPI or CUDA) → fps=N → showinfo → scale → pad → rgb24 → pipe
//
// showinfo reports each kept frame's size before scaling (one stderr line
// per frame, matched to the frame by its number), which maps detections
// back to the camera's pixels.

// padColour is Ultralytics' letterbox grey (114, 114, 114).
const padColour = "0x727272"

// decoderArgs is the FFmpeg command line for camera c at model input size.
// timeout bounds FFmpeg's own network waits (connect, read).
func decoderArgs(c CameraSpec, size int, timeout time.Duration) []string {
	args := append([]string{}, ffmpeg.LogArgs...)
	args = append(args, hwaccelArgs(c.HW)...)
	us := strconv.FormatInt(timeout.Microseconds(), 10)
	fps := formatFPS(c.FPS)
	switch c.Input {
	case InputRTSP:
		// A tiny probe: the SDP names the codec and the decoder learns the
		// rest from the stream, so the first frame arrives after the first
		// key frame instead of after FFmpeg's default 5 s of analysis.
		args = append(args, "-rtsp_transport", "tcp", "-timeout", us,
			"-probesize", "32", "-analyzeduration", "0", "-fpsprobesize", "0")
	case InputHTTP:
		// Multipart MJPEG carries no timestamps: arrival time is the frame's
		// time, so the fps filter keeps the real rate.
		args = append(args, "-rw_timeout", us, "-use_wallclock_as_timestamps", "1")
	case InputSnapshot:
		// image2 with -loop reopens (fetches) the URL for every frame; -re
		// paces the fetches at the detection rate. It takes no network
		// timeout (it opens each picture itself): a fetch that hangs is the
		// watchdog's to end.
		args = append(args, "-re", "-f", "image2", "-loop", "1", "-pattern_type", "none", "-framerate", fps)
	case InputV4L2:
		args = append(args, "-f", "v4l2")
		if c.InputFormat != "" {
			args = append(args, "-input_format", c.InputFormat)
		}
		if c.VideoSize != "" {
			args = append(args, "-video_size", c.VideoSize)
		}
	}
	return append(args, "-i", c.url, "-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", decoderFilter(c.FPS, size), "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1")
}

// decoderFilter keeps fps frames a second, describes each (showinfo) and
// letterboxes it into size×size as Ultralytics does: scaled to fit
// (bilinear, as cv2.INTER_LINEAR), centred on grey 114.
func decoderFilter(fps float64, size int) string {
	s := strconv.Itoa(size)
	return "fps=" + formatFPS(fps) + ",showinfo=checksum=0," +
		"scale=" + s + ":" + s + ":force_original_aspect_ratio=decrease:flags=bilinear," +
		"pad=" + s + ":" + s + ":(ow-iw)/2:(oh-ih)/2:color=" + padColour
}

// hwaccelArgs decode on the GPU. The device is created explicitly
// (-init_hw_device) so that a missing or unusable one is an error at start-up
// instead of FFmpeg's silent fallback to the CPU. Frames come back to system
// memory for the fps, scale and pad filters (only the detection rate's frames
// are scaled).
func hwaccelArgs(h HWAccel) []string {
	switch h.Kind {
	case HWVAAPI:
		return []string{"-init_hw_device", "vaapi=soms:" + h.Device, "-hwaccel", "vaapi", "-hwaccel_device", "soms"}
	case HWCUDA:
		return []string{"-init_hw_device", "cuda=soms:" + h.Device, "-hwaccel", "cuda", "-hwaccel_device", "soms"}
	}
	return nil
}

func formatFPS(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// frameInfo is what showinfo says about frame N before scaling.
type frameInfo struct {
	n    uint64
	w, h int
}

var showinfoLine = regexp.MustCompile(`^n:\s*(\d+) .*\bs:(\d+)x(\d+)\b`)

// parseShowinfo reads a showinfo frame line ("n:   3 pts: … s:640x480 …").
func parseShowinfo(l ffmpeg.Line) (frameInfo, bool) {
	if !strings.HasPrefix(l.Context, "Parsed_showinfo") {
		return frameInfo{}, false
	}
	m := showinfoLine.FindStringSubmatch(l.Text)
	if m == nil {
		return frameInfo{}, false
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	w, _ := strconv.Atoi(m[2])
	h, _ := strconv.Atoi(m[3])
	return frameInfo{n: n, w: w, h: h}, w > 0 && h > 0
}

// streamInfo is what FFmpeg says about its input.
type streamInfo struct {
	Demuxer string // rtsp, mpjpeg, jpeg_pipe, image2, video4linux2,v4l2…
	Codec   string // h264, hevc, mjpeg…
}

var (
	inputLine  = regexp.MustCompile(`^Input #0, (.+), from '`)
	streamLine = regexp.MustCompile(`^\s*Stream #0:\d+.*: Video: (\w+)`)
)

// parseInput updates si from one of FFmpeg's input description lines; it
// reports false once the output's description starts (whose streams are
// ours, not the camera's).
func (si *streamInfo) parseInput(l ffmpeg.Line) bool {
	if l.Context != "" {
		return true
	}
	if strings.HasPrefix(l.Text, "Output #") || strings.HasPrefix(l.Text, "Stream mapping") {
		return false
	}
	if m := inputLine.FindStringSubmatch(l.Text); m != nil {
		si.Demuxer = m[1]
	} else if m := streamLine.FindStringSubmatch(l.Text); m != nil && si.Codec == "" {
		si.Codec = m[1]
	}
	return true
}

// errHardware says that FFmpeg could not start the configured hardware
// decoding.
var errHardware = errors.New("hardware decoding could not start")

// hardwareFailure recognises FFmpeg's failures to create the device.
func hardwareFailure(h HWAccel, lines []string) error {
	if h.Kind == HWNone || h.Kind == "" {
		return nil
	}
	all := strings.Join(lines, "; ")
	if !strings.Contains(all, "init_hw_device") && !strings.Contains(all, "Device creation failed") && !strings.Contains(all, "hwaccel") {
		return nil
	}
	hint := "is the render node passed to the container (devices:) and readable by its user (group render or video)?"
	if h.Kind == HWCUDA {
		hint = "does the container see the GPU (NVIDIA Container Toolkit, capabilities [gpu, video]) and libcuda.so.1?"
	}
	return fmt.Errorf("%w (%s): %s — %s or set hwaccel=none", errHardware, h, all, hint)
}
