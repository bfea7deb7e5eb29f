package perception

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/ffmpeg"
)

var defaults = CameraDefaults{FPS: 5, HW: HWAccel{Kind: HWNone}}

func TestParseCameras(t *testing.T) {
	tests := []struct {
		in      string
		want    CameraSpec // ID, Input, FPS, HW, VideoSize, InputFormat compared
		wantErr string
	}{
		{in: "cam_a@main=rtsp://127.0.0.1:8554/cam_a", want: CameraSpec{ID: "cam_a", Input: InputRTSP, FPS: 5, HW: HWAccel{Kind: HWNone}}},
		{in: "door@hall=rtsps://user:pw@cam:322/live;fps=2;hwaccel=vaapi", want: CameraSpec{ID: "door", Input: InputRTSP, FPS: 2, HW: HWAccel{Kind: HWVAAPI, Device: "/dev/dri/renderD128"}}},
		{in: "gpu@hall=rtsp://cam/1;hwaccel=cuda:1", want: CameraSpec{ID: "gpu", Input: InputRTSP, FPS: 5, HW: HWAccel{Kind: HWCUDA, Device: "1"}}},
		{in: "esp@desk=http://10.0.0.7:81/stream", want: CameraSpec{ID: "esp", Input: InputHTTP, FPS: 5, HW: HWAccel{Kind: HWNone}}},
		{in: "snap@desk=https://10.0.0.7/capture;snapshot;fps=0.5", want: CameraSpec{ID: "snap", Input: InputSnapshot, FPS: 0.5, HW: HWAccel{Kind: HWNone}}},
		{in: "usb@lab=/dev/video2;size=1280x720;format=mjpeg", want: CameraSpec{ID: "usb", Input: InputV4L2, FPS: 5, HW: HWAccel{Kind: HWNone}, VideoSize: "1280x720", InputFormat: "mjpeg"}},
		{in: "cam_a=rtsp://x/y", wantErr: "want id@zone"},
		{in: "cam_a@ma/in=rtsp://x/y", wantErr: "want id@zone"},
		{in: "cam_a@main=ftp://x/y", wantErr: "want rtsp://"},
		{in: "cam_a@main=rtsp:///y", wantErr: "no host"},
		{in: "cam_a@main=rtsp://x/y;fps=0", wantErr: "fps=0"},
		{in: "cam_a@main=rtsp://x/y;fps=abc", wantErr: "fps=abc"},
		{in: "cam_a@main=rtsp://x/y;hwaccel=opencl", wantErr: "want none, vaapi"},
		{in: "cam_a@main=rtsp://x/y;hwaccel=vaapi:renderD128", wantErr: "vaapi:/dev/dri/renderDN"},
		{in: "cam_a@main=rtsp://x/y;hwaccel=cuda:first", wantErr: "cuda:N"},
		{in: "cam_a@main=rtsp://x/y;snapshot", wantErr: "snapshot"},
		{in: "cam_a@main=rtsp://x/y;size=640x480", wantErr: "V4L2"},
		{in: "cam_a@main=/dev/video0;size=big", wantErr: "size=big"},
		{in: "cam_a@main=rtsp://x/y;zoom=2", wantErr: "unknown option"},
	}
	for _, tt := range tests {
		got, err := ParseCameras([]string{tt.in}, defaults)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCameras(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != 1 {
			t.Errorf("ParseCameras(%q) = %v, %v", tt.in, got, err)
			continue
		}
		g := got[0]
		if g.ID != tt.want.ID || g.Input != tt.want.Input || g.FPS != tt.want.FPS || g.HW != tt.want.HW ||
			g.VideoSize != tt.want.VideoSize || g.InputFormat != tt.want.InputFormat {
			t.Errorf("ParseCameras(%q) = %+v, want %+v", tt.in, g, tt.want)
		}
	}
	if _, err := ParseCameras([]string{"a@z=rtsp://x/1", "a@z=rtsp://x/2"}, defaults); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := ParseCameras(nil, defaults); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("no cameras: %v", err)
	}
}

