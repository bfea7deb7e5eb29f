package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/backendapi"
)

var errNotFound = errors.New("not found")

// stateError is a request the task's current state does not allow (HTTP 400).
type stateError struct{ msg string }

func (e *stateError) Error() string { return e.msg }

// forbiddenError is a request by the wrong person (HTTP 403).
type forbiddenError struct{ msg string }

func (e *forbiddenError) Error() string { return e.msg }

// unauthenticatedError is a request that needs a credential the caller did
// not present (HTTP 401).
type unauthenticatedError struct{ msg string }

func (e *unauthenticatedError) Error() string { return e.msg }

const taskColumns = `id, title, description, location, zone, task_type, urgency, bounty, audience,
	skill_level, min_people_required, estimated_duration, announcement_audio_url, announcement_text,
	completion_audio_url, completion_text, created_at, updated_at, expires_at, is_queued, dispatched_at,
	assigned_to, accepted_at, is_completed, completed_at, report_status, completion_note,
	last_reminded_at, region_id`

// Outcomes of a create.
const (
	outcomeCreated       = "created"
	outcomeTitleLocation = "title_location"
	outcomeCategory      = "category"
)

// taskStore persists tasks in dashboard.tasks.
type taskStore struct {
	pool   *pgxpool.Pool
	region string
}

// createResult says what a create did.
type createResult struct {
	Task     backendapi.Task
	Outcome  string // created, title_location or category
	Category string // the shared category for a category merge
}

// create inserts a task unless it duplicates an active one: (1) an active task
// with the same title and location is updated in place (the original's rule);
// (2) else an active task in the same zone sharing a keyword category (see
// categories) is updated.
func (s *taskStore) create(ctx context.Context, in backendapi.CreateTask, now time.Time) (createResult, error) {
	var res createResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise creators of the same title+location, then of the same zone,
		// so concurrent duplicates cannot both insert. Every creator takes the
		// locks in this order, so they cannot deadlock.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || '|' || $2))`, in.Title, in.Location); err != nil {
			return err
		}
		if in.Zone != nil {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('zone|' || $1))`, *in.Zone); err != nil {
				return err
			}
		}
		id, outcome, category, err := findDuplicate(ctx, tx, in, now)
		if err != nil {
			return err
		}
		res.Outcome, res.Category = outcome, category
		if outcome == outcomeCreated {
			queued := in.IsQueued != nil && *in.IsQueued
			err = tx.QueryRow(ctx, `INSERT INTO dashboard.tasks (title, description, location, zone, task_type,
				urgency, bounty, audience, skill_level, min_people_required, estimated_duration,
				announcement_audio_url, announcement_text, completion_audio_url, completion_text,
				created_at, updated_at, expires_at, region_id, is_queued)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16,$17,$18,$19)
				RETURNING id`,
				in.Title, in.Description, in.Location, in.Zone, in.TaskType, *in.Urgency, *in.Bounty,
				in.Audience, in.SkillLevel, *in.MinPeopleRequired, *in.EstimatedDuration,
				in.AnnouncementAudioURL, in.AnnouncementText, in.CompletionAudioURL, in.CompletionText,
				now, in.ExpiresAt, s.region, queued).Scan(&id)
			if err != nil {
				return err
			}
			if err := audit(ctx, tx, id, "created", "service", "", now); err != nil {
				return err
			}
		} else {
			if err := mergeInto(ctx, tx, id, in, outcome, now); err != nil {
				return err
			}
			note := "duplicate create (same title and location)"
			if outcome == outcomeCategory {
				note = "duplicate create (category " + category + "): " + in.Title
			}
			if err := audit(ctx, tx, id, "updated", "service", note, now); err != nil {
				return err
			}
		}
		res.Task, err = getTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return createResult{}, fmt.Errorf("create task: %w", err)
	}
	return res, nil
}

const activeAt = `NOT is_completed AND (expires_at IS NULL OR expires_at > $%d)`

func findDuplicate(ctx context.Context, tx pgx.Tx, in backendapi.CreateTask, now time.Time) (int64, string, string, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM dashboard.tasks
		WHERE title = $1 AND location = $2 AND `+fmt.Sprintf(activeAt, 3)+`
		ORDER BY id DESC LIMIT 1`, in.Title, in.Location, now).Scan(&id)
	if err == nil {
		return id, outcomeTitleLocation, "", nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, "", "", err
	}
	want := taskCategories(in.Title, in.Description)
	if in.Zone == nil || len(want) == 0 {
		return 0, outcomeCreated, "", nil
	}
	rows, err := tx.Query(ctx, `SELECT id, title, description FROM dashboard.tasks
		WHERE zone = $1 AND `+fmt.Sprintf(activeAt, 2)+` ORDER BY id DESC LIMIT 200`, *in.Zone, now)
	if err != nil {
		return 0, "", "", err
	}
	defer rows.Close()
	for rows.Next() {
		var title, desc string
		if err := rows.Scan(&id, &title, &desc); err != nil {
			return 0, "", "", err
		}
		if c := sharedCategory(want, taskCategories(title, desc)); c != "" {
			return id, outcomeCategory, c, nil
		}
	}
	return 0, outcomeCreated, "", rows.Err()
}

