package wallet

import (
	"context"
	"errors"
	"fmt"
	"math"
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
// transaction that claims its reference_id (unique) and appends balanced
// legs in one statement; each leg's trigger moves its account's cached
// balance, locking people's rows in ascending id order and then one shard of
// a system account, so concurrent writes never deadlock and never share a
// hot row.
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
	// maxSupply, when not 0, writes only while the circulating supply is at
	// most this (the minimum transfer rule; Rules.MaxCirculatingFor's
	// limits are at least 1).
	maxSupply int64
}

// writeSQL claims a reference and appends its legs in one statement, if
// the circulating supply (issued minus burned: the negated sum of the system
// accounts' shards) is at most $11. The claim runs first (the legs read its
// id), so a concurrent writer of the same reference waits for the first
// one's commit before locking anything and then inserts nothing. The legs
// are inserted in the order given, the lock order.
const writeSQL = `WITH t AS (
	INSERT INTO wallet.transactions (kind, reference_id, amount, fee, from_account, to_account, description, created_at)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM wallet.system_shards HAVING -coalesce(sum(balance), 0) <= $11
	ON CONFLICT (reference_id) DO NOTHING
	RETURNING id, created_at)
INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
SELECT t.id, l.account, l.amount, 0, t.created_at
FROM t, unnest($9::bigint[], $10::bigint[]) WITH ORDINALITY AS l (account, amount, n)
ORDER BY l.n
RETURNING id, transaction_id::text, account_id, amount, balance_after, created_at`

// querier is the pool (one statement, its own transaction), a transaction
// or a connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// write claims t's reference and appends legs. It returns false (and no
// error) when the reference was already used or the circulating supply
// exceeded t.maxSupply. With q the pool, the statement is a whole database
// transaction: one round trip, and the balanced check runs at its end.
func write(ctx context.Context, q querier, t txRow, legs []leg) (api.Transaction, bool, error) {
	rows, err := q.Query(ctx, writeSQL, t.writeArgs(legs)...)
	return t.written(rows, err)
}

// writeArgs are writeSQL's parameters, the legs in lock order. Legs of zero
// (a fee of 0, or one that takes the whole amount) are left out.
func (t txRow) writeArgs(legs []leg) []any {
	limit := t.maxSupply
	if limit == 0 {
		limit = math.MaxInt64
	}
	lockOrder(legs)
	accounts, amounts := make([]int64, 0, len(legs)), make([]int64, 0, len(legs))
	for _, lg := range legs {
		if lg.amount != 0 {
			accounts, amounts = append(accounts, lg.account), append(amounts, lg.amount)
		}
	}
	return []any{t.kind, t.ref, t.amount, t.fee, t.from, t.to, t.desc, t.at, accounts, amounts, limit}
}