// TestParseCamerasNeverQuotesCredentials: configuration errors are logged
// and printed; a URL with a password must not appear in them.
func TestParseCamerasNeverQuotesCredentials(t *testing.T) {
	for _, in := range []string{
		"a@z=rtsp://admin:hunter22@cam:bad-port/x",
		"a@z=ftp://admin:hunter22@cam/x",
		"a@z=rtsp://admin:hunter22@cam/x;zoom=1",
		"a@z=http://cam/x?user=admin&pwd=hunter22;size=1x1",
	} {
		_, err := ParseCameras([]string{in}, defaults)
		if err == nil {
			t.Errorf("%q accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "hunter22") {
			t.Errorf("error quotes the password: %v", err)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		url, line, want string
	}{
		{"rtsp://admin:s3cret!@10.0.0.5:554/Streaming/101", "Input #0, rtsp, from 'rtsp://admin:s3cret!@10.0.0.5:554/Streaming/101':",
			"Input #0, rtsp, from 'rtsp://xxxxx@10.0.0.5:554/Streaming/101':"},
		// percent-encoded as written, and FFmpeg quoting it decoded
		{"rtsp://admin:p%40ss%3Aword@cam/live", "rtsp://admin:p%40ss%3Aword@cam/live and rtsp://admin:p@ss:word@cam/live",
			"rtsp://xxxxx@cam/live and rtsp://xxxxx@cam/live"},
		{"http://cam/videostream.cgi?user=admin&pwd=hunter22&res=1", "http://cam/videostream.cgi?user=admin&pwd=hunter22&res=1: 401",
			"http://cam/videostream.cgi?user=xxxxx&pwd=xxxxx&res=1: 401"},
		{"rtsp://cam/live", "rtsp://cam/live", "rtsp://cam/live"},
		// a password alone (an auth error quoting it) when long enough
		{"rtsp://viewer:correct-horse@cam/x", "bad credentials correct-horse", "bad credentials xxxxx"},
	}
	for _, tt := range tests {
		got, err := ParseCameras([]string{"a@z=" + tt.url}, defaults)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if r := got[0].redact.Redact(tt.line); r != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.line, r, tt.want)
		}
		if strings.Contains(got[0].URL(), "s3cret") || strings.Contains(got[0].URL(), "hunter22") || strings.Contains(got[0].URL(), "horse") {
			t.Errorf("URL() = %s", got[0].URL())
		}
	}
}

func mustCamera(t testing.TB, item string) CameraSpec {
	t.Helper()
	c, err := ParseCameras([]string{item}, defaults)
	if err != nil {
		t.Fatal(err)
	}
	return c[0]
}