// mergeInto refreshes an existing task from a duplicate request: the newer
// description and expiry win, urgency only rises, task types are united. A
// category merge keeps the existing title (people may already know it).
func mergeInto(ctx context.Context, tx pgx.Tx, id int64, in backendapi.CreateTask, outcome string, now time.Time) error {
	var types []string
	if err := tx.QueryRow(ctx, `SELECT task_type FROM dashboard.tasks WHERE id = $1`, id).Scan(&types); err != nil {
		return err
	}
	for _, t := range in.TaskType {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	urgency := `$3`
	if outcome == outcomeCategory {
		urgency = `GREATEST(urgency, $3)`
	}
	_, err := tx.Exec(ctx, `UPDATE dashboard.tasks SET description = $2, urgency = `+urgency+`, task_type = $4,
		expires_at = COALESCE($5, expires_at), updated_at = $6,
		announcement_audio_url = COALESCE($7, announcement_audio_url),
		announcement_text = COALESCE($8, announcement_text),
		completion_audio_url = COALESCE($9, completion_audio_url),
		completion_text = COALESCE($10, completion_text)
		WHERE id = $1`,
		id, in.Description, *in.Urgency, types, in.ExpiresAt, now,
		in.AnnouncementAudioURL, in.AnnouncementText, in.CompletionAudioURL, in.CompletionText)
	return err
}

func (s *taskStore) get(ctx context.Context, id int64) (backendapi.Task, error) {
	return getTx(ctx, s.pool, id)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func getTx(ctx context.Context, q querier, id int64) (backendapi.Task, error) {
	rows, err := q.Query(ctx, `SELECT `+taskColumns+` FROM dashboard.tasks WHERE id = $1`, id)
	if err != nil {
		return backendapi.Task{}, err
	}
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[backendapi.Task])
	if errors.Is(err, pgx.ErrNoRows) {
		return backendapi.Task{}, errNotFound
	}
	return t, err
}

// lockTask reads a task for update inside tx.
func lockTask(ctx context.Context, tx pgx.Tx, id int64) (backendapi.Task, error) {
	rows, err := tx.Query(ctx, `SELECT `+taskColumns+` FROM dashboard.tasks WHERE id = $1 FOR UPDATE`, id)
	if err != nil {
		return backendapi.Task{}, err
	}
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[backendapi.Task])
	if errors.Is(err, pgx.ErrNoRows) {
		return backendapi.Task{}, errNotFound
	}
	return t, err
}

// change runs fn on the locked task and returns the task as stored afterwards.
func (s *taskStore) change(ctx context.Context, id int64, fn func(tx pgx.Tx, t backendapi.Task) error) (backendapi.Task, error) {
	var out backendapi.Task
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := lockTask(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, t); err != nil {
			return err
		}
		out, err = getTx(ctx, tx, id)
		return err
	})
	return out, err
}

