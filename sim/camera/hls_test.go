package camera

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/ffmpeg"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestHLSConfigValidation(t *testing.T) {
	base := Config{Width: 640, Height: 480, FPS: 5, Quality: 80, Codec: CodecH264, RTSPPort: 8554, HLS: true, HLSPort: 8888, HLSVariant: "lowLatency", Listen: "127.0.0.1"}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"ok", func(*Config) {}, ""},
		{"external server", func(c *Config) { c.RTSPServer = "rtsp://h:1" }, "CAMERA_RTSP_SERVER"},
		{"same port", func(c *Config) { c.HLSPort = 8554 }, "CAMERA_HLS_PORT"},
		{"variant", func(c *Config) { c.HLSVariant = "dash" }, "CAMERA_HLS_VARIANT"},
		{"off ignores HLS fields", func(c *Config) { c.HLS = false; c.HLSVariant = "dash" }, ""},
		{"codec", func(c *Config) { c.Codec = "vp9" }, "CAMERA_CODEC"},
		{"odd size for H.264", func(c *Config) { c.Width = 641 }, "even"},
		{"MJPEG above the RTP/JPEG limit", func(c *Config) { c.Codec = CodecMJPEG; c.Width = 2560 }, "RTP/JPEG"},
		{"H.265 above it is fine", func(c *Config) { c.Codec = CodecH265; c.Width, c.Height = 2560, 1440 }, ""},
		{"listen address", func(c *Config) { c.Listen = "localhost" }, "CAMERA_LISTEN"},
		{"reader without password", func(c *Config) { c.ReadUser = "viewer" }, "CAMERA_READ_PASS"},
		{"reader as the publisher", func(c *Config) { c.ReadUser, c.ReadPass = PublisherUser, "x" }, "publisher"},
	}
	for _, tt := range tests {
		c := base
		tt.edit(&c)
		err := c.validate()
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: validate() = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestHLSServesH264 runs the camera with CAMERA_HLS=true for real: mediamtx
// with its HLS server and the ffmpeg publisher; an H.264 camera is served as
// it is (no transcoder), an H.265 one through an ffmpeg transcoder. The
// playlist GET /cameras names must declare H.264 (avc1), and its init
// section and a segment must arrive over HTTP.
func TestHLSServesH264(t *testing.T) {
	for _, tt := range []struct{ codec, path string }{
		{CodecH264, "cam_hls"},
		{CodecH265, "cam_hls_h264"},
	} {
		t.Run(tt.codec, func(t *testing.T) { testHLS(t, tt.codec, tt.path) })
	}
}

func testHLS(t *testing.T, codec, path string) {
	if _, err := FindMediamtx(""); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := config.Load(&cfg, func(k string) (string, bool) {
		v, ok := map[string]string{"LOG_LEVEL": "warn"}[k]
		return v, ok
	}); err != nil {
		t.Fatal(err)
	}
	apiPort := freePort(t)
	cfg.Addr = "127.0.0.1:" + strconv.Itoa(apiPort)
	cfg.RTSPPort, cfg.HLSPort = freePort(t), freePort(t)
	cfg.Cameras = []string{"cam_hls@main"}
	cfg.FollowScene = false
	cfg.Width, cfg.Height = 320, 240
	cfg.HLS = true
	cfg.Codec = codec

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("camera stopped with: %v", err)
		}
	})

	// GET /cameras reports the playlist.
	var cams []CameraStatus
	waitFor(ctx, t, "GET /cameras", func() bool {
		resp, err := http.Get("http://" + cfg.Addr + "/cameras")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&cams) == nil
	})
	want := "http://127.0.0.1:" + strconv.Itoa(cfg.HLSPort) + "/" + path + "/index.m3u8"
	if len(cams) != 1 || cams[0].HLS != want || cams[0].Codec != codec {
		t.Fatalf("GET /cameras = %+v, want hls %s", cams, want)
	}

	started := time.Now()
	var index string
	waitFor(ctx, t, "HLS playlist", func() bool {
		code, body := get(t, cams[0].HLS)
		index = string(body)
		return code == http.StatusOK
	})
	t.Logf("playlist after %s", time.Since(started).Round(time.Millisecond))
	if !strings.Contains(index, `CODECS="avc1.`) {
		t.Fatalf("multivariant playlist does not declare H.264:\n%s", index)
	}
	media := resolve(t, cams[0].HLS, firstURI(index))
	code, body := get(t, media)
	if code != http.StatusOK {
		t.Fatalf("media playlist %s: %d %s", media, code, body)
	}
	mediaPl := string(body)
	// fMP4 variants: the init section holds the avc1 sample entry.
	if i := strings.Index(mediaPl, `#EXT-X-MAP:URI="`); i >= 0 {
		rest := mediaPl[i+len(`#EXT-X-MAP:URI="`):]
		code, init := get(t, resolve(t, media, rest[:strings.IndexByte(rest, '"')]))
		if code != http.StatusOK || !strings.Contains(string(init), "avc1") || !strings.Contains(string(init), "avcC") {
			t.Fatalf("init section: %d, %d bytes without avc1/avcC", code, len(init))
		}
	}
	seg := lastURI(mediaPl) // LL-HLS starts with gap entries; the newest segment is real
	if seg == "" {
		t.Fatalf("media playlist lists no segment:\n%s", mediaPl)
	}
	code, segment := get(t, resolve(t, media, seg))
	if code != http.StatusOK || len(segment) < 500 {
		t.Fatalf("segment %s: %d, %d bytes", seg, code, len(segment))
	}
}

// firstURI is the first line of a playlist that is not a tag.
func firstURI(pl string) string {
	sc := bufio.NewScanner(strings.NewReader(pl))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

// lastURI is the last line of a playlist that is not a tag.
func lastURI(pl string) string {
	var last string
	for _, l := range strings.Split(pl, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			last = l
		}
	}
	return last
}

func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return b.ResolveReference(r).String()
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitFor polls cond (a network condition with no event to await) until it
// holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestEncoderArgs: what each CAMERA_CODEC asks of FFmpeg (the codecs
// themselves are exercised end to end by TestHLSServesH264 and perception's
// TestCameraToOccupancy).
func TestEncoderArgs(t *testing.T) {
	raw := []string{"-f", "rawvideo", "-pix_fmt", "rgba", "-video_size", "640x480", "-framerate", "5", "-i", "pipe:0"}
	out := []string{"-an", "-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://camera:secret@127.0.0.1:8554/cam"}
	for _, tt := range []struct {
		codec string
		want  []string
	}{
		{CodecH264, append(append(raw[:len(raw):len(raw)], "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "5", "-threads", "1"), out...)},
		{CodecH265, append(append(raw[:len(raw):len(raw)], "-c:v", "libx265", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "5",
			"-x265-params", "log-level=error:pools=1:frame-threads=1"), out...)},
		{CodecMJPEG, append([]string{"-f", "mjpeg", "-framerate", "5", "-i", "pipe:0", "-c:v", "copy"}, out...)},
	} {
		f := &feed{url: "rtsp://127.0.0.1:8554/cam", publishURL: "rtsp://camera:secret@127.0.0.1:8554/cam", cfg: Config{Codec: tt.codec, Width: 640, Height: 480, FPS: 5}}
		want := append(append([]string{}, ffmpeg.LogArgs...), tt.want...)
		if got := f.encoderArgs(); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.codec, got, want)
		}
	}
}
