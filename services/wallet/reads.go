package wallet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	api "github.com/somsgo/soms/internal/wallet"
)

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Open creates the wallet of a person; created is false when it existed.
func (l *Ledger) Open(ctx context.Context, userID int64) (w api.Wallet, created bool, err error) {
	if userID <= 0 {
		return w, false, FieldErrors{"user_id": "must be a person's user id (≥ 1)"}
	}
	now := l.clock.Now()
	tag, err := l.pool.Exec(ctx, `INSERT INTO wallet.accounts (id, kind, created_at, updated_at) VALUES ($1, 'person', $2, $2)
		ON CONFLICT (id) DO NOTHING`, userID, now)
	if err != nil {
		return w, false, fmt.Errorf("open wallet: %w", err)
	}
	w, err = l.Wallet(ctx, userID)
	return w, tag.RowsAffected() == 1, err
}

// Wallet returns an account (people, or the issuer 0 and burn −1, whose
// balances are the sums of their shards).
func (l *Ledger) Wallet(ctx context.Context, userID int64) (api.Wallet, error) {
	var w api.Wallet
	err := l.pool.QueryRow(ctx, `SELECT id, balance, kind, created_at, updated_at FROM wallet.balances WHERE id = $1`, userID).
		Scan(&w.UserID, &w.Balance, &w.Kind, &w.CreatedAt, &w.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, fmt.Errorf("%w: no wallet for user %d", ErrNotFound, userID)
	}
	if err != nil {
		return w, fmt.Errorf("wallet %d: %w", userID, err)
	}
	return w, nil
}

// MaxPage bounds list sizes.
const MaxPage = 200

