package perception

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/ffmpeg"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/sim/camera"
	"github.com/somsgo/soms/sim/modelgen"
	"github.com/somsgo/soms/sim/scene"
)

// BenchmarkPipeline runs one camera frame (640×480, three people) through
// the per-frame work in this process and reports each stage's mean time, the
// frames per second one camera could sustain, and the time spent outside
// inference as a percentage of inference time. Two ways, side by side:
//
//   - jpeg: the former path, the JPEG as an MJPEG stream carried it, decoded by
//     Go's image/jpeg, letterboxed and converted to the model's input in Go;
//   - raw: the frame as the camera's FFmpeg delivers it (rgb24, scaled and
//     letterboxed already), converted to the model's input.
//
// The raw frame is made by FFmpeg with the decoder's own filter. What FFmpeg
// spends per frame is BenchmarkDecoder's.
//
// Models: "synthetic" is the generated detector alone (a light graph, so the
// ratio is pessimistic); "yolo11n-compute" and "yolo11s-compute" add a
// convolution stack with about the compute of YOLO11n (6.5 GFLOPs) and of
// YOLO11s (21.5 GFLOPs, the original SOMS's model), what real exports cost.
func BenchmarkPipeline(b *testing.B) {
	b.Run("synthetic", func(b *testing.B) { benchPaths(b, syntheticDetector(b)) })
	b.Run("synthetic-pose", func(b *testing.B) { benchPaths(b, syntheticPoseDetector(b)) })
	b.Run("yolo11n-compute", func(b *testing.B) { benchBackbone(b, 6.5) })
	b.Run("yolo11s-compute", func(b *testing.B) { benchBackbone(b, 21.5) })
}

func benchBackbone(b *testing.B, gflops float64) {
	syntheticDetector(b) // runtime loaded
	data, err := modelgen.PersonDetector(modelgen.Options{Size: 640, Classes: 80, BackboneGFLOPs: gflops})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "backbone.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	e, err := NewEngine(EngineConfig{Library: FindRuntimeLibrary(""), Model: path, Provider: benchProvider(), Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	benchPaths(b, NewDetector(e, 0.5, 0.45))
}

// benchProvider lets a GPU host run the benchmark on CUDA:
// SOMS_BENCH_PROVIDER=cuda go test -bench Pipeline ./services/perception/
func benchProvider() string {
	if p := os.Getenv("SOMS_BENCH_PROVIDER"); p != "" {
		return p
	}
	return "cpu"
}

var benchScene = scene.Zone{Zone: "z", People: []scene.Person{
	{ID: "a", X: 0.15, Y: 0.5, Posture: scene.Standing},
	{ID: "b", X: 0.5, Y: 0.8, Posture: scene.Sitting},
	{ID: "c", X: 0.85, Y: 0.3, Posture: scene.Walking, Motion: 0.5},
}}

func benchPaths(b *testing.B, d *Detector) {
	j := cameraJPEG(b, benchScene)
	jp := &jpegPath{d: d}
	b.Run("jpeg", func(b *testing.B) { benchFrames(b, func() (Result, error) { return jp.Detect(j) }) })
	f := ffmpegFrame(b, j, d.engine.Size)
	b.Run("raw", func(b *testing.B) { benchFrames(b, func() (Result, error) { return d.DetectFrame(f) }) })
}

// ffmpegFrame letterboxes a 640×480 JPEG with the decoder's filter, as a
// camera's FFmpeg would.
func ffmpegFrame(b *testing.B, j []byte, size int) Frame {
	bin, err := ffmpeg.Find("", "PERCEPTION_FFMPEG")
	if err != nil {
		b.Fatal(err)
	}
	in := filepath.Join(b.TempDir(), "frame.jpg")
	if err := os.WriteFile(in, j, 0o644); err != nil {
		b.Fatal(err)
	}
	args := append(append([]string{}, ffmpeg.LogArgs...), "-loop", "1", "-framerate", "5", "-i", in, "-vf", decoderFilter(5, size), "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1")
	var out, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil || out.Len() != size*size*3 {
		b.Fatalf("ffmpeg: %v, %d bytes\n%s", err, out.Len(), stderr.String())
	}
	return Frame{Pixels: out.Bytes(), Box: NewLetterbox(640, 480, size), Seq: 1}
}

func benchFrames(b *testing.B, detect func() (Result, error)) {
	var sum Timings
	for b.Loop() {
		r, err := detect()
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Persons) != 3 {
			b.Fatalf("%d persons", len(r.Persons))
		}
		sum.Decode += r.Timings.Decode
		sum.Preprocess += r.Timings.Preprocess
		sum.Inference += r.Timings.Inference
		sum.Postprocess += r.Timings.Postprocess
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / n / 1e6 }
	b.ReportMetric(ms(sum.Decode), "decode-ms")
	b.ReportMetric(ms(sum.Preprocess), "preprocess-ms")
	b.ReportMetric(ms(sum.Inference), "inference-ms")
	b.ReportMetric(ms(sum.Postprocess), "postprocess-ms")
	total := sum.Decode + sum.Preprocess + sum.Inference + sum.Postprocess
	b.ReportMetric(n/total.Seconds(), "frames/s")
	if sum.Inference > 0 {
		b.ReportMetric(100*float64(total-sum.Inference)/float64(sum.Inference), "overhead-%")
	}
}

