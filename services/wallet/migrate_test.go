package wallet

import (
	"context"
	"io/fs"
	"maps"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	api "github.com/somsgo/soms/internal/wallet"
	"github.com/somsgo/soms/services/wallet/migrations"
)

// TestMigrationFromSingleRowLedger writes a ledger the way the first schema
// and its code did (one cached balance row per system account), migrates
// it, and expects every balance, the supply and the journal to read the
// same, the ledger to pass its self-check and to keep working; the Down
// migration restores the single rows while no leg has left shard 0 and
// refuses afterwards.
func TestMigrationFromSingleRowLedger(t *testing.T) {
	ctx := context.Background()
	pool, err := pg.Open(ctx, testenv.Postgres(t), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	first, err := fs.ReadFile(migrations.FS, "00001_ledger.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Migrate(ctx, pool, "wallet", fstest.MapFS{"00001_ledger.sql": {Data: first}}, logging.Discard()); err != nil {
		t.Fatal(err)
	}

	// The old code's writes: claim, then the legs in lock order (people
	// ascending, issuer, burn), in one database transaction.
	at := t0.Add(-48 * time.Hour)
	old := func(kind, ref string, amount, fee, from, to int64, legs ...[2]int64) {
		t.Helper()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if kind == api.KindTaskReward {
				if _, err := tx.Exec(ctx, `INSERT INTO wallet.accounts (id, kind, created_at, updated_at) VALUES ($1, 'person', $2, $2)
					ON CONFLICT (id) DO NOTHING`, to, at); err != nil {
					return err
				}
			}
			var id string
			if err := tx.QueryRow(ctx, `INSERT INTO wallet.transactions (kind, reference_id, amount, fee, from_account, to_account, description, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, 'before the migration', $7) RETURNING id::text`, kind, ref, amount, fee, from, to, at).Scan(&id); err != nil {
				return err
			}
			for _, lg := range legs {
				if _, err := tx.Exec(ctx, `INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
					VALUES ($1, $2, $3, 0, $4)`, id, lg[0], lg[1], at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("old %s %s: %v", kind, ref, err)
		}
		at = at.Add(time.Minute)
	}
	old(api.KindTaskReward, "task:1", 500_000, 0, 0, 1, [2]int64{1, 500_000}, [2]int64{0, -500_000})
	old(api.KindTaskReward, "task:2", 300_000, 0, 0, 2, [2]int64{2, 300_000}, [2]int64{0, -300_000})
	old(api.KindTaskReward, "task:3", 50_000, 0, 0, 3, [2]int64{3, 50_000}, [2]int64{0, -50_000})
	old(api.KindTransfer, "p2p:a", 100_000, 5_000, 1, 2, [2]int64{1, -100_000}, [2]int64{2, 95_000}, [2]int64{-1, 5_000})
	old(api.KindTransfer, "p2p:b", 40_000, 2_000, 2, 3, [2]int64{2, -40_000}, [2]int64{3, 38_000}, [2]int64{-1, 2_000})
	old(api.KindDemurrage, "demurrage:19999:2", 1_000, 0, 2, -1, [2]int64{2, -1_000}, [2]int64{-1, 1_000})
	if _, err := pool.Exec(ctx, `INSERT INTO wallet.demurrage_runs (period, period_start, ran_at, charged, burned)
		VALUES (19999, $1, $1, 1, 1000)`, t0.Add(-34*time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := map[int64]int64{1: 400_000, 2: 354_000, 3: 88_000, api.IssuerID: -850_000, api.BurnID: 8_000}
	rowBalances := func() map[int64]int64 {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT id, balance FROM wallet.accounts`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		for rows.Next() {
			var id, b int64
			if err := rows.Scan(&id, &b); err != nil {
				t.Fatal(err)
			}
			got[id] = b
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := rowBalances(); !maps.Equal(got, want) {
		t.Fatalf("balances under the old schema = %v, want %v", got, want)
	}

	if err := pg.Migrate(ctx, pool, "wallet", migrations.FS, logging.Discard()); err != nil {
		t.Fatal(err)
	}
	e := serve(t, pool, DefaultRules())
	checkBalances := func(want map[int64]int64) {
		t.Helper()
		for id, b := range want {
			if got := e.balance(t, id); got != b {
				t.Errorf("balance of %d = %d, want %d", id, got, b)
			}
		}
	}
	checkBalances(want)
	if s, err := e.svc.Supply(ctx); err != nil || s != (api.Supply{TotalIssued: 850_000, TotalBurned: 8_000, Circulating: 842_000, Wallets: 3}) {
		t.Fatalf("supply after the migration = %+v, %v", s, err)
	}
	e.consistent(t)
	h, err := e.svc.History(ctx, api.BurnID, 10, 0)
	if err != nil || len(h.Entries) != 3 || h.Entries[0].BalanceAfter != 8_000 || h.Entries[2].BalanceAfter != 5_000 {
		t.Fatalf("burn history after the migration = %+v, %v", h, err)
	}

	// Back down while every leg is still in shard 0: the single rows again.
	down := func() error {
		p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), migrations.FS,
			goose.WithTableName("wallet.goose_db_version"), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.DownTo(ctx, 1)
		return err
	}
	if err := down(); err != nil {
		t.Fatalf("down to the single-row schema: %v", err)
	}
	if got := rowBalances(); !maps.Equal(got, want) {
		t.Fatalf("balances after migrating down = %v, want %v", got, want)
	}
	if err := pg.Migrate(ctx, pool, "wallet", migrations.FS, logging.Discard()); err != nil {
		t.Fatal(err)
	}

	// The migrated ledger keeps working: transfers (until a fee lands in a
	// shard other than 0), a reward to a new person, demurrage.
	var burned int64
	for i := 0; ; i++ {
		tx, err := e.svc.Transfer(ctx, api.Transfer{FromUserID: 1, ToUserID: 3, Amount: 20_000})
		if err != nil {
			t.Fatal(err)
		}
		burned += tx.Fee
		want[1] -= 20_000
		want[3] += 20_000 - tx.Fee
		if moved := otherShard(ctx, t, pool); moved || i == 32 {
			if !moved {
				t.Fatal("no fee left shard 0 in 32 transactions")
			}
			break
		}
	}
	e.reward(t, 4, 4, 70_000)
	want[4] = 70_000
	want[api.IssuerID] -= 70_000
	want[api.BurnID] += burned
	checkBalances(want)
	d, err := e.svc.TriggerDemurrage(ctx)
	if err != nil || d.Charged < 2 {
		t.Fatalf("demurrage after the migration = %+v, %v", d, err)
	}
	e.consistent(t)
	if s, err := e.svc.Supply(ctx); err != nil || s.TotalIssued != 920_000 || s.TotalBurned != 8_000+burned+d.Burned ||
		s.Circulating != s.TotalIssued-s.TotalBurned || s.Wallets != 4 {
		t.Fatalf("supply = %+v, %v", s, err)
	}
	if err := down(); err == nil {
		t.Fatal("migrating down accepted legs in other shards than 0")
	}
	e.consistent(t)
}

// otherShard reports whether some system leg lies in a shard other than 0.
func otherShard(ctx context.Context, t *testing.T, pool *pgxpool.Pool) bool {
	t.Helper()
	var moved bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM wallet.entries WHERE shard <> 0)`).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	return moved
}