// written reads writeSQL's result: the transaction and true, or false when
// the reference was already used.
func (t txRow) written(rows pgx.Rows, err error) (api.Transaction, bool, error) {
	if err != nil {
		return api.Transaction{}, false, fmt.Errorf("write %s: %w", t.kind, err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (api.Entry, error) {
		e := api.Entry{Kind: t.kind, Description: t.desc}
		err := row.Scan(&e.ID, &e.TransactionID, &e.UserID, &e.Amount, &e.BalanceAfter, &e.CreatedAt)
		return e, err
	})
	switch {
	case isConstraint(err, "balance_non_negative"):
		return api.Transaction{}, false, fmt.Errorf("%w: a payer's balance would go below zero", ErrInsufficient)
	case isConstraint(err, "entry_account"), isConstraint(err, "transactions_from_account_fkey"),
		isConstraint(err, "transactions_to_account_fkey"):
		return api.Transaction{}, false, fmt.Errorf("%w: no wallet for a leg's account", ErrNotFound)
	case err != nil:
		return api.Transaction{}, false, fmt.Errorf("write %s: %w", t.kind, err)
	case len(entries) == 0:
		return api.Transaction{}, false, nil
	}
	id, at := entries[0].TransactionID, entries[0].CreatedAt
	return api.Transaction{ID: id, Kind: t.kind, Amount: t.amount, Fee: t.fee, FromUserID: t.from, ToUserID: t.to,
		ReferenceID: t.ref, Description: t.desc, CreatedAt: at, Entries: entries}, true, nil
}

// pipelined runs f on one connection for a transaction that f opens with
// BEGIN inside its first batch and commits. Whatever f leaves open is rolled
// back.
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
	// Two round trips: open the wallet and write, then commit only if the
	// task was not paid before (a refused repeat must not open a wallet).
	err := l.pipelined(ctx, func(conn *pgxpool.Conn) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(`INSERT INTO wallet.accounts (id, kind, created_at, updated_at) VALUES ($1, 'person', $2, $2)
			ON CONFLICT (id) DO NOTHING`, r.UserID, now)
		b.Queue(writeSQL, t.writeArgs([]leg{{r.UserID, r.Amount}, {api.IssuerID, -r.Amount}})...)
		res := conn.SendBatch(ctx, b)
		defer res.Close()
		if _, err := res.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if _, err := res.Exec(); err != nil {
			return fmt.Errorf("open wallet: %w", err)
		}
		tx, ok, err := t.written(res.Query())
		if err != nil {
			return err
		}
		if err := res.Close(); err != nil {
			return fmt.Errorf("task reward: %w", err)
		}
		if !ok {
			return errDuplicate
		}
		if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		out = tx
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

// Circulating is the sum of people's balances: issued minus burned, the
// negated sum of the system accounts' shards.
func (l *Ledger) Circulating(ctx context.Context) (int64, error) {
	var c int64
	err := l.pool.QueryRow(ctx, `SELECT -coalesce(sum(balance), 0) FROM wallet.system_shards`).Scan(&c)
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
	// The minimum scales with the circulating supply: the write statement
	// reads the supply and writes only while the amount is allowed.
	limit, ok := l.rules.MaxCirculatingFor(in.Amount)
	if !ok {
		return l.belowMinimum(ctx, in, t.ref)
	}
	t.maxSupply = limit
	out, ok, err := write(ctx, l.pool, t, []leg{{in.FromUserID, -in.Amount}, {in.ToUserID, in.Amount - fee}, {api.BurnID, fee}})
	switch {
	case errors.Is(err, ErrNotFound):
		return api.Transaction{}, l.missingWallet(ctx, in.FromUserID, in.ToUserID)
	case errors.Is(err, ErrInsufficient):
		if w, werr := l.Wallet(ctx, in.FromUserID); werr == nil {
			err = fmt.Errorf("%w: user %d has %d milli-units, the transfer needs %d", ErrInsufficient, in.FromUserID, w.Balance, in.Amount)
		}
		return api.Transaction{}, err
	case err != nil:
		return api.Transaction{}, err
	case ok:
		return out, nil
	}
	// Nothing written: the reference was used, or the amount was below the
	// minimum at the supply of the moment.
	return l.belowMinimum(ctx, in, t.ref)
}

// belowMinimum answers a transfer that was not written: the earlier
// transfer of its reference if there is one (a retry is answered even if
// the minimum rose since), else the minimum it is below.
func (l *Ledger) belowMinimum(ctx context.Context, in api.Transfer, ref string) (api.Transaction, error) {
	prev, err := l.byReference(ctx, ref)
	if err == nil {
		return l.transferAgain(in, prev)
	}
	if !errors.Is(err, ErrNotFound) {
		return api.Transaction{}, err
	}
	circ, err := l.Circulating(ctx)
	if err != nil {
		return api.Transaction{}, err
	}
	return api.Transaction{}, FieldErrors{"amount": fmt.Sprintf("below the minimum transfer of %d milli-units", l.rules.MinTransferFor(circ))}
}

// transferAgain answers a transfer whose reference was used: the earlier
// transfer if it is the same one, else ErrConflict.
func (l *Ledger) transferAgain(in api.Transfer, prev api.Transaction) (api.Transaction, error) {
	if prev.Kind != api.KindTransfer || prev.FromUserID != in.FromUserID || prev.ToUserID != in.ToUserID || prev.Amount != in.Amount {
		return prev, fmt.Errorf("%w: key %q was used for a transfer of %d from %d to %d", ErrConflict,
			in.IdempotencyKey, prev.Amount, prev.FromUserID, prev.ToUserID)
	}
	prev.Duplicate = true
	return prev, nil
}

// missingWallet names the first of users without a wallet, after a write
// found one missing.
func (l *Ledger) missingWallet(ctx context.Context, users ...int64) error {
	for _, u := range users {
		if _, err := l.Wallet(ctx, u); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: no wallet for one of users %v when the transfer was written", ErrNotFound, users)
}
