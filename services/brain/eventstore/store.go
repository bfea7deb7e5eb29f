// Package eventstore is the brain's decision log in PostgreSQL (schema
// "events"): raw events (sensor readings and world-model events, buffered and
// written in batches, raw.go), one row per decision cycle with its trigger
// events and tool calls, and the latest device-registry snapshot. Text from
// the network is cleaned of NUL before it is stored (clean.go).
package eventstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/services/brain/eventstore/migrations"
)

// Schema is the PostgreSQL schema the brain owns.
const Schema = "events"

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

	raw rawBuffer
}

// Open migrates the schema and returns a store.
func Open(ctx context.Context, pool *pgxpool.Pool, c clock.Clock, log *slog.Logger, region string) (*Store, error) {
	if err := pg.Migrate(ctx, pool, Schema, migrations.FS, log); err != nil {
		return nil, err
	}
	return &Store{pool: pool, clock: c, log: log, region: region, raw: newRawBuffer()}, nil
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
		e := cleanText(d.Error)
		errText = &e
	}
	// Tool arguments and results carry text from the LLM and from devices:
	// cleaned of NUL, which PostgreSQL refuses in text and jsonb.
	triggers, err := cleanJSON(d.Triggers)
	if err != nil {
		return fmt.Errorf("eventstore: writing decision: %w", err)
	}
	calls, err := cleanJSON(d.ToolCalls)
	if err != nil {
		return fmt.Errorf("eventstore: writing decision: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO events.llm_decisions
		(ts, mode, outcome, duration_ms, iterations, total_tool_calls, trigger_events, tool_calls, error, region_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		d.At, cleanText(d.Mode), cleanText(d.Outcome), int(d.Duration), d.Iterations, len(d.ToolCalls), triggers, calls, errText, s.region)
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
	b, err := cleanJSON(devices)
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
