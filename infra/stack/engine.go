package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// ErrNoEngine means no Docker engine answers, so the compose driver cannot
// run here. Tests check for it with errors.Is.
var ErrNoEngine = errors.New("no Docker engine answers: set DOCKER_HOST (e.g. unix:///var/run/docker.sock or tcp://host:2375) or start dockerd so /var/run/docker.sock answers")

// EngineCandidates lists where an engine is looked for: DOCKER_HOST alone
// when it is set, else the usual sockets (system, rootless, Docker Desktop).
func EngineCandidates(getenv func(string) string) []string {
	if h := getenv("DOCKER_HOST"); h != "" {
		return []string{h}
	}
	out := []string{"unix:///var/run/docker.sock"}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		out = append(out, "unix://"+filepath.Join(d, "docker.sock"))
	}
	if home := getenv("HOME"); home != "" {
		out = append(out,
			"unix://"+filepath.Join(home, ".docker", "run", "docker.sock"),
			"unix://"+filepath.Join(home, ".docker", "desktop", "docker.sock"))
	}
	return out
}

// DetectEngine returns the first candidate engine that answers the Docker
// API's /_ping within timeout, or an error wrapping ErrNoEngine that says
// what was tried. It never waits longer than timeout per candidate.
func DetectEngine(ctx context.Context, getenv func(string) string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	var tried []string
	for _, host := range EngineCandidates(getenv) {
		err := ping(ctx, host, getenv("DOCKER_TLS_VERIFY") != "", timeout)
		if err == nil {
			return host, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", host, err))
	}
	return "", fmt.Errorf("%w (tried %s)", ErrNoEngine, strings.Join(tried, "; "))
}

// ping asks host for /_ping. A TLS engine is only dialled: checking its
// certificate setup is the Docker client's business.
func ping(ctx context.Context, host string, tls bool, timeout time.Duration) error {
	u, err := url.Parse(host)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dial func(ctx context.Context) (net.Conn, error)
	var d net.Dialer
	switch u.Scheme {
	case "unix":
		path := u.Path
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no socket: %w", err)
		}
		dial = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "unix", path) }
	case "tcp":
		dial = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", u.Host) }
		if tls {
			c, err := dial(ctx)
			if err != nil {
				return err
			}
			return c.Close()
		}
	case "ssh", "npipe":
		return nil // only the Docker client can check these
	default:
		return fmt.Errorf("unsupported DOCKER_HOST scheme %q", u.Scheme)
	}
	client := httpx.Client{HTTP: &http.Client{Transport: &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		DisableKeepAlives: true,
	}}}
	_, err = client.Send(ctx, httpx.Request{Method: http.MethodGet, Path: "http://docker/_ping"})
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	return err
}
