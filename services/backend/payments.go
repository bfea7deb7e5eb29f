package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/somsgo/soms/internal/backoff"
)

// RewardPayer pays a task's reward to a person through the wallet. It must be
// idempotent per task: paying the same task twice credits once. Errors wrapped
// with ErrPaymentRefused are permanent (the wallet rejected the request) and
// are not retried.
type RewardPayer interface {
	PayTaskReward(ctx context.Context, r Reward) (transactionID string, err error)
}

// Reward is one task reward, in milli-units.
type Reward struct {
	UserID, TaskID int64
	Amount         int64
	Description    string
}

// ErrPaymentRefused marks a payment the wallet will never accept as sent.
var ErrPaymentRefused = errors.New("payment refused by the wallet")

// MilliPerCredit converts a task bounty (credits) to wallet milli-units.
const MilliPerCredit = 1000

// Payment retry timing, in clock time.
const (
	paymentLease = 2 * time.Minute // an attempt in flight keeps others off the row this long
	paymentBatch = 50
)

// paymentBackoff spaces the attempts of one payment; the row counts them.
var paymentBackoff = backoff.Policy{Min: 10 * time.Second, Max: 10 * time.Minute}

type payment struct {
	TaskID, UserID, Amount int64
	Attempts               int
	Title                  string
}

// paymentStore is the outbox of task rewards (dashboard.task_payments). A row
// is written in the same transaction that completes the task, so a completion
// is never lost even when the wallet is down; the primary key on task_id means
// at most one payment per task; the wallet's idempotency per task makes a
// retried attempt harmless.
type paymentStore struct{ pool *pgxpool.Pool }

func (s *paymentStore) record(ctx context.Context, tx pgx.Tx, taskID, userID, amount int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO dashboard.task_payments (task_id, user_id, amount, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $4) ON CONFLICT (task_id) DO NOTHING`, taskID, userID, amount, now)
	return err
}

// claim leases due pending payments (all, or only taskID when non-zero) by
// moving their next attempt past the lease, so concurrent payers skip them.
func (s *paymentStore) claim(ctx context.Context, taskID int64, now time.Time, limit int) ([]payment, error) {
	rows, err := s.pool.Query(ctx, `UPDATE dashboard.task_payments p SET next_attempt_at = $2, attempts = attempts + 1
		FROM dashboard.tasks t
		WHERE t.id = p.task_id AND p.task_id IN (
			SELECT task_id FROM dashboard.task_payments
			WHERE status = 'pending' AND next_attempt_at <= $1 AND ($3 = 0 OR task_id = $3)
			ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING p.task_id, p.user_id, p.amount, p.attempts, t.title`, now, now.Add(paymentLease), taskID, limit)
	if err != nil {
		return nil, fmt.Errorf("claim payments: %w", err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[payment])
	if err != nil {
		return nil, fmt.Errorf("claim payments: %w", err)
	}
	return ps, nil
}

func (s *paymentStore) paid(ctx context.Context, taskID int64, txID string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE dashboard.task_payments SET status = 'paid', paid_at = $2, transaction_id = NULLIF($3, ''), last_error = NULL
		WHERE task_id = $1`, taskID, now, txID)
	return err
}

func (s *paymentStore) failed(ctx context.Context, taskID int64, cause error, permanent bool, next time.Time) error {
	status := "pending"
	if permanent {
		status = "failed"
	}
	_, err := s.pool.Exec(ctx, `UPDATE dashboard.task_payments SET status = $2, last_error = $3, next_attempt_at = $4
		WHERE task_id = $1 AND status = 'pending'`, taskID, status, cause.Error(), next)
	return err
}

func (s *paymentStore) pending(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM dashboard.task_payments WHERE status = 'pending'`).Scan(&n)
	return n, err
}

// countPending refreshes the pending-rewards gauge. A failed count removes
// the gauge's value and is counted: a scrape shows no number rather than a
// wrong one.
func (a *API) countPending(ctx context.Context) {
	n, err := a.payments.pending(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.metrics.paymentsPending.Forget()
			a.metrics.pendingErrors.Inc()
			a.log.WarnContext(ctx, "count pending task rewards", "err", err)
		}
		return
	}
	a.metrics.paymentsPending.Set(float64(n))
}

// PaymentStatus is the state of a task's reward.
type PaymentStatus struct {
	TaskID        int64      `json:"task_id"`
	UserID        int64      `json:"user_id"`
	Amount        int64      `json:"amount"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     *string    `json:"last_error"`
	TransactionID *string    `json:"transaction_id"`
	PaidAt        *time.Time `json:"paid_at"`
}