// TestDecoderArgs checks the FFmpeg command lines each kind of camera gets.
// V4L2 devices and GPU decoding cannot run on this machine (no /dev/video*,
// no GPU); their command lines are asserted here, and FFmpeg's own failure to
// create a missing device is exercised in TestHardwareDecodeFailsClearly.
func TestDecoderArgs(t *testing.T) {
	tail := []string{"-map", "0:v:0", "-an", "-sn", "-dn", "-vf",
		"fps=5,showinfo=checksum=0,scale=640:640:force_original_aspect_ratio=decrease:flags=bilinear,pad=640:640:(ow-iw)/2:(oh-ih)/2:color=0x727272",
		"-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"}
	tests := []struct {
		name, item string
		size       int
		input      []string // the arguments between the log flags and the vf tail
	}{
		{"rtsp", "a@z=rtsp://u:p@cam:554/h264", 640, []string{"-rtsp_transport", "tcp", "-timeout", "10000000",
			"-probesize", "32", "-analyzeduration", "0", "-fpsprobesize", "0", "-i", "rtsp://u:p@cam:554/h264"}},
		{"http stream", "a@z=http://cam:81/stream", 640, []string{"-rw_timeout", "10000000", "-use_wallclock_as_timestamps", "1", "-i", "http://cam:81/stream"}},
		{"snapshot", "a@z=http://cam/capture;snapshot;fps=5", 640, []string{"-re", "-f", "image2", "-loop", "1",
			"-pattern_type", "none", "-framerate", "5", "-i", "http://cam/capture"}},
		{"v4l2", "a@z=/dev/video0;size=1280x720;format=mjpeg", 640, []string{"-f", "v4l2", "-input_format", "mjpeg", "-video_size", "1280x720", "-i", "/dev/video0"}},
		{"v4l2 defaults", "a@z=/dev/video1", 640, []string{"-f", "v4l2", "-i", "/dev/video1"}},
		{"vaapi", "a@z=rtsp://cam/h265;hwaccel=vaapi:/dev/dri/renderD129", 640, []string{
			"-init_hw_device", "vaapi=soms:/dev/dri/renderD129", "-hwaccel", "vaapi", "-hwaccel_device", "soms",
			"-rtsp_transport", "tcp", "-timeout", "10000000", "-probesize", "32", "-analyzeduration", "0", "-fpsprobesize", "0", "-i", "rtsp://cam/h265"}},
		{"cuda", "a@z=rtsp://cam/h264;hwaccel=cuda", 640, []string{
			"-init_hw_device", "cuda=soms:0", "-hwaccel", "cuda", "-hwaccel_device", "soms",
			"-rtsp_transport", "tcp", "-timeout", "10000000", "-probesize", "32", "-analyzeduration", "0", "-fpsprobesize", "0", "-i", "rtsp://cam/h264"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decoderArgs(mustCamera(t, tt.item), tt.size, 10*time.Second)
			want := append(append(append([]string{}, ffmpeg.LogArgs...), tt.input...), tail...)
			if !slices.Equal(got, want) {
				t.Errorf("decoderArgs =\n %q\nwant\n %q", got, want)
			}
		})
	}
	// The model's size and the detection rate reach the filter.
	got := decoderArgs(mustCamera(t, "a@z=rtsp://cam/x;fps=2.5"), 320, 10*time.Second)
	if vf := got[slices.Index(got, "-vf")+1]; vf != "fps=2.5,showinfo=checksum=0,scale=320:320:force_original_aspect_ratio=decrease:flags=bilinear,pad=320:320:(ow-iw)/2:(oh-ih)/2:color=0x727272" {
		t.Errorf("vf = %s", vf)
	}
}

func TestParseShowinfo(t *testing.T) {
	for _, tt := range []struct {
		line string
		want frameInfo
		ok   bool
	}{
		{"[Parsed_showinfo_1 @ 0x55a11eb6f380] [info] n:   3 pts:      3 pts_time:0.6     pos:       -1 fmt:yuv420p sar:1/1 s:1920x1080 i:P iskey:0 type:P ", frameInfo{3, 1920, 1080}, true},
		{"[Parsed_showinfo_1 @ 0x55a11eb6f380] [info] color_range:unknown color_space:unknown", frameInfo{}, false},
		{"[Parsed_showinfo_1 @ 0x55a11eb6f380] [info] config in time_base: 1/5, frame_rate: 5/1", frameInfo{}, false},
		{"[info]   Stream #0:0: Video: h264, yuv420p, 640x480, n: 1 s:640x480 ", frameInfo{}, false},
	} {
		got, ok := parseShowinfo(ffmpeg.ParseLine(tt.line))
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseShowinfo(%q) = %+v, %v", tt.line, got, ok)
		}
	}
}

func TestParseStreamInfo(t *testing.T) {
	var si streamInfo
	for _, l := range []string{
		"[info] Input #0, rtsp, from 'rtsp://127.0.0.1:8554/cam':",
		"[info]   Metadata:",
		"[info]   Stream #0:0: Video: hevc (Main), yuv420p(tv), 640x480, 5 tbr, 90k tbn",
		"[info] Stream mapping:",
	} {
		si.parseInput(ffmpeg.ParseLine(l))
	}
	if si.Demuxer != "rtsp" || si.Codec != "hevc" {
		t.Errorf("streamInfo = %+v", si)
	}
	if si.parseInput(ffmpeg.ParseLine("[info] Output #0, rawvideo, to 'pipe:1':")) {
		t.Error("the output's description was taken for the input's")
	}
}