// History returns up to limit entries of userID with id < before (0: from
// the newest), newest first.
func (l *Ledger) History(ctx context.Context, userID int64, limit int, before int64) (api.History, error) {
	if _, err := l.Wallet(ctx, userID); err != nil {
		return api.History{}, err
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := l.pool.Query(ctx, `SELECT e.id, e.transaction_id::text, e.account_id, e.amount, e.balance_after, t.kind, t.description, e.created_at
		FROM wallet.entries e JOIN wallet.transactions t ON t.id = e.transaction_id
		WHERE e.account_id = $1 AND e.id < $2 ORDER BY e.id DESC LIMIT $3`, userID, before, limit+1)
	if err != nil {
		return api.History{}, fmt.Errorf("history: %w", err)
	}
	es, err := pgx.CollectRows(rows, pgx.RowToStructByPos[api.Entry])
	if err != nil {
		return api.History{}, fmt.Errorf("history: %w", err)
	}
	h := api.History{UserID: userID, Entries: nonNil(es)}
	if len(es) > limit {
		h.Entries = es[:limit]
		next := es[limit-1].ID
		h.NextBefore = &next
	}
	return h, nil
}

const txColumns = `id::text, kind, amount, fee, from_account, to_account, reference_id, description, created_at`

func scanTx(row pgx.Row) (api.Transaction, error) {
	var t api.Transaction
	err := row.Scan(&t.ID, &t.Kind, &t.Amount, &t.Fee, &t.FromUserID, &t.ToUserID, &t.ReferenceID, &t.Description, &t.CreatedAt)
	return t, err
}

func (l *Ledger) byReference(ctx context.Context, ref string) (api.Transaction, error) {
	t, err := scanTx(l.pool.QueryRow(ctx, `SELECT `+txColumns+` FROM wallet.transactions WHERE reference_id = $1`, ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%w: no transaction %s", ErrNotFound, ref)
	}
	if err != nil {
		return t, fmt.Errorf("transaction %s: %w", ref, err)
	}
	return l.withLegs(ctx, t)
}

// Transaction returns one transaction with its legs.
func (l *Ledger) Transaction(ctx context.Context, id string) (api.Transaction, error) {
	t, err := scanTx(l.pool.QueryRow(ctx, `SELECT `+txColumns+` FROM wallet.transactions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%w: no transaction %s", ErrNotFound, id)
	}
	if err != nil {
		return t, fmt.Errorf("transaction %s: %w", id, err)
	}
	return l.withLegs(ctx, t)
}

func (l *Ledger) withLegs(ctx context.Context, t api.Transaction) (api.Transaction, error) {
	rows, err := l.pool.Query(ctx, `SELECT id, transaction_id::text, account_id, amount, balance_after, $2::text, $3::text, created_at
		FROM wallet.entries WHERE transaction_id = $1 ORDER BY id`, t.ID, t.Kind, t.Description)
	if err != nil {
		return t, fmt.Errorf("legs of %s: %w", t.ID, err)
	}
	t.Entries, err = pgx.CollectRows(rows, pgx.RowToStructByPos[api.Entry])
	if err != nil {
		return t, fmt.Errorf("legs of %s: %w", t.ID, err)
	}
	return t, nil
}

// Supply returns issued, burned and circulating totals.
func (l *Ledger) Supply(ctx context.Context) (api.Supply, error) {
	var s api.Supply
	err := l.pool.QueryRow(ctx, `SELECT
			-coalesce(sum(balance) FILTER (WHERE kind = 'issuer'), 0),
			coalesce(sum(balance) FILTER (WHERE kind = 'burn'), 0),
			coalesce(sum(balance) FILTER (WHERE kind = 'person'), 0),
			count(*) FILTER (WHERE kind = 'person')
		FROM wallet.balances`).Scan(&s.TotalIssued, &s.TotalBurned, &s.Circulating, &s.Wallets)
	if err != nil {
		return s, fmt.Errorf("supply: %w", err)
	}
	return s, nil
}

// Leaderboard returns the limit richest people (ties by user id).
func (l *Ledger) Leaderboard(ctx context.Context, limit int) ([]api.LeaderboardEntry, error) {
	rows, err := l.pool.Query(ctx, `SELECT (row_number() OVER (ORDER BY balance DESC, id))::int, id, balance
		FROM wallet.accounts WHERE kind = 'person' ORDER BY balance DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[api.LeaderboardEntry])
	if err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	return nonNil(out), nil
}

// Consistency re-derives every balance from the journal and reports any
// account whose cached balance (a person's row, or a system account's
// shards) or latest balance_after disagrees, any break in a balance_after
// chain (per account and shard), any unbalanced transaction and any person
// below zero. It reads one snapshot (repeatable read).
func (l *Ledger) Consistency(ctx context.Context) (api.Consistency, error) {
	c := api.Consistency{Mismatches: []api.Mismatch{}, Unbalanced: []string{}, Negative: []int64{}}
	tx, err := l.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(balance), 0) FROM wallet.balances`).Scan(&c.Accounts, &c.Total); err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	// cached: one row per (account, shard) — people have shard 0 only,
	// and system accounts' own rows must hold 0.
	rows, err := tx.Query(ctx, `
		WITH chain AS (
			SELECT account_id, shard, id, balance_after,
				balance_after - amount - coalesce(lag(balance_after) OVER w, 0) AS gap,
				sum(amount) OVER w AS running
			FROM wallet.entries WINDOW w AS (PARTITION BY account_id, shard ORDER BY id)
		), journal AS (
			SELECT DISTINCT ON (account_id, shard) account_id, shard, balance_after AS latest, running AS total,
				bool_or(gap <> 0) OVER (PARTITION BY account_id, shard) AS broken
			FROM chain ORDER BY account_id, shard, id DESC
		), cached AS (
			SELECT id AS account_id, 0::smallint AS shard, balance FROM wallet.accounts WHERE kind = 'person'
			UNION ALL SELECT id, -1::smallint, balance FROM wallet.accounts WHERE kind <> 'person' AND balance <> 0
			UNION ALL SELECT account_id, shard, balance FROM wallet.system_shards
		), per AS (
			SELECT account_id, coalesce(c.balance, 0) AS balance, coalesce(j.total, 0) AS total,
				coalesce(j.latest, 0) AS latest, coalesce(j.broken, false) AS broken
			FROM cached c FULL JOIN journal j USING (account_id, shard)
		)
		SELECT account_id, sum(balance)::bigint, sum(total)::bigint, sum(latest)::bigint
		FROM per GROUP BY account_id
		HAVING bool_or(balance <> total OR balance <> latest OR broken)
		ORDER BY account_id`)
	if err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	c.Mismatches, err = pgx.CollectRows(rows, pgx.RowToStructByPos[api.Mismatch])
	if err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT t.id::text FROM wallet.transactions t LEFT JOIN wallet.entries e ON e.transaction_id = t.id
		GROUP BY t.id HAVING count(e.id) < 2 OR coalesce(sum(e.amount), 0) <> 0 ORDER BY t.id`)
	if err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	c.Unbalanced, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT id FROM wallet.balances WHERE kind <> 'issuer' AND balance < 0 ORDER BY id`)
	if err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	c.Negative, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return c, fmt.Errorf("consistency: %w", err)
	}
	c.Mismatches, c.Unbalanced, c.Negative = nonNil(c.Mismatches), nonNil(c.Unbalanced), nonNil(c.Negative)
	c.OK = c.Total == 0 && len(c.Mismatches) == 0 && len(c.Unbalanced) == 0 && len(c.Negative) == 0
	return c, nil
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
