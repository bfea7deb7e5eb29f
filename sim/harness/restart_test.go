package harness

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/localinfra"
)

// A broker stopped on request (Restart: stop, then start) is no crash, even
// when its supervisor only looks after the restart has begun and cleared
// held: the fault scenario's "process restart mosquitto" was reported as
// "mosquitto exited unexpectedly" under load.
func TestAnInstanceStoppedOnPurposeIsNoCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	// As root the broker drops to its own user, which must reach its files.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := localinfra.StartBroker(ctx, filepath.Join(dir, "mosquitto"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	supervising, stop := context.WithCancel(context.Background())
	stop() // no restart attempt outlives the test
	s := &Stack{broker: b, held: map[string]bool{}, downOnPurpose: map[string]any{}, failed: make(chan error, 1),
		log: slog.New(slog.DiscardHandler), Clock: clock.NewManual(time.Unix(0, 0)), supervising: supervising}

	// Restart: the stop marks the instance and held ...
	if err := s.bringInfra(ctx, Mosquitto, "stopped"); err != nil {
		t.Fatal(err)
	}
	// ... the start clears held before the supervisor gets to look.
	s.mu.Lock()
	s.held[Mosquitto] = false
	s.mu.Unlock()
	s.restartInfra(Mosquitto, b)
	select {
	case err := <-s.Failed():
		t.Fatalf("a broker stopped on request was reported: %v", err)
	default:
	}

	// The same instance dying on its own is a crash.
	s2 := &Stack{broker: b, held: map[string]bool{}, downOnPurpose: map[string]any{}, failed: make(chan error, 1),
		log: slog.New(slog.DiscardHandler), Clock: clock.NewManual(time.Unix(0, 0)), supervising: supervising}
	s2.restartInfra(Mosquitto, b)
	select {
	case <-s2.Failed():
	default:
		t.Fatal("a broker that died on its own was not reported")
	}
}
