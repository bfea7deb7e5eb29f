// Package eventstore is the brain's decision log in PostgreSQL (schema
// "events"): raw events (sensor readings and world-model events, written in
// batches), one row per decision cycle with its trigger events and tool calls,
// and the latest device-registry snapshot.
package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/services/brain/eventstore/migrations"
)

// Schema is the PostgreSQL schema the brain owns.
const Schema = "events"

// Flush timing and buffer bounds.
const (
	FlushEvery = 5 * time.Second
	maxBuffer  = 10000
)

// Raw is one perceived thing: a sensor reading or a world-model event.
type Raw struct {
	At     time.Time      `json:"ts"`
	Zone   string         `json:"zone"`
	Type   string         `json:"event_type"`
	Device string         `json:"source_device,omitempty"`
	Data   map[string]any `json:"data"`
}

// Trigger is an event that led to a decision.
type Trigger struct {
	Zone     string `json:"zone"`
	Event    string `json:"event"`
	Severity string `json:"severity"`
}

// ToolCall is one executed tool call of a decision.
type ToolCall struct {
	Tool    string         `json:"tool"`
	Args    map[string]any `json:"arguments"`
	Success bool           `json:"success"`
	Result  string         `json:"result"`
}

// Decision is one cycle's outcome.
type Decision struct {
	ID         int64      `json:"id"`
	At         time.Time  `json:"ts"`
	Mode       string     `json:"mode"` // llm | rule_fallback | rule_inactive
	Outcome    string     `json:"outcome"`
	Duration   float64    `json:"duration_ms"`
	Iterations int        `json:"iterations"`
	Triggers   []Trigger  `json:"trigger_events"`
	ToolCalls  []ToolCall `json:"tool_calls"`
	Error      string     `json:"error,omitempty"`
}

// Store writes the log. A nil *Store is a disabled store: every method is a
// no-op, so the brain runs without a database.
type Store struct {
	pool   *pgxpool.Pool
	clock  clock.Clock
	log    *slog.Logger
	region string

	mu      sync.Mutex
	buf     []Raw
	dropped int
}

// Open migrates the schema and returns a store.
func Open(ctx context.Context, pool *pgxpool.Pool, c clock.Clock, log *slog.Logger, region string) (*Store, error) {
	if err := pg.Migrate(ctx, pool, Schema, migrations.FS, log); err != nil {
		return nil, err
	}
	return &Store{pool: pool, clock: c, log: log, region: region}, nil
}

// Record buffers a raw event for the next flush; when the database falls far
// behind, the oldest readings are dropped (and counted) rather than growing
// without bound.
func (s *Store) Record(r Raw) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) >= maxBuffer {
		s.buf = s.buf[1:]
		s.dropped++
	}
	s.buf = append(s.buf, r)
}

// Dropped is the number of raw events discarded because the buffer was full.
func (s *Store) Dropped() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Run flushes the buffer every FlushEvery until ctx ends, then once more.
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
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("event flush failed; will retry", "err", err)
			}
		}
	}
}

// Flush writes buffered raw events in one COPY. On failure they stay buffered.
func (s *Store) Flush(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	batch := s.buf
	s.buf = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	rows := make([][]any, len(batch))
	for i, r := range batch {
		data := r.Data
		if data == nil {
			data = map[string]any{}
		}
		var dev *string
		if r.Device != "" {
			dev = &r.Device
		}
		rows[i] = []any{r.At, r.Zone, r.Type, dev, data, s.region}
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{Schema, "raw_events"},
		[]string{"ts", "zone", "event_type", "source_device", "data", "region_id"}, pgx.CopyFromRows(rows))
	if err != nil {
		s.mu.Lock()
		s.buf = append(batch, s.buf...)
		s.mu.Unlock()
		return fmt.Errorf("eventstore: writing %d raw events: %w", len(batch), err)
	}
	return nil
}

// RecordDecision writes one decision row.
func (s *Store) RecordDecision(ctx context.Context, d Decision) error {
	if s == nil {
		return nil
	}
	if d.Triggers == nil {
		d.Triggers = []Trigger{}
	}
	if d.ToolCalls == nil {
		d.ToolCalls = []ToolCall{}
	}
	var errText *string
	if d.Error != "" {
		errText = &d.Error
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO events.llm_decisions
		(ts, mode, outcome, duration_ms, iterations, total_tool_calls, trigger_events, tool_calls, error, region_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		d.At, d.Mode, d.Outcome, int(d.Duration), d.Iterations, len(d.ToolCalls), d.Triggers, d.ToolCalls, errText, s.region)
	if err != nil {
		return fmt.Errorf("eventstore: writing decision: %w", err)
	}
	return nil
}

// Decisions returns the latest decisions, newest first.
func (s *Store) Decisions(ctx context.Context, limit int) ([]Decision, error) {
	if s == nil {
		return []Decision{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, ts, mode, outcome, duration_ms, iterations, trigger_events, tool_calls, coalesce(error, '')
		FROM events.llm_decisions ORDER BY ts DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("eventstore: reading decisions: %w", err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		var ms int
		if err := rows.Scan(&d.ID, &d.At, &d.Mode, &d.Outcome, &ms, &d.Iterations, &d.Triggers, &d.ToolCalls, &d.Error); err != nil {
			return nil, fmt.Errorf("eventstore: reading decisions: %w", err)
		}
		d.Duration = float64(ms)
		out = append(out, d)
	}
	return out, rows.Err()
}

// CountRaw counts raw events of a type (for tests and the HTTP API).
func (s *Store) CountRaw(ctx context.Context, eventType string) (int, error) {
	if s == nil {
		return 0, nil
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events.raw_events WHERE event_type = $1`, eventType).Scan(&n)
	return n, err
}

// SnapshotDevices replaces the registry snapshot row.
func (s *Store) SnapshotDevices(ctx context.Context, devices any) error {
	if s == nil {
		return nil
	}
	b, err := json.Marshal(devices)
	if err != nil {
		return fmt.Errorf("eventstore: snapshot: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO events.device_registry_snapshot (id, ts, devices) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts, devices = EXCLUDED.devices`, s.clock.Now(), b)
	if err != nil {
		return fmt.Errorf("eventstore: snapshot: %w", err)
	}
	return nil
}