// accept assigns the task to userID. Accepting again for the same person is
// a no-op, so a retried request succeeds.
func (s *taskStore) accept(ctx context.Context, id, userID int64, actor string, now time.Time) (backendapi.Task, bool, error) {
	changed := false
	t, err := s.change(ctx, id, func(tx pgx.Tx, t backendapi.Task) error {
		switch {
		case t.IsCompleted:
			return &stateError{"task is already completed"}
		case t.AssignedTo != nil && *t.AssignedTo == userID:
			return nil
		case t.AssignedTo != nil:
			return &stateError{"task is already accepted by someone else"}
		case t.StatusAt(now) == backendapi.StatusExpired:
			return &stateError{"task has expired"}
		}
		var active bool
		err := tx.QueryRow(ctx, `SELECT is_active FROM dashboard.users WHERE id = $1`, userID).Scan(&active)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !active) {
			return &stateError{fmt.Sprintf("user %d does not exist or is deactivated", userID)}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE dashboard.tasks SET assigned_to = $2, accepted_at = $3, updated_at = $3 WHERE id = $1`, id, userID, now); err != nil {
			return err
		}
		changed = true
		return audit(ctx, tx, id, "accepted", actor, fmt.Sprintf("user %d", userID), now)
	})
	return t, changed, err
}

// acceptUnassigned takes the task without an assignee: the wall kiosk (an
// anonymous caller) or a service accepting for nobody, as the original
// allowed. Nobody is paid for such a task unless a person takes it over
// (accept) or completes it (complete); a repeat is a no-op.
func (s *taskStore) acceptUnassigned(ctx context.Context, id int64, actor string, now time.Time) (backendapi.Task, bool, error) {
	changed := false
	t, err := s.change(ctx, id, func(tx pgx.Tx, t backendapi.Task) error {
		switch {
		case t.IsCompleted:
			return &stateError{"task is already completed"}
		case t.AssignedTo != nil:
			return &stateError{"task is already accepted by someone"}
		case t.AcceptedAt != nil:
			return nil
		case t.StatusAt(now) == backendapi.StatusExpired:
			return &stateError{"task has expired"}
		}
		if _, err := tx.Exec(ctx, `UPDATE dashboard.tasks SET accepted_at = $2, updated_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		changed = true
		return audit(ctx, tx, id, "accepted", actor, "nobody assigned (kiosk)", now)
	})
	return t, changed, err
}

