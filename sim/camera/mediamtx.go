package camera

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/cachedir"
	"github.com/somsgo/soms/internal/clock"
)

// FindMediamtx resolves CAMERA_MEDIAMTX: an explicit path as is; empty looks
// for the binary infra/scripts/mediamtx.sh builds under .soms/cache in the
// working directory or a parent, then beside the running binary, then for
// mediamtx on PATH.
func FindMediamtx(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("CAMERA_MEDIAMTX=%s: %w (build it with infra/scripts/mediamtx.sh)", explicit, err)
		}
		return explicit, nil
	}
	if p := cachedir.Find(cachedir.Mediamtx); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("mediamtx"); err == nil {
		return p, nil
	}
	return "", errors.New("mediamtx not found: run infra/scripts/mediamtx.sh (`make deps` does) or set CAMERA_MEDIAMTX")
}

// mediamtxConfig is a minimal server: RTSP over TCP only (no UDP ports that
// could collide with other services), every other protocol and API off,
// listening on a.listen only. Only the camera process publishes (user
// PublisherUser with a.publishPass); reading is open, or needs a.readUser
// when set. hls adds the HLS server (browsers play H.264 from it; the
// transcoders publish the *_h264 paths). Muxers run always so a browser's
// first request finds segments ready.
func mediamtxConfig(port int, hls *hlsConfig, a mediamtxAuth) string {
	hlsConf := "hls: no\n"
	if hls != nil {
		hlsConf = fmt.Sprintf("hls: yes\nhlsAddress: %s\nhlsVariant: %s\nhlsAlwaysRemux: yes\nhlsSegmentDuration: 1s\nhlsPartDuration: 200ms\nhlsAllowOrigin: '*'\n",
			yamlQuote(net.JoinHostPort(a.listen, strconv.Itoa(hls.port))), hls.variant)
	}
	return fmt.Sprintf(`# written by the SOMS virtual camera
logLevel: info
logDestinations: [stdout]
api: no
metrics: no
pprof: no
playback: no
rtsp: yes
rtspTransports: [tcp]
rtspAddress: %s
rtmp: no
%swebrtc: no
srt: no
%spaths:
  all_others:
`, yamlQuote(net.JoinHostPort(a.listen, strconv.Itoa(port))), hlsConf, a.yaml())
}

// PublisherUser is the mediamtx user the camera publishes as.
const PublisherUser = "camera"

// mediamtxAuth is who may do what on the camera's mediamtx.
type mediamtxAuth struct {
	listen             string
	publishPass        string
	readUser, readPass string
}

// yaml is the authInternalUsers section: the publisher (which also reads:
// the transcoders), and the readers.
func (a mediamtxAuth) yaml() string {
	var b strings.Builder
	b.WriteString("authMethod: internal\nauthInternalUsers:\n")
	fmt.Fprintf(&b, "- user: %s\n  pass: %s\n  ips: []\n  permissions:\n  - action: publish\n  - action: read\n", PublisherUser, yamlQuote(a.publishPass))
	if a.readUser == "" {
		b.WriteString("- user: any\n  ips: []\n  permissions:\n  - action: read\n")
	} else {
		fmt.Fprintf(&b, "- user: %s\n  pass: %s\n  ips: []\n  permissions:\n  - action: read\n", yamlQuote(a.readUser), yamlQuote(a.readPass))
	}
	return b.String()
}

// secrets are the passwords to keep out of logs.
func (a mediamtxAuth) secrets() []string {
	var out []string
	for _, s := range []string{a.publishPass, a.readPass} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// yamlQuote is s as a single-quoted YAML scalar.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// withUser puts user and pass into an rtsp:// URL.
func withUser(raw, user, pass string) string {
	u, err := url.Parse(raw)
	if err != nil || user == "" {
		return raw
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// redactor replaces the secrets in a line (FFmpeg prints its URLs).
func redactor(secrets []string) func(string) string {
	return func(s string) string {
		for _, x := range secrets {
			s = strings.ReplaceAll(s, x, "xxxxx")
			s = strings.ReplaceAll(s, url.QueryEscape(x), "xxxxx")
		}
		return s
	}
}

// mediamtx supervises the RTSP server child process, restarting it with
// back-off if it dies.
type mediamtx struct {
	bin  string
	port int
	hls  *hlsConfig // nil: RTSP only
	auth mediamtxAuth
	dir  string
	log  *slog.Logger
	up   atomic.Bool
}

// run keeps mediamtx running until ctx is done.
func (m *mediamtx) run(ctx context.Context) error {
	conf := filepath.Join(m.dir, "mediamtx.yml")
	// It holds the publisher's password: for this process only.
	if err := os.WriteFile(conf, []byte(mediamtxConfig(m.port, m.hls, m.auth)), 0o600); err != nil {
		return fmt.Errorf("mediamtx config: %w", err)
	}
	wall := clock.Wall{} // process supervision runs on wall time
	bo := backoff.New(wall, backoff.Policy{Min: time.Second, Max: 30 * time.Second})
	for {
		started := wall.Now()
		err := m.once(ctx, conf)
		m.up.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if clock.Since(wall, started) > time.Minute {
			bo.Reset()
		}
		d := bo.Next()
		m.log.Error("mediamtx stopped; restarting", "err", err, "in", d)
		if bo.Wait(ctx, d) != nil {
			return nil
		}
	}
}

func (m *mediamtx) once(ctx context.Context, conf string) error {
	cmd := exec.CommandContext(ctx, m.bin, conf)
	cmd.Dir = m.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", m.bin, err)
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		m.copyLog(out)
	}()
	waitErr := make(chan error, 1)
	go func() {
		<-logDone
		waitErr <- cmd.Wait()
	}()
	if err := waitPort(ctx, m.port, waitErr); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	if m.hls != nil {
		if err := waitPort(ctx, m.hls.port, waitErr); err != nil {
			_ = cmd.Process.Kill()
			return err
		}
	}
	m.up.Store(true)
	m.log.Info("mediamtx serving RTSP", "port", m.port, "pid", cmd.Process.Pid)
	return <-waitErr
}

func (m *mediamtx) copyLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m.log.Debug(sc.Text(), "component", "mediamtx")
	}
}

// waitPort waits until the server accepts TCP connections, it exits, or 20 s pass.
func waitPort(ctx context.Context, port int, exited <-chan error) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := clock.Wall{}.Now().Add(20 * time.Second) // start-up timeout on wall time
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("mediamtx exited during start-up (is port %d taken?): %v", port, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if (clock.Wall{}).Now().After(deadline) {
			return fmt.Errorf("mediamtx did not open port %d within 20s", port)
		}
	}
}
