package logging

import (
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

// Sampler lets one log line per key through per interval and counts the
// lines it holds back, so a device flooding a topic cannot flood the log.
// Services give it the wall clock: it bounds log volume, a wall-time matter
// even when the office runs on simulated time. Keys must come from a small
// fixed set (metric labels), never from what a client sent.
type Sampler struct {
	clock clock.Clock
	every time.Duration

	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

// NewSampler returns a sampler passing one line per key per every.
func NewSampler(c clock.Clock, every time.Duration) *Sampler {
	return &Sampler{clock: c, every: every, last: map[string]time.Time{}, held: map[string]int{}}
}

// Allow reports whether a line for key may be logged now and, when it may,
// how many lines for key were held back since the last one.
func (s *Sampler) Allow(key string) (ok bool, held int) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, seen := s.last[key]; seen && now.Sub(last) < s.every {
		s.held[key]++
		return false, 0
	}
	s.last[key] = now
	held = s.held[key]
	s.held[key] = 0
	return true, held
}
