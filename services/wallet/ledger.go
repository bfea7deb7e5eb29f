package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/clock"
	api "github.com/somsgo/soms/internal/wallet"
)

// Errors the HTTP layer maps to statuses.
var (
	ErrNotFound     = errors.New("not found")
	ErrInsufficient = errors.New("insufficient balance")
	// ErrConflict is an idempotency key reused for a different write.
	ErrConflict = errors.New("idempotency key already used for a different request")
)

// FieldErrors is a validation failure naming each bad field.
type FieldErrors map[string]string

func (f FieldErrors) Error() string { return fmt.Sprintf("invalid request: %v", map[string]string(f)) }

// Ledger is the double-entry journal. Each write is one database
// transaction that (1) claims its reference_id (unique), (2) locks the
// people's accounts in ascending id order, then system accounts, so
// concurrent writes never deadlock, and (3) appends balanced legs whose
// trigger moves the cached balances.
type Ledger struct {
	pool  *pgxpool.Pool
	clock clock.Clock
	rules Rules
}

// NewLedger returns a ledger over a migrated "wallet" schema.
func NewLedger(pool *pgxpool.Pool, c clock.Clock, r Rules) *Ledger {
	return &Ledger{pool: pool, clock: c, rules: r}
}

// Rules returns the ledger's economy parameters.
func (l *Ledger) Rules() Rules { return l.rules }

// leg is one entry to append; legs are appended in lock order.
type leg struct {
	account int64
	amount  int64
}

// lockOrder sorts legs: people ascending, then the issuer, then burn.
func lockOrder(legs []leg) {
	rank := func(id int64) (int, int64) {
		switch {
		case id > 0:
			return 0, id
		case id == api.IssuerID:
			return 1, 0
		default:
			return 2, 0
		}
	}
	slices.SortFunc(legs, func(a, b leg) int {
		ra, ia := rank(a.account)
		rb, ib := rank(b.account)
		if ra != rb {
			return ra - rb
		}
		switch {
		case ia < ib:
			return -1
		case ia > ib:
			return 1
		}
		return 0
	})
}

type txRow struct {
	kind, ref, desc string
	amount, fee     int64
	from, to        int64
	at              time.Time
}

// claim inserts the transaction row unless its reference_id exists. A
// concurrent writer of the same reference makes this wait for its commit (or
// rollback), so exactly one of them proceeds. It returns the new id, or ""
// when the reference was already used.
func claim(ctx context.Context, tx pgx.Tx, t txRow) (string, time.Time, error) {
	b := &pgx.Batch{}
	t.queueClaim(b)
	res := tx.SendBatch(ctx, b)
	defer res.Close()
	return readClaim(res)
}

// batcher is a transaction or a connection in a pipelined transaction.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// appendLegs writes the legs of transaction id in lock order in one round
// trip and returns them with their balance_after. With commit, COMMIT rides
// in the same batch, so the hot system accounts (issuer, burn) stay locked
// only while the server executes it.
func appendLegs(ctx context.Context, q batcher, id string, at time.Time, legs []leg, commit bool) ([]api.Entry, error) {
	lockOrder(legs)
	b := &pgx.Batch{}
	for _, lg := range legs {
		b.Queue(`INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
			VALUES ($1, $2, $3, 0, $4) RETURNING id, balance_after`, id, lg.account, lg.amount, at)
	}
	if commit {
		b.Queue("COMMIT")
	}
	res := q.SendBatch(ctx, b)
	defer res.Close()
	out := make([]api.Entry, 0, len(legs))
	for _, lg := range legs {
		e := api.Entry{TransactionID: id, UserID: lg.account, Amount: lg.amount, CreatedAt: at}
		if err := res.QueryRow().Scan(&e.ID, &e.BalanceAfter); err != nil {
			if isConstraint(err, "balance_non_negative") {
				return nil, fmt.Errorf("%w: account %d cannot pay %d", ErrInsufficient, lg.account, -lg.amount)
			}
			return nil, fmt.Errorf("append leg: %w", err)
		}
		out = append(out, e)
	}
	if commit {
		if _, err := res.Exec(); err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("append legs: %w", err)
	}
	return out, nil
}

// pipelined runs f on one connection for a transaction that f opens with
// BEGIN inside its first batch and closes with COMMIT inside its last: two
// round trips for a whole write. Whatever f leaves open is rolled back.
func (l *Ledger) pipelined(ctx context.Context, f func(*pgxpool.Conn) error) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database connection: %w", err)
	}
	defer func() {
		if conn.Conn().PgConn().TxStatus() != 'I' {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, _ = conn.Exec(rctx, "ROLLBACK") // if this fails the pool discards the connection
			cancel()
		}
		conn.Release()
	}()
	return f(conn)
}