func (s *paymentStore) get(ctx context.Context, taskID int64) (PaymentStatus, error) {
	var p PaymentStatus
	err := s.pool.QueryRow(ctx, `SELECT task_id, user_id, amount, status, attempts, last_error, transaction_id, paid_at
		FROM dashboard.task_payments WHERE task_id = $1`, taskID).
		Scan(&p.TaskID, &p.UserID, &p.Amount, &p.Status, &p.Attempts, &p.LastError, &p.TransactionID, &p.PaidAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, errNotFound
	}
	return p, err
}

// payDue pays what is due now (only taskID when non-zero). It returns how
// many payments were confirmed.
func (a *API) payDue(ctx context.Context, taskID int64) int {
	if a.payer == nil {
		return 0
	}
	ps, err := a.payments.claim(ctx, taskID, a.clock.Now(), paymentBatch)
	if err != nil {
		a.log.ErrorContext(ctx, "claim payments", "err", err)
		return 0
	}
	done := 0
	for _, p := range ps {
		if a.payOne(ctx, p) {
			done++
		}
	}
	return done
}

func (a *API) payOne(ctx context.Context, p payment) bool {
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	txID, err := a.payer.PayTaskReward(callCtx, Reward{
		UserID: p.UserID, TaskID: p.TaskID, Amount: p.Amount,
		Description: fmt.Sprintf("task #%d: %s", p.TaskID, p.Title),
	})
	cancel()
	// Record the outcome even if ctx was cancelled meanwhile.
	dbCtx, dbCancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer dbCancel()
	now := a.clock.Now()
	if err == nil {
		if err := a.payments.paid(dbCtx, p.TaskID, txID, now); err != nil {
			// The wallet has paid; a retry will be answered idempotently.
			a.log.ErrorContext(ctx, "record payment", "task", p.TaskID, "err", err)
			return false
		}
		a.metrics.payments.WithLabelValues("paid").Inc()
		a.log.InfoContext(ctx, "task reward paid", "task", p.TaskID, "user", p.UserID, "amount_milli", p.Amount, "transaction", txID)
		a.hub.PublishPersonal(EventPaymentPaid, p.UserID,
			map[string]any{"task_id": p.TaskID, "user_id": p.UserID, "amount": p.Amount}, map[string]any{"task_id": p.TaskID})
		return true
	}
	permanent := errors.Is(err, ErrPaymentRefused)
	next := now.Add(paymentBackoff.Delay(p.Attempts))
	if ferr := a.payments.failed(dbCtx, p.TaskID, err, permanent, next); ferr != nil {
		a.log.ErrorContext(ctx, "record payment failure", "task", p.TaskID, "err", ferr)
	}
	if permanent {
		a.metrics.payments.WithLabelValues("failed").Inc()
		a.log.ErrorContext(ctx, "wallet refused task reward; not retrying", "task", p.TaskID, "user", p.UserID, "err", err)
	} else {
		a.metrics.payments.WithLabelValues("retry").Inc()
		a.log.WarnContext(ctx, "task reward not paid yet; will retry", "task", p.TaskID, "user", p.UserID, "attempt", p.Attempts, "next", next, "err", err)
	}
	return false
}

// PaymentLoop retries pending rewards every interval of clock time until ctx
// is done, and counts what is still pending for the metrics (also without a
// wallet, when every reward stays pending).
func (a *API) PaymentLoop(interval time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		t := a.clock.NewTicker(interval)
		defer t.Stop()
		for {
			a.payDue(ctx, 0)
			a.countPending(ctx)
			select {
			case <-ctx.Done():
				return nil
			case <-t.C():
			}
		}
	}
}
