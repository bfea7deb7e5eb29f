package camera

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/ffmpeg"
)

// TestOnlyTheCameraPublishes runs the camera's mediamtx for real with a
// reader account: an anonymous publisher, and one with a wrong password, are
// refused and the camera keeps its stream; an anonymous reader is refused,
// the reader account reads; and the server listens on loopback only.
func TestOnlyTheCameraPublishes(t *testing.T) {
	bin, err := ffmpeg.Find("", "CAMERA_FFMPEG")
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := config.Load(&cfg, func(k string) (string, bool) {
		v, ok := map[string]string{"LOG_LEVEL": "warn"}[k]
		return v, ok
	}); err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg.RTSPPort = freePort(t)
	cfg.Cameras = []string{"cam_auth@main"}
	cfg.FollowScene = false
	cfg.Width, cfg.Height = 160, 120
	cfg.ReadUser, cfg.ReadPass = "viewer", "viewer-password"
	if cfg.Listen != "127.0.0.1" {
		t.Fatalf("CAMERA_LISTEN defaults to %q", cfg.Listen)
	}
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
	status := func() CameraStatus {
		var cams []CameraStatus
		resp, err := http.Get("http://" + cfg.Addr + "/cameras")
		if err != nil {
			return CameraStatus{}
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&cams) != nil || len(cams) != 1 {
			return CameraStatus{}
		}
		return cams[0]
	}
	waitFor(ctx, t, "the camera publishing", func() bool { return status().Publishing })
	if st := status(); strings.Contains(st.URL, "@") {
		t.Fatalf("GET /cameras shows credentials: %s", st.URL)
	}

	rtsp := func(userinfo string) string {
		return "rtsp://" + userinfo + "127.0.0.1:" + strconv.Itoa(cfg.RTSPPort) + "/cam_auth"
	}
	run := func(args ...string) (string, error) {
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		defer ccancel()
		out, err := exec.CommandContext(cctx, bin, append([]string{"-hide_banner", "-nostdin", "-loglevel", "error"}, args...)...).CombinedOutput()
		return string(out), err
	}
	publish := func(userinfo string) (string, error) {
		return run("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-t", "1", "-c:v", "libx264", "-f", "rtsp", "-rtsp_transport", "tcp", rtsp(userinfo))
	}
	read := func(userinfo string) (string, error) {
		return run("-rtsp_transport", "tcp", "-i", rtsp(userinfo), "-frames:v", "1", "-f", "null", "-")
	}
	if out, err := publish(""); err == nil {
		t.Errorf("an anonymous publisher was accepted: %s", out)
	}
	if out, err := publish("camera:wrong-password@"); err == nil {
		t.Errorf("a publisher with a wrong password was accepted: %s", out)
	}
	frames := status().Frames
	waitFor(ctx, t, "the camera still publishing", func() bool { st := status(); return st.Publishing && st.Frames > frames })
	if out, err := read(""); err == nil {
		t.Errorf("an anonymous reader was accepted: %s", out)
	}
	if out, err := read("viewer:viewer-password@"); err != nil {
		t.Errorf("the reader account cannot read: %v\n%s", err, out)
	}

	// Nothing but loopback: another address of this machine is refused.
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ip, _, _ := net.ParseCIDR(a.String())
		if ip == nil || ip.IsLoopback() || ip.To4() == nil {
			continue
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(cfg.RTSPPort)), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("mediamtx answers on %s", ip)
		}
	}
}

func TestMediamtxConfig(t *testing.T) {
	c := mediamtxConfig(8554, &hlsConfig{port: 8888, variant: "fmp4"}, mediamtxAuth{listen: "127.0.0.1", publishPass: "p'ss"})
	for _, want := range []string{"rtspAddress: '127.0.0.1:8554'\n", "hlsAddress: '127.0.0.1:8888'\n", "authMethod: internal\n",
		"- user: camera\n  pass: 'p''ss'\n  ips: []\n  permissions:\n  - action: publish\n  - action: read\n",
		"- user: any\n  ips: []\n  permissions:\n  - action: read\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %q:\n%s", want, c)
		}
	}
	if strings.Count(c, "action: publish") != 1 {
		t.Errorf("more than one publisher:\n%s", c)
	}
	if r := redactor([]string{"s3cret"})("Output #0, rtsp, to 'rtsp://camera:s3cret@127.0.0.1:8554/cam'"); strings.Contains(r, "s3cret") {
		t.Errorf("redacted: %s", r)
	}
}