const claimSQL = `INSERT INTO wallet.transactions (kind, reference_id, amount, fee, from_account, to_account, description, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (reference_id) DO NOTHING RETURNING id::text, created_at`

func (t txRow) queueClaim(b *pgx.Batch) {
	b.Queue(claimSQL, t.kind, t.ref, t.amount, t.fee, t.from, t.to, t.desc, t.at)
}

// readClaim reads a queued claim: the new id, or "" when the reference was
// already used.
func readClaim(res pgx.BatchResults) (string, time.Time, error) {
	var id string
	var at time.Time
	err := res.QueryRow().Scan(&id, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("record transaction: %w", err)
	}
	return id, at, nil
}

func isConstraint(err error, name string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.ConstraintName == name
}

// inTx runs f in a database transaction, committing when it returns nil.
func (l *Ledger) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// TaskReference is the idempotency key of a task's reward.
func TaskReference(taskID int64) string { return "task:" + strconv.FormatInt(taskID, 10) }

func validAmount(f FieldErrors, name string, v int64) {
	switch {
	case v <= 0:
		f[name] = "must be a positive integer (milli-units)"
	case v > MaxAmount:
		f[name] = fmt.Sprintf("must be at most %d", MaxAmount)
	}
}

// PayTaskReward issues r.Amount from the system wallet to r.UserID, once per
// task: a repeat with the same user and amount returns the first transaction
// with Duplicate set; a repeat that differs is ErrConflict. The person's
// wallet is opened if needed.
func (l *Ledger) PayTaskReward(ctx context.Context, r api.TaskReward) (api.Transaction, error) {
	f := FieldErrors{}
	if r.UserID <= 0 {
		f["user_id"] = "must be a person's user id (≥ 1)"
	}
	if r.TaskID <= 0 {
		f["task_id"] = "must be a positive task id"
	}
	validAmount(f, "amount", r.Amount)
	if len(r.Description) > 500 {
		f["description"] = "must be at most 500 bytes"
	}
	if len(f) > 0 {
		return api.Transaction{}, f
	}
	now := l.clock.Now()
	t := txRow{kind: api.KindTaskReward, ref: TaskReference(r.TaskID), desc: r.Description,
		amount: r.Amount, from: api.IssuerID, to: r.UserID, at: now}
	var out api.Transaction
	err := l.pipelined(ctx, func(conn *pgxpool.Conn) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(`INSERT INTO wallet.accounts (id, kind, created_at, updated_at) VALUES ($1, 'person', $2, $2)
			ON CONFLICT (id) DO NOTHING`, r.UserID, now)
		t.queueClaim(b)
		res := conn.SendBatch(ctx, b)
		defer res.Close()
		if _, err := res.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if _, err := res.Exec(); err != nil {
			return fmt.Errorf("open wallet: %w", err)
		}
		id, at, err := readClaim(res)
		if err != nil {
			return err
		}
		if err := res.Close(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if id == "" {
			return errDuplicate
		}
		legs, err := appendLegs(ctx, conn, id, at, []leg{{r.UserID, r.Amount}, {api.IssuerID, -r.Amount}}, true)
		if err != nil {
			return err
		}
		out = t.transaction(id, at, legs)
		return nil
	})
	if errors.Is(err, errDuplicate) {
		prev, err := l.byReference(ctx, t.ref)
		if err != nil {
			return api.Transaction{}, err
		}
		if prev.ToUserID != r.UserID || prev.Amount != r.Amount {
			return prev, fmt.Errorf("%w: task %d was already paid %d to user %d", ErrConflict, r.TaskID, prev.Amount, prev.ToUserID)
		}
		prev.Duplicate = true
		return prev, nil
	}
	return out, err
}

var errDuplicate = errors.New("duplicate reference")

func (t txRow) transaction(id string, at time.Time, legs []api.Entry) api.Transaction {
	for i := range legs {
		legs[i].Kind, legs[i].Description = t.kind, t.desc
	}
	return api.Transaction{ID: id, Kind: t.kind, Amount: t.amount, Fee: t.fee, FromUserID: t.from, ToUserID: t.to,
		ReferenceID: t.ref, Description: t.desc, CreatedAt: at, Entries: legs}
}

// Circulating is the sum of people's balances: issued minus burned.
func (l *Ledger) Circulating(ctx context.Context) (int64, error) {
	var c int64
	err := l.pool.QueryRow(ctx, `SELECT -coalesce(sum(balance), 0) FROM wallet.accounts WHERE id IN (0, -1)`).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("circulating supply: %w", err)
	}
	return c, nil
}

// FeePreview computes the fee and minimum of a transfer of amount now.
func (l *Ledger) FeePreview(ctx context.Context, amount int64) (api.FeePreview, error) {
	circ, err := l.Circulating(ctx)
	if err != nil {
		return api.FeePreview{}, err
	}
	fee := l.rules.Fee(amount)
	minT := l.rules.MinTransferFor(circ)
	return api.FeePreview{Amount: amount, FeeRate: float64(l.rules.FeeBPS) / bpsDenominator, FeeAmount: fee,
		NetAmount: amount - fee, MinTransfer: minT, BelowMinimum: amount < minT}, nil
}

