package stack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// shortDir is a temporary directory with a path short enough for a unix
// socket (108 bytes at most).
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "tc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDetectEngine(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)

	// An engine: answers the Docker API's /_ping on a unix socket.
	okSock := filepath.Join(dir, "ok.sock")
	ln, err := net.Listen("unix", okSock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ping" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("OK"))
	})}
	go srv.Serve(ln)
	defer srv.Close()

	// Something that accepts connections and never answers.
	silentSock := filepath.Join(dir, "silent.sock")
	silent, err := net.Listen("unix", silentSock)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// The accepting goroutine owns held: it closes it once the listener is
	// closed, and the deferred drain releases every connection it kept.
	held := make(chan net.Conn, 4)
	go func() {
		defer close(held)
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	defer func() {
		silent.Close()
		for c := range held {
			c.Close()
		}
	}()

	// An HTTP server that is not Docker.
	other := filepath.Join(dir, "other.sock")
	oln, err := net.Listen("unix", other)
	if err != nil {
		t.Fatal(err)
	}
	osrv := &http.Server{Handler: http.NotFoundHandler()}
	go osrv.Serve(oln)
	defer osrv.Close()

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name, host, wantErr string
	}{
		{"engine answers", "unix://" + okSock, ""},
		{"no socket", "unix://" + filepath.Join(dir, "missing.sock"), "no socket"},
		{"silent socket", "unix://" + silentSock, "no answer within"},
		{"not docker", "unix://" + other, "_ping: HTTP 404"},
		{"refused tcp", "tcp://" + closedAddr, "refused"},
		{"bad scheme", "ftp://x", "unsupported DOCKER_HOST scheme"},
	}
	for _, tc := range tests {
		began := time.Now()
		host, err := DetectEngine(context.Background(), env(map[string]string{"DOCKER_HOST": tc.host}), 300*time.Millisecond)
		took := time.Since(began)
		if took > 2*time.Second {
			t.Errorf("%s: detection took %s", tc.name, took)
		}
		if tc.wantErr == "" {
			if err != nil || host != tc.host {
				t.Errorf("%s: host %q, err %v", tc.name, host, err)
			}
			continue
		}
		if !errors.Is(err, ErrNoEngine) {
			t.Errorf("%s: error %v does not wrap ErrNoEngine", tc.name, err)
			continue
		}
		for _, want := range []string{tc.wantErr, "DOCKER_HOST", tc.host} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, want)
			}
		}
	}
}

func TestEngineCandidates(t *testing.T) {
	t.Parallel()
	got := EngineCandidates(env(map[string]string{"DOCKER_HOST": "tcp://h:2375", "HOME": "/home/u"}))
	if !slices.Equal(got, []string{"tcp://h:2375"}) {
		t.Errorf("DOCKER_HOST set: %v", got)
	}
	got = EngineCandidates(env(map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000"}))
	want := []string{
		"unix:///var/run/docker.sock", "unix:///run/user/1000/docker.sock",
		"unix:///home/u/.docker/run/docker.sock", "unix:///home/u/.docker/desktop/docker.sock",
	}
	if !slices.Equal(got, want) {
		t.Errorf("defaults: %v, want %v", got, want)
	}
}

// TestStartWithoutEngine: Start reports ErrNoEngine at once instead of
// hanging in the Docker client (this machine has no engine; DOCKER_HOST
// points at nothing so the result does not depend on the machine).
func TestStartWithoutEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(shortDir(t), "none.sock"))
	began := time.Now()
	s, err := Start(context.Background(), Options{EngineTimeout: time.Second})
	if s != nil {
		t.Fatal("Start returned a stack without an engine")
	}
	if !errors.Is(err, ErrNoEngine) {
		t.Fatalf("Start: %v, want ErrNoEngine", err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Start took %s to give up", took)
	}
}
