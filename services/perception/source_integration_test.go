package perception

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/ffmpeg"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/sim/camera"
	"github.com/somsgo/soms/sim/scene"
)

// The credentials of the test cameras: they must never appear in logs, errors
// or GET /cameras.
const (
	camUser = "viewer"
	camPass = "hunter2-s3cret"
)

// esp32 is an httptest server shaped like an ESP32-CAM: /stream is a
// multipart/x-mixed-replace MJPEG stream at 10 frames/s (:81/stream),
// /capture one JPEG per request; both need HTTP basic auth. /garbage
// and /stall are broken cameras.
func esp32(t *testing.T, people int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(esp32Handler(t, people))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

func esp32Handler(t testing.TB, people int) http.Handler {
	t.Helper()
	z := scene.Zone{Zone: "z"}
	for i := range people {
		z.People = append(z.People, scene.Person{ID: fmt.Sprint(i), X: 0.2 + 0.3*float64(i), Y: 0.6, Posture: scene.Standing})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, camera.Frame(z, 640, 480, 1, 1500*time.Millisecond), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	frame := buf.Bytes()
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); ok && u == camUser && p == camPass {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="esp32"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return false
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		const boundary = "123456789000000000000987654321" // the ESP32-CAM firmware's
		w.Header().Set("Content-Type", "multipart/x-mixed-replace;boundary="+boundary)
		tick := clock.Wall{}.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", boundary, len(frame))
			if _, err := w.Write(frame); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C():
			}
		}
	})
	mux.HandleFunc("/capture", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		// Content-Length, as the ESP32-CAM sends it: FFmpeg's image2 reader
		// needs a picture's size (a chunked picture fails; docs/perception.md).
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(frame)))
		_, _ = w.Write(frame)
	})
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/x-mixed-replace;boundary=x")
		_, _ = w.Write(bytes.Repeat([]byte("this is no camera "), 4096))
	})
	mux.HandleFunc("/audio", func(w http.ResponseWriter, r *http.Request) {
		// A camera URL that answers with sound only: a second of silent WAV.
		const rate, n = 8000, 8000
		w.Header().Set("Content-Type", "audio/wav")
		hdr := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00")
		hdr = binary.LittleEndian.AppendUint32(hdr, rate)
		hdr = binary.LittleEndian.AppendUint32(hdr, rate)
		hdr = append(hdr, 1, 0, 8, 0)
		hdr = append(hdr, "data"...)
		hdr = binary.LittleEndian.AppendUint32(hdr, n)
		binary.LittleEndian.PutUint32(hdr[4:], uint32(len(hdr)-8+n))
		_, _ = w.Write(append(hdr, bytes.Repeat([]byte{128}, n)...))
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/x-mixed-replace;boundary=x")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	return mux
}

func withCreds(base, path, user, pass string) string {
	return strings.Replace(base, "http://", "http://"+user+":"+pass+"@", 1) + path
}

// TestHTTPCameras counts people on an ESP32-CAM-shaped server: its multipart
// MJPEG stream, and its snapshot URL given like a stream (perception finds
// that it answers single pictures and polls it). A camera with a wrong
// password shows FFmpeg's 401 in its status. Credentials appear nowhere:
// not in the log (debug level, FFmpeg's own lines included), not in GET
// /cameras.
func TestHTTPCameras(t *testing.T) {
	broker := testenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := esp32(t, 3)
	perc := startPerception(t, ctx, broker, func(c *Config) {
		c.Model = BuiltinSynthetic
		c.Cameras = []string{
			"esp_stream@z_stream=" + withCreds(srv.URL, "/stream", camUser, camPass),
			"esp_snap@z_snap=" + withCreds(srv.URL, "/capture", camUser, camPass) + ";fps=2",
			"esp_badpw@z_bad=" + withCreds(srv.URL, "/stream", camUser, "wrong-"+camPass),
		}
	})

	st := perc.waitCamera(t, "esp_stream", "3 persons", time.Minute, func(c CameraStatus) bool { return c.Persons == 3 && c.Analysed != nil })
	if st.Input != InputHTTP || st.Codec != "mjpeg" || st.Width != 640 || st.Height != 480 || !st.Receiving {
		t.Errorf("stream camera: %+v", st)
	}
	snap := perc.waitCamera(t, "esp_snap", "3 persons", time.Minute, func(c CameraStatus) bool { return c.Persons == 3 && c.Analysed != nil })
	if snap.Input != InputSnapshot {
		t.Errorf("snapshot URL not recognised: %+v", snap)
	}
	bad := perc.waitCamera(t, "esp_badpw", "the 401 in its status", time.Minute, func(c CameraStatus) bool { return strings.Contains(c.Error, "401") })
	if bad.Receiving || !strings.Contains(bad.URL, "xxxxx@") {
		t.Errorf("camera with a wrong password: %+v", bad)
	}
	// The detection rate, not the camera's 10 frames/s: at 5/s about 5×
	// the seconds since the first frame.
	if f := perc.camera(t, "esp_stream").Frames; f == 0 {
		t.Error("no frames counted")
	}

	resp, err := http.Get("http://" + perc.addr + "/cameras")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	log := perc.log.String()
	for what, text := range map[string]string{"GET /cameras": string(body), "the log": log} {
		if strings.Contains(text, camPass) {
			t.Errorf("%s shows the camera password:\n%s", what, text)
		}
	}
	// FFmpeg did quote the URLs (its input description, its 401 error):
	// redacted, they are in the log.
	if !strings.Contains(log, "from 'http://xxxxx@") || !strings.Contains(log, "http://xxxxx@") {
		t.Errorf("FFmpeg's lines quoting the URL are missing from the log (redaction dropped them?)")
	}
}

// TestHealthIsStatus: with the model missing and a camera that is down,
// perception is still ready (compose up --wait, restores); GET /cameras and
// the metrics say what is wrong. A camera that comes up later is picked up.
func TestHealthIsStatus(t *testing.T) {
	broker := testenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The camera's address is reserved now and served later.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	perc := startPerception(t, ctx, broker, func(c *Config) {
		c.Model = "/nonexistent/yolo11s.onnx"
		c.RetryMax = 2 * time.Second
		c.Cameras = []string{"late@z=" + withCreds("http://"+addr, "/stream", camUser, camPass)}
	})

	waitFor(t, "/readyz", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + perc.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	down := perc.waitCamera(t, "late", "down with a reason", 30*time.Second, func(c CameraStatus) bool {
		return c.Error != "" && c.Error != "connecting"
	})
	if down.Receiving || !strings.Contains(down.Error, "retrying in") {
		t.Errorf("down camera: %+v", down)
	}
	st := perc.status(t)
	if st.Model.Loaded || !strings.Contains(st.Model.Error, "/nonexistent/yolo11s.onnx") {
		t.Errorf("model status: %+v", st.Model)
	}
	metrics := get(t, "http://"+perc.addr+"/metrics")
	for _, want := range []string{`soms_perception_camera_up{camera="late"} 0`, "soms_perception_model_loaded 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// The camera comes up.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	late := httptest.NewUnstartedServer(esp32Handler(t, 1))
	late.Listener = ln
	late.Start()
	defer func() { late.CloseClientConnections(); late.Close() }()
	up := perc.waitCamera(t, "late", "receiving", 30*time.Second, func(c CameraStatus) bool { return c.Receiving })
	if up.Error != "" || up.Frames == 0 {
		t.Errorf("camera that came up: %+v", up)
	}
	if m := get(t, "http://"+perc.addr+"/metrics"); !strings.Contains(m, `soms_perception_camera_up{camera="late"} 1`) {
		t.Error("camera_up did not turn 1")
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestDecoderKilledIsRestarted: FFmpeg killed from outside (the OOM killer,
// an operator) is logged and restarted with back-off, and frames flow again.
// Broken cameras — one that sends garbage, one that stalls after its headers,
// one with no video — show a clear status and are retried; nothing crashes.
func TestDecoderKilledIsRestarted(t *testing.T) {
	broker := testenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := esp32(t, 1)
	stream := withCreds(srv.URL, "/stream", camUser, camPass)
	perc := startPerception(t, ctx, broker, func(c *Config) {
		c.Model = BuiltinSynthetic
		c.CameraTimeout = 2 * time.Second
		c.RetryMax = 2 * time.Second
		c.Cameras = []string{"cam@z=" + stream, "garbage@z2=" + srv.URL + "/garbage", "stall@z3=" + srv.URL + "/stall", "audio@z4=" + srv.URL + "/audio"}
	})
	perc.waitCamera(t, "cam", "receiving", time.Minute, func(c CameraStatus) bool { return c.Receiving && c.Frames > 0 })
	pids := childProcs(t, "showinfo=checksum=0", stream)
	if len(pids) != 1 {
		t.Fatalf("decoder processes for the camera: %v", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	back := perc.waitCamera(t, "cam", "restarted and receiving", time.Minute, func(c CameraStatus) bool { return c.Restarts >= 1 && c.Receiving })
	before := back.Frames
	perc.waitCamera(t, "cam", "frames after the restart", 30*time.Second, func(c CameraStatus) bool { return c.Frames > before })
	if again := childProcs(t, "showinfo=checksum=0", stream); len(again) != 1 || again[0] == pids[0] {
		t.Errorf("decoders after the kill: %v (killed %d)", again, pids[0])
	}
	log := perc.log.String()
	if !strings.Contains(log, `msg="camera decoder stopped; restarting"`) || !strings.Contains(log, "err=\"ffmpeg: signal: killed\"") {
		t.Errorf("the kill and the restart are not in the log:\n%s", log)
	}

	for id, reason := range map[string]string{"garbage": "ffmpeg: exit status 1: http://", "stall": "no frame for 2s", "audio": "the stream has no video (FFmpeg read it as wav)"} {
		c := perc.waitCamera(t, id, "a clear status", time.Minute, func(c CameraStatus) bool { return c.Restarts >= 1 && c.Error != "" && c.Error != "connecting" })
		if c.Receiving || !strings.Contains(c.Error, reason) || !strings.Contains(c.Error, "retrying in") {
			t.Errorf("%s camera: status %q, want %q and the retry", id, c.Error, reason)
		}
	}
}

// TestHardwareDecodeFailsClearly: no GPU here, so FFmpeg really fails to
// create a VAAPI device on a render node that does not exist, and a CUDA
// device without the driver; the camera's status says so and how to fix it.
func TestHardwareDecodeFailsClearly(t *testing.T) {
	bin, err := ffmpeg.Find("", "PERCEPTION_FFMPEG")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		hw, want string
	}{
		{"vaapi:/dev/dri/renderD199", "hardware decoding could not start (vaapi:/dev/dri/renderD199)"},
		{"cuda:0", "hardware decoding could not start (cuda:0)"},
	} {
		t.Run(tt.hw, func(t *testing.T) {
			spec := mustCamera(t, "gpu@z=rtsp://127.0.0.1:1/none;hwaccel="+tt.hw)
			s := newSource(spec, bin, logging.Discard(), time.Minute, 10*time.Second, func() int { return 640 })
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.run(ctx) }()
			defer func() { cancel(); <-done }()
			waitFor(t, "the decoder's status", 20*time.Second, func() bool { return s.Status() != nil && s.Status().Error() != "connecting" })
			msg := s.Status().Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, "Device creation failed") || !strings.Contains(msg, "or set hwaccel=none") {
				t.Errorf("status = %s\nwant %q, FFmpeg's reason and the way out", msg, tt.want)
			}
		})
	}
}
