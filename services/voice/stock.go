package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/voice"
)

// Stock is a supply of pre-generated reaction phrases (rejection, acceptance)
// that the dashboard plays at once: entries are popped at random and refilled
// in the background while the service is idle. The list is kept in a JSON
// manifest beside the audio so it survives restarts.
type Stock struct {
	kind        string
	max         int
	refillBelow int
	manifest    string
	store       *Store
	gen         func(ctx context.Context) (voice.StockEntry, string, error) // entry, file
	log         *slog.Logger
	clock       clock.Clock

	generating atomic.Bool
	mu         sync.Mutex
	entries    []stockEntry
}

type stockEntry struct {
	Text      string    `json:"text"`
	File      string    `json:"audio_file"`
	Duration  float64   `json:"duration"`
	CreatedAt time.Time `json:"created_at"`
}

// NewStock loads the manifest of kind under the store's directory, dropping
// entries whose audio is gone. gen writes and speaks one new phrase.
func NewStock(kind string, max int, st *Store, c clock.Clock, log *slog.Logger,
	gen func(ctx context.Context) (voice.StockEntry, string, error)) (*Stock, error) {
	s := &Stock{
		kind: kind, max: max, refillBelow: (max*4 + 4) / 5, store: st, gen: gen, log: log, clock: c,
		manifest: filepath.Join(st.Dir(), "stock-"+kind+".json"),
	}
	b, err := os.ReadFile(s.manifest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("%s stock: %w", kind, err)
	}
	var m struct {
		Entries []stockEntry `json:"entries"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		log.Warn("ignoring unreadable stock manifest", "kind", kind, "err", err)
		return s, nil
	}
	for _, e := range m.Entries {
		if _, ok := st.Lookup(e.File); ok {
			s.entries = append(s.entries, e)
		}
	}
	return s, nil
}

// Pop removes and returns a random entry.
func (s *Stock) Pop() (voice.StockEntry, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return voice.StockEntry{}, "", false
	}
	i := rand.IntN(len(s.entries))
	e := s.entries[i]
	s.entries = append(s.entries[:i], s.entries[i+1:]...)
	s.save()
	return voice.StockEntry{Text: e.Text, Duration: e.Duration}, e.File, true
}

// Status reports the stock's fill.
func (s *Stock) Status() voice.StockStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return voice.StockStatus{
		StockCount: len(s.entries), MaxStock: s.max,
		IsGenerating: s.generating.Load(), NeedsRefill: len(s.entries) < s.refillBelow,
	}
}

// Clear forgets every entry. The audio files stay: they are cache entries
// other answers may share, and content-addressed names never go stale.
func (s *Stock) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = nil
	s.save()
}

// fillOne generates one entry when the stock is short.
func (s *Stock) fillOne(ctx context.Context) error {
	if !s.Status().NeedsRefill {
		return nil
	}
	s.generating.Store(true)
	defer s.generating.Store(false)
	e, file, err := s.gen(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.entries) >= s.max {
		s.entries = s.entries[1:]
	}
	s.entries = append(s.entries, stockEntry{Text: e.Text, File: file, Duration: e.Duration, CreatedAt: s.clock.Now()})
	s.save()
	return nil
}

// save writes the manifest; callers hold mu. A failed write is logged: the
// in-memory stock stays right and the next change writes again.
func (s *Stock) save() {
	b, err := json.MarshalIndent(map[string]any{"entries": s.entries}, "", "  ")
	if err == nil {
		tmp := s.manifest + ".tmp"
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			err = os.Rename(tmp, s.manifest)
		}
	}
	if err != nil {
		s.log.Error("saving stock manifest", "kind", s.kind, "err", err)
	}
}

// Refill keeps the stocks filled while idle() holds: one entry at a time, a
// short pause between entries, interval between checks when full or busy.
func Refill(ctx context.Context, c clock.Clock, interval time.Duration, idle func() bool, log *slog.Logger, stocks ...*Stock) error {
	const gap = 3 * time.Second
	if interval <= 0 {
		interval = 30 * time.Second
	}
	// Let the service settle (and its first real requests pass) before work.
	// A work timer: on a stepped simulated clock each round holds the clock
	// (within the hold's lease), so refills happen at the same simulated
	// instants in every run.
	w := clock.NewWorkTimer(c, gap)
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.C():
		}
		wait := interval
		if idle() {
			for _, s := range stocks {
				if s.max == 0 || !s.Status().NeedsRefill {
					continue
				}
				if err := s.fillOne(ctx); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					log.WarnContext(ctx, "stock refill failed", "kind", s.kind, "err", err)
					continue
				}
				wait = gap
			}
		}
		w.Reset(wait)
		w.Done()
	}
}
