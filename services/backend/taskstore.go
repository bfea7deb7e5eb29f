package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/dashboard"
)

var errNotFound = errors.New("not found")

const taskColumns = `id, title, description, location, zone, task_type, urgency, bounty, audience,
	skill_level, min_people_required, estimated_duration, announcement_audio_url, announcement_text,
	completion_audio_url, completion_text, created_at, updated_at, expires_at, is_queued, dispatched_at,
	assigned_to, accepted_at, is_completed, completed_at, report_status, completion_note,
	last_reminded_at, region_id`

// taskStore persists tasks in dashboard.tasks.
type taskStore struct {
	pool   *pgxpool.Pool
	region string
}

// create inserts a task, or, when an open task with the same title and location
// exists, updates that one in place (the original's duplicate rule). It reports
// whether a new row was created.
func (s *taskStore) create(ctx context.Context, in dashboard.CreateTask, now time.Time) (dashboard.Task, bool, error) {
	var (
		t       dashboard.Task
		created bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise creators of the same title+location so concurrent duplicates
		// cannot both insert.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || '|' || $2))`, in.Title, in.Location); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM dashboard.tasks
			WHERE NOT is_completed AND title = $1 AND location = $2
			  AND (expires_at IS NULL OR expires_at > $3)
			ORDER BY id DESC LIMIT 1`, in.Title, in.Location, now).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			created = true
			err = tx.QueryRow(ctx, `INSERT INTO dashboard.tasks (title, description, location, zone, task_type,
				urgency, bounty, audience, skill_level, min_people_required, estimated_duration,
				announcement_audio_url, announcement_text, completion_audio_url, completion_text,
				created_at, updated_at, expires_at, region_id)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16,$17,$18)
				RETURNING id`,
				in.Title, in.Description, in.Location, in.Zone, in.TaskType, *in.Urgency, *in.Bounty,
				in.Audience, in.SkillLevel, *in.MinPeopleRequired, *in.EstimatedDuration,
				in.AnnouncementAudioURL, in.AnnouncementText, in.CompletionAudioURL, in.CompletionText,
				now, in.ExpiresAt, s.region).Scan(&id)
			if err != nil {
				return err
			}
			if err := audit(ctx, tx, id, "created", "service", "", now); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			_, err = tx.Exec(ctx, `UPDATE dashboard.tasks SET description = $2, urgency = $3, task_type = $4,
				expires_at = COALESCE($5, expires_at), updated_at = $6,
				announcement_audio_url = COALESCE($7, announcement_audio_url),
				announcement_text = COALESCE($8, announcement_text),
				completion_audio_url = COALESCE($9, completion_audio_url),
				completion_text = COALESCE($10, completion_text)
				WHERE id = $1`,
				id, in.Description, *in.Urgency, in.TaskType, in.ExpiresAt, now,
				in.AnnouncementAudioURL, in.AnnouncementText, in.CompletionAudioURL, in.CompletionText)
			if err != nil {
				return err
			}
			if err := audit(ctx, tx, id, "updated", "service", "duplicate create", now); err != nil {
				return err
			}
		}
		t, err = getTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return dashboard.Task{}, false, fmt.Errorf("create task: %w", err)
	}
	return t, created, nil
}

func (s *taskStore) get(ctx context.Context, id int64) (dashboard.Task, error) {
	return getTx(ctx, s.pool, id)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func getTx(ctx context.Context, q querier, id int64) (dashboard.Task, error) {
	rows, err := q.Query(ctx, `SELECT `+taskColumns+` FROM dashboard.tasks WHERE id = $1`, id)
	if err != nil {
		return dashboard.Task{}, err
	}
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[dashboard.Task])
	if errors.Is(err, pgx.ErrNoRows) {
		return dashboard.Task{}, errNotFound
	}
	return t, err
}

func (s *taskStore) list(ctx context.Context, f dashboard.TaskFilter, now time.Time) ([]dashboard.Task, error) {
	var (
		conds []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	switch f.Status {
	case dashboard.StatusOpen:
		conds = append(conds, "NOT is_completed", "assigned_to IS NULL", "(expires_at IS NULL OR expires_at > "+arg(now)+")")
	case dashboard.StatusAccepted:
		conds = append(conds, "NOT is_completed", "assigned_to IS NOT NULL", "(expires_at IS NULL OR expires_at > "+arg(now)+")")
	case dashboard.StatusCompleted:
		conds = append(conds, "is_completed")
	case dashboard.StatusExpired:
		conds = append(conds, "NOT is_completed", "expires_at <= "+arg(now))
	case "active":
		conds = append(conds, "NOT is_completed", "(expires_at IS NULL OR expires_at > "+arg(now)+")")
	}
	if f.Zone != "" {
		conds = append(conds, "zone = "+arg(f.Zone))
	}
	if f.Audience != "" {
		conds = append(conds, "audience = "+arg(f.Audience))
	}
	where := "TRUE"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+taskColumns+` FROM dashboard.tasks WHERE `+where+
		` ORDER BY created_at DESC, id DESC LIMIT `+arg(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	ts, err := pgx.CollectRows(rows, pgx.RowToStructByName[dashboard.Task])
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	if ts == nil {
		ts = []dashboard.Task{}
	}
	return ts, nil
}

func audit(ctx context.Context, tx pgx.Tx, id int64, action, actor, note string, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO dashboard.task_audit (task_id, action, actor, note, at) VALUES ($1,$2,$3,NULLIF($4,''),$5)`,
		id, action, actor, note, at)
	return err
}
