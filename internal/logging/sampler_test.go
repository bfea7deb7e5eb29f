package logging

import (
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

func TestSampler(t *testing.T) {
	c := clock.NewManual(time.Unix(0, 0))
	s := NewSampler(c, time.Minute)
	if ok, held := s.Allow("hydro"); !ok || held != 0 {
		t.Fatal("first line held back")
	}
	for range 5 {
		if ok, _ := s.Allow("hydro"); ok {
			t.Fatal("a line within the interval passed")
		}
	}
	if ok, _ := s.Allow("aqua"); !ok {
		t.Fatal("another key was held back")
	}
	c.Advance(time.Minute)
	if ok, held := s.Allow("hydro"); !ok || held != 5 {
		t.Fatalf("after the interval: %v, held %d, want true, 5", ok, held)
	}
}
