// Package perception turns camera streams into the office's occupancy and
// activity: per camera a supervised FFmpeg process (RTSP H.264/H.265/MJPEG,
// HTTP MJPEG streams and snapshots, V4L2; CPU, VAAPI or CUDA decoding) that
// delivers raw frames already letterboxed to the model's input at the
// camera's detection rate, a YOLO11 detect or pose model on ONNX Runtime
// (CPU, CUDA or ROCm), output decoding (boxes, and 17 keypoints from a pose
// model), confidence filter and NMS, then the original SOMS monitors —
// occupancy, activity (motion level, posture duration over a tiered buffer)
// and fall candidates — publishing the original topics and payloads on MQTT.
//
// cgo (ONNX Runtime through onnxruntime_go) is confined to this package
// (engine.go).
package perception

import (
	"fmt"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env perception`.
type Config struct {
	Common    service.Common
	Addr      string   `env:"PERCEPTION_ADDR" default:":8019" doc:"HTTP listen address (health, metrics, GET /cameras)"`
	Cameras   []string `env:"PERCEPTION_CAMERAS" default:"cam_main@main=rtsp://127.0.0.1:8554/cam_main" doc:"cameras as id@zone=URL[;option…], comma-separated; URL: rtsp://, rtsps://, http(s):// (MJPEG stream or snapshot) or /dev/videoN; options fps=N, hwaccel=none, vaapi[:/dev/dri/renderDN] or cuda[:N], snapshot, size=WxH and format=F (V4L2); see docs/perception.md"`
	Model     string   `env:"PERCEPTION_MODEL" default:"/models/yolo11s.onnx" doc:"YOLO11 detect or pose model exported to ONNX (yolo export model=yolo11s.pt format=onnx, or yolo11s-pose.pt), or builtin:synthetic / builtin:synthetic-pose for the generated test models that see the virtual camera's figures"`
	ModelKind string   `env:"PERCEPTION_MODEL_KIND" default:"auto" doc:"how to read the model's output: detect ([1,4+classes,N]), pose ([1,56,N]: box, person score, 17 keypoints), or auto (the export's metadata task, else pose when the output has 56 channels)"`
	Library   string   `env:"ONNXRUNTIME_LIB" doc:"ONNX Runtime shared library (default: the one infra/scripts/onnxruntime.sh installs under .soms/cache, then libonnxruntime.so on the loader path)"`

	FFmpeg        string        `env:"PERCEPTION_FFMPEG" doc:"ffmpeg binary that decodes the cameras (default: ffmpeg on PATH)"`
	DetectFPS     float64       `env:"PERCEPTION_DETECT_FPS" default:"5" doc:"detection rate: frames per second each camera hands the pipeline (whatever the camera's own rate); a camera's fps= option overrides"`
	HWAccel       string        `env:"PERCEPTION_HWACCEL" default:"none" doc:"hardware decoding of cameras that set no hwaccel= option: none, vaapi[:/dev/dri/renderDN] or cuda[:N]"`
	CameraTimeout time.Duration `env:"PERCEPTION_CAMERA_TIMEOUT" default:"10s" doc:"a camera that delivers no frame for this long (wall time) is reconnected"`

	Provider string `env:"PERCEPTION_PROVIDER" default:"cpu" doc:"execution provider: cpu, cuda or rocm (needs a GPU build of ONNX Runtime)"`
	Threads  int    `env:"PERCEPTION_THREADS" default:"0" doc:"ONNX Runtime intra-op threads (0: one per core)"`

	Confidence float64 `env:"PERCEPTION_CONFIDENCE" default:"0.5" doc:"minimum detection confidence"`
	IoU        float64 `env:"PERCEPTION_IOU" default:"0.45" doc:"NMS overlap above which the weaker box is dropped"`

	Monitors          []string      `env:"PERCEPTION_MONITORS" default:"occupancy,activity" doc:"monitors run on every camera: occupancy, activity (activity includes fall detection)"`
	OccupancyInterval time.Duration `env:"PERCEPTION_OCCUPANCY_INTERVAL" default:"5s" doc:"occupancy monitor period (simulated time in simulation)"`
	ActivityInterval  time.Duration `env:"PERCEPTION_ACTIVITY_INTERVAL" default:"3s" doc:"activity monitor period"`
	FrameMaxAge       time.Duration `env:"PERCEPTION_FRAME_MAX_AGE" default:"10s" doc:"a camera whose newest frame is older than this (wall time) is not analysed"`
	RetryMax          time.Duration `env:"PERCEPTION_RETRY_MAX" default:"60s" doc:"longest back-off between attempts to load the model or reach a camera"`

	FallThreshold float64       `env:"PERCEPTION_FALL_THRESHOLD" default:"0.5" doc:"fall score at which a person is a fall candidate"`
	FallConfirm   time.Duration `env:"PERCEPTION_FALL_CONFIRM" default:"5s" doc:"how long the score must stay above the threshold before the alert"`
	FallRecovery  time.Duration `env:"PERCEPTION_FALL_RECOVERY" default:"10s" doc:"how long below the threshold before the person counts as recovered"`
	FallCooldown  time.Duration `env:"PERCEPTION_FALL_COOLDOWN" default:"120s" doc:"minimum time between two fall alerts for one person"`
}

func (c Config) validate() error {
	var bad []string
	if c.Confidence <= 0 || c.Confidence >= 1 {
		bad = append(bad, fmt.Sprintf("PERCEPTION_CONFIDENCE=%g: want 0 < x < 1", c.Confidence))
	}
	if c.IoU <= 0 || c.IoU >= 1 {
		bad = append(bad, fmt.Sprintf("PERCEPTION_IOU=%g: want 0 < x < 1", c.IoU))
	}
	switch c.ModelKind {
	case KindAuto, KindDetect, KindPose:
	default:
		bad = append(bad, fmt.Sprintf("PERCEPTION_MODEL_KIND=%q: want auto, detect or pose", c.ModelKind))
	}
	switch c.Provider {
	case "cpu", "cuda", "rocm":
	default:
		bad = append(bad, fmt.Sprintf("PERCEPTION_PROVIDER=%q: want cpu, cuda or rocm", c.Provider))
	}
	for _, m := range c.Monitors {
		if m != "occupancy" && m != "activity" {
			bad = append(bad, fmt.Sprintf("PERCEPTION_MONITORS: unknown monitor %q (occupancy, activity)", m))
		}
	}
	if c.DetectFPS <= 0 || c.DetectFPS > 60 {
		bad = append(bad, fmt.Sprintf("PERCEPTION_DETECT_FPS=%g: want 0 < fps <= 60", c.DetectFPS))
	}
	if _, err := ParseHWAccel(c.HWAccel); err != nil {
		bad = append(bad, "PERCEPTION_HWACCEL: "+err.Error())
	}
	if c.CameraTimeout < time.Second {
		bad = append(bad, fmt.Sprintf("PERCEPTION_CAMERA_TIMEOUT=%s: want at least 1s", c.CameraTimeout))
	}
	if c.OccupancyInterval <= 0 || c.ActivityInterval <= 0 {
		bad = append(bad, "monitor intervals must be positive")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// cameras parses PERCEPTION_CAMERAS with the global defaults.
func (c Config) cameras() ([]CameraSpec, error) {
	hw, err := ParseHWAccel(c.HWAccel)
	if err != nil {
		return nil, fmt.Errorf("PERCEPTION_HWACCEL: %w", err)
	}
	return ParseCameras(c.Cameras, CameraDefaults{FPS: c.DetectFPS, HW: hw})
}
