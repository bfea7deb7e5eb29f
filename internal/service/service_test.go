package service

import (
	"context"
	"io"
	"testing"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
)

// Production is the wall clock; a simulation generates its own secrets.
func TestProduction(t *testing.T) {
	for clk, want := range map[string]bool{"wall": true, "": true, "sim": false} {
		if got := (Common{Clock: clk}).Production(); got != want {
			t.Errorf("SOMS_CLOCK=%q: Production() = %v", clk, got)
		}
	}
}

// A timeless service under a simulated clock keeps the wall clock and
// follows no clock steps: no bus, nothing for the clock to wait for.
func TestTimelessFollowsNoClock(t *testing.T) {
	for _, tc := range []struct {
		timeless bool
		sim      bool
	}{{false, true}, {true, false}} {
		k, err := New(context.Background(), "x", Common{Clock: "sim", Log: logging.Config{Level: "error"}}, Options{Timeless: tc.timeless, LogOutput: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		_, isSim := k.Clock.(*clock.Sim)
		if isSim != tc.sim || (k.Bus != nil) != tc.sim {
			t.Errorf("timeless %v: simulated clock %v, bus %v; want both %v", tc.timeless, isSim, k.Bus != nil, tc.sim)
		}
		if k.Bus != nil {
			k.Bus.Close()
		}
	}
}
