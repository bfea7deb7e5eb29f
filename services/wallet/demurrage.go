package wallet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	api "github.com/somsgo/soms/internal/wallet"
)

// Demurrage charges the demurrage period containing at, once: the
// period's row in demurrage_runs is the idempotency guard, and each charged
// wallet gets its own journal transaction (person → burn, reference
// "demurrage:<period>:<user>"), all in one database transaction. A repeat
// for the same period returns the first run with Duplicate set. Periods the
// service was not running for are not charged retroactively.
func (l *Ledger) Demurrage(ctx context.Context, at time.Time) (api.Demurrage, error) {
	period, start := l.rules.Period(at)
	d := api.Demurrage{Period: period, PeriodStart: start}
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO wallet.demurrage_runs (period, period_start, ran_at) VALUES ($1, $2, $3)
			ON CONFLICT (period) DO NOTHING`, period, start, at)
		if err != nil {
			return fmt.Errorf("demurrage run: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errDuplicate
		}
		// Lock every wallet to charge, ascending, before touching the burn
		// account's shard: the same order transfers use.
		rows, err := tx.Query(ctx, `SELECT id, balance FROM wallet.accounts WHERE kind = 'person' AND balance > $1
			ORDER BY id FOR UPDATE`, l.rules.DemurrageExempt)
		if err != nil {
			return fmt.Errorf("demurrage: lock wallets: %w", err)
		}
		type charge struct{ user, amount int64 }
		var charges []charge
		for rows.Next() {
			var id, bal int64
			if err := rows.Scan(&id, &bal); err != nil {
				rows.Close()
				return fmt.Errorf("demurrage: %w", err)
			}
			if c := l.rules.DemurrageCharge(bal); c > 0 {
				charges = append(charges, charge{id, c})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("demurrage: %w", err)
		}
		desc := fmt.Sprintf("demurrage %s: %d bp above %d", start.Format(time.RFC3339), l.rules.DemurrageBPS, l.rules.DemurrageExempt)
		for _, c := range charges {
			t := txRow{kind: api.KindDemurrage, ref: "demurrage:" + strconv.FormatInt(period, 10) + ":" + strconv.FormatInt(c.user, 10),
				desc: desc, amount: c.amount, from: c.user, to: api.BurnID, at: at}
			_, ok, err := write(ctx, tx, t, []leg{{c.user, -c.amount}, {api.BurnID, c.amount}})
			if err != nil {
				return err
			}
			if !ok {
				continue // cannot happen while the period row is ours; never charge twice
			}
			d.Charged++
			d.Burned += c.amount
		}
		if _, err := tx.Exec(ctx, `UPDATE wallet.demurrage_runs SET charged = $2, burned = $3 WHERE period = $1`,
			period, d.Charged, d.Burned); err != nil {
			return fmt.Errorf("demurrage run: %w", err)
		}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		d.Duplicate = true
		err = l.pool.QueryRow(ctx, `SELECT charged, burned FROM wallet.demurrage_runs WHERE period = $1`, period).Scan(&d.Charged, &d.Burned)
		if err != nil {
			return d, fmt.Errorf("demurrage run %d: %w", period, err)
		}
		return d, nil
	}
	return d, err
}

// DemurrageLoop charges each period as the clock enters it, checking every
// interval of clock time, until ctx is done. Failures are logged through
// report and retried at the next check.
func (l *Ledger) DemurrageLoop(interval time.Duration, report func(api.Demurrage, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		if interval <= 0 {
			return nil
		}
		t := l.clock.NewTicker(interval)
		defer t.Stop()
		last := int64(-1 << 63)
		for {
			now := l.clock.Now()
			if p, _ := l.rules.Period(now); p != last {
				d, err := l.Demurrage(ctx, now)
				if ctx.Err() != nil {
					return nil
				}
				report(d, err)
				if err == nil {
					last = p
				}
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C():
			}
		}
	}
}
