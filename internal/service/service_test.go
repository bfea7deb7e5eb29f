package service

import "testing"

// Production is the wall clock; a simulation generates its own secrets.
func TestProduction(t *testing.T) {
	for clk, want := range map[string]bool{"wall": true, "": true, "sim": false} {
		if got := (Common{Clock: clk}).Production(); got != want {
			t.Errorf("SOMS_CLOCK=%q: Production() = %v", clk, got)
		}
	}
}
