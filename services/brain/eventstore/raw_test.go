package eventstore

import (
	"context"
	"strings"
	"testing"
	"time"
)

func (s *Store) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBadRowsDoNotJam: a reading with NUL (which PostgreSQL refuses in text
// and jsonb) once failed its batch on every flush, re-queued whole, forever.
// NUL is replaced now, and a row the database refuses anyway is isolated and
// dropped alone.
func TestBadRowsDoNotJam(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for i := range 10 {
		s.Record(Raw{At: t0, Zone: "main", Type: "sensor_reading", Device: "env_01", Data: map[string]any{"value": i}})
	}
	s.Record(Raw{At: t0, Zone: "ma\x00in", Type: "sensor_reading", Device: "env\x00", Data: map[string]any{"note\x00": "a\x00b", "list": []any{"\x00"}}})
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT count(*) FROM events.raw_events`); n != 11 {
		t.Fatalf("%d rows stored, want 11", n)
	}
	if n := s.count(t, `SELECT count(*) FROM events.raw_events WHERE zone = $1 AND data->>$2 = $3`, "ma\uFFFDin", "note\uFFFD", "a\uFFFDb"); n != 1 {
		t.Fatal("NUL not replaced")
	}
	// A timestamp PostgreSQL cannot hold: refused for its data, alone.
	for i := range 5 {
		s.Record(Raw{At: t0, Zone: "main", Type: "sensor_reading", Data: map[string]any{"value": i}})
	}
	s.Record(Raw{At: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), Zone: "main", Type: "sensor_reading"})
	for i := range 5 {
		s.Record(Raw{At: t0, Zone: "main", Type: "sensor_reading", Data: map[string]any{"value": i}})
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT count(*) FROM events.raw_events`); n != 21 || s.Stats().Rejected != 1 {
		t.Fatalf("%d rows stored, %d refused; want 21 and 1", n, s.Stats().Rejected)
	}
	s.Record(Raw{At: t0, Zone: "main", Type: "sensor_reading"})
	if err := s.Flush(ctx); err != nil || s.count(t, `SELECT count(*) FROM events.raw_events`) != 22 {
		t.Fatalf("the store is jammed: %v", err)
	}
	// Decisions carry text from the LLM and devices.
	if err := s.RecordDecision(ctx, Decision{At: t0, Mode: "llm", Outcome: "ok\x00", Error: "x\x00",
		ToolCalls: []ToolCall{{Tool: "speak", Args: map[string]any{"message": "\x00"}, Result: "\x00"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestPayloadCapped(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	s.Record(Raw{At: t0, Zone: "main", Type: "sensor_reading", Data: map[string]any{"value": 1, "junk": strings.Repeat("x", 100_000)}})
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT max(length(data::text)) FROM events.raw_events`); n > MaxPayload {
		t.Fatalf("a %d-byte payload was stored", n)
	}
	if n := s.count(t, `SELECT count(*) FROM events.raw_events WHERE (data->>'truncated')::bool AND (data->>'bytes')::int > 100000`); n != 1 || s.Stats().Truncated != 1 {
		t.Fatalf("no truncation marker (%d, %+v)", n, s.Stats())
	}
}

// TestBufferBoundedInBytes: while the database is unreachable the buffer,
// retries included, stays within MaxBuffered; the oldest rows are dropped and
// counted.
func TestBufferBoundedInBytes(t *testing.T) {
	s := open(t)
	s.pool.Close()
	row := Raw{At: t0, Zone: "main", Type: "sensor_reading", Data: map[string]any{"pad": strings.Repeat("x", MaxPayload-100)}}
	per := len(mustEncode(t, row).data)
	n := 2 * MaxBuffered / per
	for i := range n {
		s.Record(row)
		if i%1000 == 0 {
			_ = s.Flush(context.Background()) // fails: the batch goes back
		}
	}
	s.raw.mu.Lock()
	bytes, rows := s.raw.bytes, len(s.raw.rows)
	s.raw.mu.Unlock()
	if bytes > MaxBuffered || s.Stats().Dropped == 0 || uint64(rows)+s.Stats().Dropped != uint64(n) {
		t.Fatalf("%d bytes in %d rows buffered, %d dropped of %d", bytes, rows, s.Stats().Dropped, n)
	}
}

func mustEncode(t *testing.T, r Raw) rawRow {
	t.Helper()
	row, truncated := encodeRaw(r)
	if truncated {
		t.Fatal("truncated")
	}
	return row
}

// TestBurstFlushedEarly: a burst larger than the old 10 000-row buffer within
// one flush period is written as it comes, none dropped (the clock never
// ticks here).
func TestBurstFlushedEarly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := open(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	const n = 25_000
	for i := range n {
		s.Record(Raw{At: t0, Zone: "main", Type: "sensor_reading", Device: "env_01", Data: map[string]any{"value": i}})
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.count(t, `SELECT count(*) FROM events.raw_events`) < n-flushRows && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the table; there is nothing to wait on
	}
	cancel()
	<-done // the final flush writes the rest
	if got := s.count(t, `SELECT count(*) FROM events.raw_events`); got != n || s.Dropped() != 0 {
		t.Fatalf("%d of %d stored, %d dropped", got, n, s.Dropped())
	}
}
