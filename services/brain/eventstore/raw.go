package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Raw events are buffered and written in batches (one COPY). The buffer and
// each payload are bounded in bytes, a burst is written as soon as it passes
// flushRows instead of waiting for the tick, and a row PostgreSQL refuses is
// isolated and dropped alone rather than failing its batch on every retry
// (docs/brain.md, "Decision log").
const (
	// FlushEvery is the regular flush period (clock time).
	FlushEvery = 5 * time.Second
	// flushRows starts a flush before the tick.
	flushRows = 1000
	// MaxPayload bounds one raw event's data as stored; a larger one is
	// replaced by {"truncated": true, "bytes": n}.
	MaxPayload = 4 << 10
	// MaxBuffered bounds the buffer, retries included, in bytes; beyond it
	// the oldest rows are dropped (and counted).
	MaxBuffered = 32 << 20
)

// Raw is one perceived thing: a sensor reading or a world-model event.
type Raw struct {
	At     time.Time      `json:"ts"`
	Zone   string         `json:"zone"`
	Type   string         `json:"event_type"`
	Device string         `json:"source_device,omitempty"`
	Data   map[string]any `json:"data"`
}

// rawRow is a Raw ready for COPY: cleaned, its data encoded.
type rawRow struct {
	at                time.Time
	zone, typ, device string
	data              []byte
}

func (r rawRow) size() int { return len(r.zone) + len(r.typ) + len(r.device) + len(r.data) + 64 }

// RawStats counts what happened to raw events besides being stored.
type RawStats struct {
	// Dropped: the oldest rows, discarded because the buffer was full (the
	// database down or too slow).
	Dropped uint64
	// Rejected: rows PostgreSQL refused, isolated from their batch.
	Rejected uint64
	// Truncated: payloads over MaxPayload, stored as a marker.
	Truncated uint64
}

type rawBuffer struct {
	mu      sync.Mutex
	rows    []rawRow
	bytes   int
	stats   RawStats
	failing bool          // the last flush failed: wait for the tick
	kick    chan struct{} // a burst passed flushRows
}

func newRawBuffer() rawBuffer { return rawBuffer{kick: make(chan struct{}, 1)} }

// Record buffers a raw event for the next flush. It never blocks: when the
// buffer is full the oldest rows are dropped and counted.
func (s *Store) Record(r Raw) {
	if s == nil {
		return
	}
	row, truncated := encodeRaw(r)
	b := &s.raw
	b.mu.Lock()
	defer b.mu.Unlock()
	if truncated {
		b.stats.Truncated++
	}
	b.rows = append(b.rows, row)
	b.bytes += row.size()
	b.trimLocked()
	if len(b.rows) >= flushRows && !b.failing {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// encodeRaw cleans and encodes one raw event, capping its data.
func encodeRaw(r Raw) (rawRow, bool) {
	data := r.Data
	if data == nil {
		data = map[string]any{}
	}
	b, err := cleanJSON(data)
	truncated := false
	if err != nil || len(b) > MaxPayload {
		n := len(b)
		b, _ = cleanJSON(map[string]any{"truncated": true, "bytes": n})
		truncated = true
	}
	return rawRow{at: r.At, zone: cleanText(r.Zone), typ: cleanText(r.Type), device: cleanText(r.Device), data: b}, truncated
}

// trimLocked drops the oldest rows until the buffer fits MaxBuffered.
func (b *rawBuffer) trimLocked() {
	i := 0
	for b.bytes > MaxBuffered && i < len(b.rows) {
		b.bytes -= b.rows[i].size()
		i++
	}
	if i > 0 {
		b.stats.Dropped += uint64(i)
		// Reslice rather than copy (a full buffer drops a row per Record);
		// the dropped rows' data is released now, their slots when append
		// next reallocates.
		clear(b.rows[:i])
		b.rows = b.rows[i:]
	}
}

// Stats reports what happened to raw events besides being stored.
func (s *Store) Stats() RawStats {
	if s == nil {
		return RawStats{}
	}
	s.raw.mu.Lock()
	defer s.raw.mu.Unlock()
	return s.raw.stats
}

// Dropped is the number of raw events discarded because the buffer was full.
func (s *Store) Dropped() int { return int(s.Stats().Dropped) }

// Run flushes the buffer every FlushEvery, and at once when a burst passes
// flushRows, until ctx ends, then once more.
func (s *Store) Run(ctx context.Context) error {
	if s == nil {
		<-ctx.Done()
		return nil
	}
	t := s.clock.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Flush(fctx); err != nil {
				s.log.Warn("final event flush failed", "err", err)
			}
			return nil
		case <-t.C():
		case <-s.raw.kick:
		}
		if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("event flush failed; will retry", "err", err)
		}
	}
}

// Flush writes the buffered raw events. When the database refuses the batch
// for its data, the batch is split until the refused rows are alone, and
// those are dropped and counted; any other failure (the database is down)
// keeps the batch buffered for the next flush, within MaxBuffered.
func (s *Store) Flush(ctx context.Context) error {
	if s == nil {
		return nil
	}
	b := &s.raw
	b.mu.Lock()
	batch := b.rows
	b.rows, b.bytes = nil, 0
	b.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	rejected, done, err := s.write(ctx, batch)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Rejected += uint64(rejected)
	b.failing = err != nil
	if err != nil {
		rest := batch[done:]
		for _, r := range rest {
			b.bytes += r.size()
		}
		b.rows = append(rest, b.rows...)
		b.trimLocked()
		return fmt.Errorf("eventstore: writing %d raw events: %w", len(rest), err)
	}
	if rejected > 0 {
		s.log.Warn("raw events refused by the database were dropped", "rows", rejected)
	}
	return nil
}

// write copies rows, isolating rows refused for their data by halving. It
// returns how many rows were refused and how many leading rows are done
// (written or refused); on an error that is not about data, rows[done:] are
// still to be written.
func (s *Store) write(ctx context.Context, rows []rawRow) (rejected, done int, err error) {
	_, err = s.pool.CopyFrom(ctx, pgx.Identifier{Schema, "raw_events"},
		[]string{"ts", "zone", "event_type", "source_device", "data", "region_id"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			var dev *string
			if r.device != "" {
				dev = &r.device
			}
			return []any{r.at, r.zone, r.typ, dev, r.data, s.region}, nil
		}))
	switch {
	case err == nil:
		return 0, len(rows), nil
	case !refusedData(err):
		return 0, 0, err
	case len(rows) == 1:
		s.log.Debug("raw event refused", "zone", rows[0].zone, "type", rows[0].typ, "err", err)
		return 1, 1, nil
	}
	half := len(rows) / 2
	r1, d1, err := s.write(ctx, rows[:half])
	if err != nil {
		return r1, d1, err
	}
	r2, d2, err := s.write(ctx, rows[half:])
	return r1 + r2, half + d2, err
}

// refusedData reports whether PostgreSQL refused the data itself (data
// exceptions, constraint violations, limits, invalid text), as opposed to
// being unreachable.
func refusedData(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}