// BenchmarkDecoder measures what a camera costs outside this process: the
// CPU time of its FFmpeg decoder (all threads) per frame delivered at the
// detection rate (5/s), and as a share of one core. Each iteration is one
// delivered frame, so the run takes b.N/5 seconds; use -benchtime 50x or
// more (the CPU clock is exact, the share needs some seconds).
//
// Streams, served by a real mediamtx (the virtual camera's) or an HTTP server:
// the virtual camera's H.264 (640×480, 5 fps); an IP camera's main stream
// (H.264 and H.265, 1920×1080, 25 fps, a clip FFmpeg made and replays
// without re-encoding); an ESP32-CAM's MJPEG over HTTP (640×480, 10 fps).
func BenchmarkDecoder(b *testing.B) {
	bin, err := ffmpeg.Find("", "PERCEPTION_FFMPEG")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rtspPort := startBenchCamera(b, ctx)
	rtsp := "rtsp://127.0.0.1:" + strconv.Itoa(rtspPort) + "/"
	replay := func(name, codecArgs string) string {
		clip := filepath.Join(b.TempDir(), name+".mkv")
		args := append(append([]string{}, ffmpeg.LogArgs...), "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25", "-t", "4")
		args = append(append(args, strings.Fields(codecArgs)...), "-pix_fmt", "yuv420p", "-g", "50", "-y", clip)
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			b.Fatalf("making the clip: %v\n%s", err, out)
		}
		pub := exec.CommandContext(ctx, bin, append(append([]string{}, ffmpeg.LogArgs...),
			"-re", "-stream_loop", "-1", "-i", clip, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", rtsp+name)...)
		if err := pub.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cancel(); _ = pub.Wait() })
		return rtsp + name
	}
	esp := httptest.NewServer(esp32Handler(b, 3))
	defer func() { esp.CloseClientConnections(); esp.Close() }()

	for _, tt := range []struct {
		name string
		url  func() string
	}{
		{"virtual-h264-640x480-5fps", func() string { return rtsp + "bench" }},
		{"h264-1920x1080-25fps", func() string { return replay("h264", "-c:v libx264 -preset veryfast") }},
		{"h265-1920x1080-25fps", func() string {
			return replay("h265", "-c:v libx265 -preset ultrafast -x265-params log-level=error")
		}},
		{"http-mjpeg-640x480-10fps", func() string { return esp.URL + "/stream" }},
	} {
		b.Run(tt.name, func(b *testing.B) { benchDecoder(b, ctx, bin, tt.url()) })
	}
}

func benchDecoder(b *testing.B, ctx context.Context, bin, url string) {
	if strings.HasPrefix(url, "http") {
		url = withCreds(url, "", camUser, camPass)
	}
	s := newSource(mustCamera(b, "bench@z="+url), bin, logging.Discard(), time.Minute, 10*time.Second, func() int { return 640 })
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.run(ctx) }()
	defer func() { cancel(); <-done }()
	next := func(after uint64) uint64 {
		deadline := time.Now().Add(30 * time.Second)
		for {
			if seq := s.Latest().Seq; seq > after {
				return seq
			}
			if time.Now().After(deadline) {
				b.Fatalf("no frame after %d: %v", after, s.Status())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	seq0 := next(2) // past the start-up burst
	pids := childProcs(b, "showinfo=checksum=0", url)
	if len(pids) != 1 {
		b.Fatalf("decoder processes: %v", pids)
	}
	cpu0, t0 := procCPU(b, pids[0]), time.Now()
	seq := seq0
	for b.Loop() {
		seq = next(seq)
	}
	cpu, wall, frames := procCPU(b, pids[0])-cpu0, time.Since(t0), float64(seq-seq0)
	b.ReportMetric(float64(cpu)/1e6/frames, "ffmpeg-cpu-ms/frame")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "ffmpeg-core-%")
	b.ReportMetric(frames/wall.Seconds(), "frames/s")
}

// procCPU is the CPU time of all threads of pid (schedstat: nanoseconds).
func procCPU(b *testing.B, pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(data))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	if len(tasks) == 0 {
		b.Fatalf("process %d is gone", pid)
	}
	return time.Duration(sum)
}

// startBenchCamera runs the virtual camera (its mediamtx serves the replayed
// clips too) with one H.264 camera, bench; it returns the RTSP port.
func startBenchCamera(b *testing.B, ctx context.Context) int {
	var cfg camera.Config
	if err := config.Load(&cfg, func(k string) (string, bool) { return map[string]string{"LOG_LEVEL": "warn"}[k], k == "LOG_LEVEL" }); err != nil {
		b.Fatal(err)
	}
	port := freePort(b)
	cfg.Addr = "127.0.0.1:" + strconv.Itoa(freePort(b))
	cfg.RTSPPort = port
	cfg.Cameras = []string{"bench@z"}
	cfg.FollowScene = false
	done := make(chan error, 1)
	go func() { done <- camera.Run(ctx, cfg) }()
	b.Cleanup(func() { <-done })
	return port
}