// complete marks the task done and records the reward payment in the same
// transaction. Who may complete what, and who is paid (docs/compatibility.md):
//   - a task a person accepted: that person, an administrator or a service;
//     the person is paid. An anonymous caller is refused (401).
//   - a task nobody accepted (or the kiosk accepted): a signed-in person takes
//     it — accepted and completed by them — and is paid; an anonymous caller
//     (the wall kiosk) or a service completes it and nobody is paid, which the
//     audit entry says.
//
// It returns the task and the person paid (nil: nobody).
func (s *taskStore) complete(ctx context.Context, id int64, p principal, in backendapi.CompleteTask, payments *paymentStore, now time.Time) (backendapi.Task, *int64, error) {
	var paidTo *int64
	t, err := s.change(ctx, id, func(tx pgx.Tx, t backendapi.Task) error {
		assignee := t.AssignedTo
		switch {
		case t.IsCompleted:
			return &stateError{"task is already completed"}
		case assignee != nil && !p.authenticated():
			return &unauthenticatedError{"a person accepted this task: sign in as them to complete it"}
		case assignee != nil && p.User != nil && !p.admin() && *assignee != p.User.ID:
			return &forbiddenError{"only the person who accepted the task may complete it"}
		case assignee == nil && p.User != nil:
			uid := p.User.ID
			assignee = &uid
			if _, err := tx.Exec(ctx, `UPDATE dashboard.tasks SET assigned_to = $2, accepted_at = COALESCE(accepted_at, $3) WHERE id = $1`, id, uid, now); err != nil {
				return err
			}
			if err := audit(ctx, tx, id, "accepted", p.actor(), fmt.Sprintf("user %d, on completion", uid), now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE dashboard.tasks SET is_completed = true, completed_at = $2, updated_at = $2,
			report_status = $3, completion_note = NULLIF($4, '') WHERE id = $1`, id, now, in.ReportStatus, in.CompletionNote); err != nil {
			return err
		}
		note := in.ReportStatus
		if assignee == nil {
			note += "; nobody paid: completed without a person"
		}
		if err := audit(ctx, tx, id, "completed", p.actor(), note, now); err != nil {
			return err
		}
		if assignee == nil {
			return nil
		}
		paidTo = assignee
		return payments.record(ctx, tx, id, *assignee, int64(t.Bounty)*MilliPerCredit, now)
	})
	if err != nil {
		return t, nil, err
	}
	return t, paidTo, nil
}

func (s *taskStore) dispatch(ctx context.Context, id int64, now time.Time) (backendapi.Task, error) {
	return s.change(ctx, id, func(tx pgx.Tx, t backendapi.Task) error {
		if t.IsCompleted {
			return &stateError{"task is already completed"}
		}
		if _, err := tx.Exec(ctx, `UPDATE dashboard.tasks SET is_queued = false, dispatched_at = COALESCE(dispatched_at, $2), updated_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		return audit(ctx, tx, id, "dispatched", "service", "", now)
	})
}

func (s *taskStore) reminded(ctx context.Context, id int64, now time.Time) (backendapi.Task, error) {
	return s.change(ctx, id, func(tx pgx.Tx, t backendapi.Task) error {
		if t.IsCompleted {
			return &stateError{"task is already completed"}
		}
		if _, err := tx.Exec(ctx, `UPDATE dashboard.tasks SET last_reminded_at = $2, updated_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		return audit(ctx, tx, id, "reminded", "service", "", now)
	})
}

// noteExpired records an 'expired' audit entry once for every task whose
// expiry has passed, and returns those tasks.
func (s *taskStore) noteExpired(ctx context.Context, now time.Time) ([]backendapi.Task, error) {
	var out []backendapi.Task
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE dashboard.tasks SET expiry_noted = true
			WHERE NOT is_completed AND NOT expiry_noted AND expires_at <= $1 RETURNING `+taskColumns, now)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByName[backendapi.Task])
		if err != nil {
			return err
		}
		for _, t := range out {
			if err := audit(ctx, tx, t.ID, "expired", "system", "", now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("note expired tasks: %w", err)
	}
	return out, nil
}

func (s *taskStore) list(ctx context.Context, f backendapi.TaskFilter, now time.Time) ([]backendapi.Task, error) {
	var (
		conds []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	notExpired := func() string { return "(expires_at IS NULL OR expires_at > " + arg(now) + ")" }
	switch f.Status {
	case backendapi.StatusOpen:
		conds = append(conds, "NOT is_completed", "accepted_at IS NULL", notExpired())
	case backendapi.StatusAccepted:
		conds = append(conds, "NOT is_completed", "accepted_at IS NOT NULL", notExpired())
	case backendapi.StatusCompleted:
		conds = append(conds, "is_completed")
	case backendapi.StatusExpired:
		conds = append(conds, "NOT is_completed", "expires_at <= "+arg(now))
	case backendapi.StatusQueued:
		conds = append(conds, "NOT is_completed", "is_queued", notExpired())
	case backendapi.StatusActive:
		conds = append(conds, "NOT is_completed", notExpired())
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
	order := ` ORDER BY created_at DESC, id DESC`
	if f.Status == backendapi.StatusQueued {
		order = ` ORDER BY urgency DESC, created_at, id` // the dispatch order
	}
	rows, err := s.pool.Query(ctx, `SELECT `+taskColumns+` FROM dashboard.tasks WHERE `+where+order+` LIMIT `+arg(f.Limit)+` OFFSET `+arg(f.Offset), args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	ts, err := pgx.CollectRows(rows, pgx.RowToStructByName[backendapi.Task])
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	if ts == nil {
		ts = []backendapi.Task{}
	}
	return ts, nil
}

func (s *taskStore) stats(ctx context.Context, now time.Time) (backendapi.TaskStats, error) {
	st := backendapi.TaskStats{ByReportStatus: map[string]int{}, ByZoneActive: map[string]int{}}
	// "Today" is the clock's calendar day in UTC.
	day := now.UTC().Truncate(24 * time.Hour)
	err := s.pool.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE NOT is_completed AND accepted_at IS NULL AND (expires_at IS NULL OR expires_at > $1)),
		count(*) FILTER (WHERE NOT is_completed AND accepted_at IS NOT NULL AND (expires_at IS NULL OR expires_at > $1)),
		count(*) FILTER (WHERE is_completed),
		count(*) FILTER (WHERE NOT is_completed AND expires_at <= $1),
		count(*) FILTER (WHERE NOT is_completed AND is_queued AND (expires_at IS NULL OR expires_at > $1)),
		count(*) FILTER (WHERE is_completed AND completed_at >= $2),
		count(*) FILTER (WHERE NOT is_completed AND NOT is_queued AND (expires_at IS NULL OR expires_at > $1)),
		count(*) FILTER (WHERE is_completed AND completed_at >= $3)
		FROM dashboard.tasks`, now, day, now.Add(-time.Hour)).
		Scan(&st.Total, &st.Open, &st.Accepted, &st.Completed, &st.Expired, &st.Queued, &st.CompletedToday,
			&st.TasksActive, &st.TasksCompletedLastHour)
	if err != nil {
		return st, fmt.Errorf("task stats: %w", err)
	}
	st.TasksCreated, st.TasksCompleted, st.TasksQueued = st.Total, st.Completed, st.Queued
	err = s.pool.QueryRow(ctx, `SELECT COALESCE(sum(amount) FILTER (WHERE status = 'paid'), 0) / 1000,
		count(*) FILTER (WHERE status = 'pending') FROM dashboard.task_payments`).Scan(&st.BountyPaid, &st.PaymentsPending)
	if err != nil {
		return st, fmt.Errorf("task stats: %w", err)
	}
	if err := s.countInto(ctx, st.ByReportStatus, `SELECT report_status, count(*) FROM dashboard.tasks WHERE is_completed AND report_status IS NOT NULL GROUP BY 1`); err != nil {
		return st, err
	}
	err = s.countInto(ctx, st.ByZoneActive, `SELECT COALESCE(zone, ''), count(*) FROM dashboard.tasks
		WHERE NOT is_completed AND (expires_at IS NULL OR expires_at > $1) GROUP BY 1`, now)
	return st, err
}

func (s *taskStore) countInto(ctx context.Context, m map[string]int, sql string, args ...any) error {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("task stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		m[k] = n
	}
	return rows.Err()
}

// auditLog lists audit entries: one task's oldest first, or everyone's newest first.
func (s *taskStore) auditLog(ctx context.Context, taskID int64, limit int) ([]backendapi.AuditEntry, error) {
	sql := `SELECT id, task_id, action, actor, note, at FROM dashboard.task_audit ORDER BY at DESC, id DESC LIMIT $1`
	args := []any{limit}
	if taskID > 0 {
		sql = `SELECT id, task_id, action, actor, note, at FROM dashboard.task_audit WHERE task_id = $2 ORDER BY at, id LIMIT $1`
		args = append(args, taskID)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	es, err := pgx.CollectRows(rows, pgx.RowToStructByPos[backendapi.AuditEntry])
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if es == nil {
		es = []backendapi.AuditEntry{}
	}
	return es, nil
}

func audit(ctx context.Context, tx pgx.Tx, id int64, action, actor, note string, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO dashboard.task_audit (task_id, action, actor, note, at) VALUES ($1,$2,$3,NULLIF($4,''),$5)`,
		id, action, actor, note, at)
	return err
}
