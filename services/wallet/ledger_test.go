package wallet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	api "github.com/somsgo/soms/internal/wallet"
)

func TestDemurrage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Balances around the 100-credit exemption.
	balances := map[int64]int64{1: 100_000, 2: 100_049, 3: 100_050, 4: 200_000, 5: 5_000}
	for u, b := range balances {
		e.reward(t, u, u, b)
	}
	want := map[int64]int64{1: 100_000, 2: 100_049, 3: 100_049, 4: 198_000, 5: 5_000}

	status, body := e.do(t, "POST", "/admin/demurrage/trigger", token, "")
	if status != 201 || body["wallets_charged"] != 2.0 || body["total_burned"] != 2_001.0 || body["duplicate"] != false {
		t.Fatalf("trigger = %d %v", status, body)
	}
	// Same period again (later that day): nothing more.
	e.clock.Advance(13 * time.Hour)
	d, err := e.svc.TriggerDemurrage(ctx)
	if err != nil || !d.Duplicate || d.Charged != 2 || d.Burned != 2_001 || d.Period != 20000 {
		t.Fatalf("repeat in the same period = %+v, %v", d, err)
	}
	for u, w := range want {
		if b := e.balance(t, u); b != w {
			t.Errorf("balance of %d after demurrage = %d, want %d", u, b, w)
		}
	}
	h, err := e.svc.History(ctx, 4, 1, 0)
	if err != nil || h.Entries[0].Kind != api.KindDemurrage || h.Entries[0].Amount != -2_000 {
		t.Fatalf("history shows %+v, %v", h, err)
	}
	// The next day is a new period.
	e.clock.Advance(time.Hour) // 2024-10-05 00:00
	d, err = e.svc.TriggerDemurrage(ctx)
	if err != nil || d.Duplicate || d.Period != 20001 || d.Charged != 1 || d.Burned != 1_960 {
		t.Fatalf("next period = %+v, %v", d, err)
	}
	if s, _ := e.svc.Supply(ctx); s.TotalBurned != 2_001+1_960 {
		t.Fatalf("supply = %+v", s)
	}
	e.consistent(t)
}

func TestDemurrageLoop(t *testing.T) {
	e := newEnv(t)
	e.reward(t, 1, 1, 1_100_000) // 1000 credits above the exemption: 20 credits a day
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := make(chan api.Demurrage, 16)
	done := make(chan error, 1)
	go func() {
		done <- e.ledger.DemurrageLoop(time.Minute, func(d api.Demurrage, err error) {
			if err != nil {
				t.Error(err)
			}
			runs <- d
		})(ctx)
	}()
	next := func() api.Demurrage {
		select {
		case d := <-runs:
			return d
		case <-time.After(20 * time.Second):
			t.Fatal("no demurrage run")
			return api.Demurrage{}
		}
	}
	if d := next(); d.Charged != 1 || d.Burned != 20_000 {
		t.Fatalf("first run = %+v", d) // at start: the current period is charged
	}
	// Clock ticks inside the same period charge nothing; the next day does.
	if err := e.clock.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(14 * time.Hour)
	if d := next(); d.Period != 20001 || d.Charged != 1 || d.Burned != 19_600 {
		t.Fatalf("second day = %+v", d)
	}
	select {
	case d := <-runs:
		t.Fatalf("extra run %+v", d)
	default:
	}
	if b := e.balance(t, 1); b != 1_100_000-20_000-19_600 {
		t.Fatalf("balance = %d", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestJournalIsAppendOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tx := e.reward(t, 1, 1, 10_000)
	refused := []string{
		`UPDATE wallet.entries SET amount = amount * 2`,
		`DELETE FROM wallet.entries`,
		`UPDATE wallet.transactions SET amount = 1`,
		`DELETE FROM wallet.transactions`,
		`TRUNCATE wallet.entries CASCADE`,
		`UPDATE wallet.accounts SET balance = 1000000 WHERE id = 1`,
		`DELETE FROM wallet.accounts WHERE id = 1`,
		// A one-legged or unbalanced transaction fails at commit.
		`INSERT INTO wallet.transactions (kind, reference_id, amount, from_account, to_account, created_at)
			VALUES ('task_reward', 'task:999', 5, 0, 1, now())`,
		`WITH t AS (INSERT INTO wallet.transactions (kind, reference_id, amount, from_account, to_account, created_at)
			VALUES ('task_reward', 'task:998', 5, 0, 1, now()) RETURNING id)
		 INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
			SELECT id, a, m, 0, now() FROM t, (VALUES (1, 5), (0, -4)) v(a, m)`,
		// Legs are final: a balanced pair appended to a written transaction.
		`INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
			SELECT id, a, m, 0, now() FROM wallet.transactions, (VALUES (1, 5), (0, -5)) v(a, m) WHERE reference_id = 'task:1'`,
		// A leg on an account that does not exist.
		`WITH t AS (INSERT INTO wallet.transactions (kind, reference_id, amount, from_account, to_account, created_at)
			VALUES ('task_reward', 'task:997', 5, 0, 1, now()) RETURNING id)
		 INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
			SELECT id, a, m, 0, now() FROM t, (VALUES (1, 5), (0, -3), (-7, -2)) v(a, m)`,
		// Shards move only through legs.
		`UPDATE wallet.system_shards SET balance = balance + 1`,
		`DELETE FROM wallet.system_shards`,
		// A person cannot overdraw even bypassing the service.
		`WITH t AS (INSERT INTO wallet.transactions (kind, reference_id, amount, from_account, to_account, created_at)
			VALUES ('p2p_transfer', 'p2p:x', 20000, 1, 0, now()) RETURNING id)
		 INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
			SELECT id, a, m, 0, now() FROM t, (VALUES (1, -20000), (0, 20000)) v(a, m)`,
	}
	for _, q := range refused {
		if _, err := e.pool.Exec(ctx, q); err == nil {
			t.Errorf("accepted: %s", strings.Join(strings.Fields(q), " "))
		}
	}
	got, err := e.svc.Transaction(ctx, tx.ID)
	if err != nil || got.Amount != 10_000 || len(got.Entries) != 2 {
		t.Fatalf("transaction after tampering = %+v, %v", got, err)
	}
	e.consistent(t)
}

// TestConsistencyDetectsDrift breaks the cache behind the triggers' back (as
// a superuser with triggers off) and expects the check to say so.
func TestConsistencyDetectsDrift(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.reward(t, 1, 1, 10_000)
	e.reward(t, 2, 2, 10_000)
	e.consistent(t)
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE wallet.accounts SET balance = balance + 5 WHERE id = 2`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	status, body := e.do(t, "GET", "/admin/consistency", token, "")
	mm, _ := body["mismatches"].([]any)
	if status != 500 || body["ok"] != false || len(mm) != 1 || body["total"] != 5.0 {
		t.Fatalf("consistency after drift = %d %v", status, body)
	}
	if m := mm[0].(map[string]any); m["user_id"] != 2.0 || m["balance"] != 10_005.0 || m["journal_sum"] != 10_000.0 {
		t.Fatalf("mismatch = %v", m)
	}
}
