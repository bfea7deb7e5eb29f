// Package testenv gives integration tests real infrastructure: a private
// Mosquitto and PostgreSQL started once per test binary by the same code the
// native harness uses. Packages using it run their tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/localinfra"
)

var (
	mu       sync.Mutex
	dir      string
	broker   *localinfra.Broker
	postgres *localinfra.Postgres
	dbSeq    atomic.Int64
)

// Main runs the tests and stops whatever infrastructure they started.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if err := postgres.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: stopping PostgreSQL:", err)
	}
	if err := broker.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: stopping Mosquitto:", err)
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	return code
}

func workDir(t testing.TB) string {
	if dir == "" {
		d, err := os.MkdirTemp("", "soms-testenv-")
		if err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(d, 0o755)
		dir = d
	}
	return dir
}

// Broker returns the shared Mosquitto, starting it on first use.
func Broker(t testing.TB) *localinfra.Broker {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if broker == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := localinfra.StartBroker(ctx, filepath.Join(workDir(t), "mosquitto"), 0, nil)
		if err != nil {
			t.Fatalf("integration test needs Mosquitto: %v", err)
		}
		broker = b
	}
	return broker
}

// RestartBroker stops and restarts the shared broker on the same port, for
// reconnection tests.
func RestartBroker(t testing.TB) *localinfra.Broker {
	t.Helper()
	b := Broker(t)
	mu.Lock()
	defer mu.Unlock()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nb, err := localinfra.StartBrokerWith(ctx, filepath.Join(workDir(t), "mosquitto"), b, nil)
	if err != nil {
		t.Fatalf("restarting Mosquitto: %v", err)
	}
	broker = nb
	return nb
}

// Postgres returns the URL of a new, empty database on the shared server,
// starting the server on first use.
func Postgres(t testing.TB) string {
	t.Helper()
	mu.Lock()
	if postgres == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		p, err := localinfra.StartPostgres(ctx, filepath.Join(workDir(t), "postgres"), 0, nil)
		cancel()
		if err != nil {
			mu.Unlock()
			t.Fatalf("integration test needs PostgreSQL: %v", err)
		}
		postgres = p
	}
	p := postgres
	mu.Unlock()
	name := fmt.Sprintf("t%d_%s", dbSeq.Add(1), sanitize(t.Name()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.CreateDatabase(ctx, name, true); err != nil {
		t.Fatal(err)
	}
	return p.URL(name)
}

func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}