// Transfer moves t.Amount from one person to another: the sender pays
// Amount, the recipient gets Amount − fee, the fee is burned. With an
// idempotency key a repeat returns the first transfer (Duplicate set).
func (l *Ledger) Transfer(ctx context.Context, in api.Transfer) (api.Transaction, error) {
	f := FieldErrors{}
	if in.FromUserID <= 0 {
		f["from_user_id"] = "must be a person's user id (≥ 1)"
	}
	if in.ToUserID <= 0 {
		f["to_user_id"] = "must be a person's user id (≥ 1)"
	}
	if in.FromUserID == in.ToUserID && in.FromUserID > 0 {
		f["to_user_id"] = "must differ from from_user_id"
	}
	validAmount(f, "amount", in.Amount)
	if len(in.Description) > 500 {
		f["description"] = "must be at most 500 bytes"
	}
	if len(in.IdempotencyKey) > 200 {
		f["idempotency_key"] = "must be at most 200 bytes"
	}
	if len(f) > 0 {
		return api.Transaction{}, f
	}
	fee := l.rules.Fee(in.Amount)
	now := l.clock.Now()
	t := txRow{kind: api.KindTransfer, desc: in.Description, amount: in.Amount, fee: fee,
		from: in.FromUserID, to: in.ToUserID, at: now}
	if in.IdempotencyKey != "" {
		t.ref = "p2p:" + in.IdempotencyKey
	} else {
		t.ref = "p2p:auto:" + randomKey()
	}
	var out api.Transaction
	err := l.pipelined(ctx, func(conn *pgxpool.Conn) error {
		// One round trip: lock both people (ascending id, the global lock
		// order), read the circulating supply for the minimum, and claim the
		// reference. A missing wallet makes the claim fail (foreign key);
		// the lock query tells which one it was.
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(`SELECT id, balance FROM wallet.accounts WHERE id = ANY($1) AND kind = 'person'
			ORDER BY id FOR UPDATE`, []int64{in.FromUserID, in.ToUserID})
		b.Queue(`SELECT -coalesce(sum(balance), 0) FROM wallet.accounts WHERE id IN (0, -1)`)
		t.queueClaim(b)
		res := conn.SendBatch(ctx, b)
		defer res.Close()
		if _, err := res.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		bal := map[int64]int64{}
		rows, err := res.Query()
		if err != nil {
			return fmt.Errorf("lock wallets: %w", err)
		}
		for rows.Next() {
			var id, b int64
			if err := rows.Scan(&id, &b); err != nil {
				rows.Close()
				return fmt.Errorf("lock wallets: %w", err)
			}
			bal[id] = b
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lock wallets: %w", err)
		}
		var circ int64
		if err := res.QueryRow().Scan(&circ); err != nil {
			return fmt.Errorf("circulating supply: %w", err)
		}
		for _, u := range []int64{in.FromUserID, in.ToUserID} {
			if _, ok := bal[u]; !ok {
				return fmt.Errorf("%w: no wallet for user %d", ErrNotFound, u)
			}
		}
		id, at, err := readClaim(res)
		if err != nil {
			return err
		}
		if err := res.Close(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if id == "" {
			return errDuplicate // a retry is answered even if the rules changed since
		}
		if m := l.rules.MinTransferFor(circ); in.Amount < m {
			return FieldErrors{"amount": fmt.Sprintf("below the minimum transfer of %d milli-units", m)}
		}
		if have := bal[in.FromUserID]; have < in.Amount {
			return fmt.Errorf("%w: user %d has %d milli-units, the transfer needs %d", ErrInsufficient, in.FromUserID, have, in.Amount)
		}
		legs, err := appendLegs(ctx, conn, id, at, []leg{
			{in.FromUserID, -in.Amount}, {in.ToUserID, in.Amount - fee}, {api.BurnID, fee}}, true)
		if err != nil {
			return err
		}
		out = t.transaction(id, at, legs)
		return nil
	})
	if errors.Is(err, errDuplicate) {
		prev, err := l.byReference(ctx, t.ref)
		if err != nil {
			return api.Transaction{}, err
		}
		if prev.Kind != api.KindTransfer || prev.FromUserID != in.FromUserID || prev.ToUserID != in.ToUserID || prev.Amount != in.Amount {
			return prev, fmt.Errorf("%w: key %q was used for a transfer of %d from %d to %d", ErrConflict,
				in.IdempotencyKey, prev.Amount, prev.FromUserID, prev.ToUserID)
		}
		prev.Duplicate = true
		return prev, nil
	}
	return out, err
}
