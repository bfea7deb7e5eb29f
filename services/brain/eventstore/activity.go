package eventstore

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Event is one world-model event as the decision log holds it, in the shape
// the original SOMS's dashboard showed (GET /sensors/events): its type keeps
// the log's "world_model_" prefix.
type Event struct {
	At     time.Time      `json:"timestamp"`
	Zone   string         `json:"zone"`
	Type   string         `json:"event_type"`
	Device *string        `json:"source_device"`
	Data   map[string]any `json:"data"`
}

// Events returns the latest world-model events (all zones when zone is
// empty), newest first. Events reach the log with the next flush (FlushEvery).
func (s *Store) Events(ctx context.Context, zone string, limit int) ([]Event, error) {
	if s == nil {
		return []Event{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT ts, zone, event_type, source_device, data FROM events.raw_events
		WHERE event_type LIKE 'world\_model\_%' AND ($1 = '' OR zone = $1)
		ORDER BY ts DESC, id DESC LIMIT $2`, zone, limit)
	if err != nil {
		return nil, fmt.Errorf("eventstore: reading events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.Zone, &e.Type, &e.Device, &e.Data); err != nil {
			return nil, fmt.Errorf("eventstore: reading events: %w", err)
		}
		if e.Data == nil {
			e.Data = map[string]any{}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Activity summarises the decision cycles since a time: how many, their tool
// calls, their mean duration, and the same per hour (the original's LLM
// activity and timeline).
type Activity struct {
	Cycles         int            `json:"cycles"`
	ToolCalls      int            `json:"total_tool_calls"`
	AvgDurationSec float64        `json:"avg_duration_sec"`
	Timeline       []ActivityHour `json:"timeline"`
}

// ActivityHour is one hour of Activity, by the hour's start (UTC).
type ActivityHour struct {
	At             time.Time `json:"timestamp"`
	Cycles         int       `json:"cycles"`
	ToolCalls      int       `json:"tool_calls"`
	AvgDurationSec float64   `json:"avg_duration_sec"`
}

// Activity reads the decisions at or after since.
func (s *Store) Activity(ctx context.Context, since time.Time) (Activity, error) {
	out := Activity{Timeline: []ActivityHour{}}
	if s == nil {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
		count(*)::int, COALESCE(sum(total_tool_calls), 0)::int, COALESCE(sum(duration_ms), 0)::float8
		FROM events.llm_decisions WHERE ts >= $1 GROUP BY hour ORDER BY hour`, since)
	if err != nil {
		return out, fmt.Errorf("eventstore: reading activity: %w", err)
	}
	defer rows.Close()
	var totalMS float64
	for rows.Next() {
		var h ActivityHour
		var ms float64
		if err := rows.Scan(&h.At, &h.Cycles, &h.ToolCalls, &ms); err != nil {
			return out, fmt.Errorf("eventstore: reading activity: %w", err)
		}
		h.AvgDurationSec = seconds(ms / float64(h.Cycles))
		out.Cycles += h.Cycles
		out.ToolCalls += h.ToolCalls
		totalMS += ms
		out.Timeline = append(out.Timeline, h)
	}
	if out.Cycles > 0 {
		out.AvgDurationSec = seconds(totalMS / float64(out.Cycles))
	}
	return out, rows.Err()
}

// seconds turns milliseconds into seconds, two decimals as the original.
func seconds(ms float64) float64 { return math.Round(ms/10) / 100 }
