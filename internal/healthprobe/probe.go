// Package healthprobe is `soms healthcheck`: a container health probe built
// into the binary, because the production images carry nothing else (no
// shell, no wget, no curl). A target is an HTTP(S) URL that must answer 2xx
// (a service's /readyz) or tcp://host:port that must accept a connection (the
// RTSP server of the virtual camera).
package healthprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// Config is read from the environment; see `soms env healthcheck`.
type Config struct {
	Timeout time.Duration `env:"HEALTHCHECK_TIMEOUT" default:"3s" doc:"time allowed for each probe target"`
}

// Run probes every target in args; all must be healthy. It prints one line
// per target so `docker inspect` shows why a container is unhealthy.
func Run(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: soms healthcheck URL|tcp://host:port ... (e.g. http://127.0.0.1:8000/readyz)")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	var errs []error
	for _, target := range args {
		if err := Probe(ctx, target, timeout); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "healthy: %s\n", target)
	}
	return errors.Join(errs...)
}

// Probe checks one target within timeout.
func Probe(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s: not a URL (want http://host:port/path or tcp://host:port)", target)
	}
	switch u.Scheme {
	case "http", "https":
		return probeHTTP(ctx, target)
	case "tcp":
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return fmt.Errorf("%s: %w", target, err)
		}
		return conn.Close()
	default:
		return fmt.Errorf("%s: unsupported scheme %q (http, https or tcp)", target, u.Scheme)
	}
}

func probeHTTP(ctx context.Context, target string) error {
	// A private client: no proxy from the environment (HTTP_PROXY must not
	// route a loopback probe), no keep-alive to leak between probes.
	c := httpx.Client{HTTP: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	_, err := c.Send(ctx, httpx.Request{Method: http.MethodGet, Path: target})
	return err
}
