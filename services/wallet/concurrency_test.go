package wallet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/somsgo/soms/internal/httpx"
	api "github.com/somsgo/soms/internal/wallet"
)

// TestConcurrentRewardsAndTransfers has 32 clients paying the same task
// rewards (each task by every client, in different orders) while they move
// money between people, reuse transfer idempotency keys and trigger
// demurrage. Each task must be paid exactly once, nobody may go negative,
// and the journal must balance to the last milli-unit.
func TestConcurrentRewardsAndTransfers(t *testing.T) {
	const (
		clients = 32
		people  = 8
		tasks   = 48
		keys    = 24
		moves   = 12 // transfers per client
	)
	e := newEnv(t)
	ctx := context.Background()
	taskUser := func(task int64) int64 { return task%people + 1 }
	taskAmount := func(task int64) int64 { return 20_000 + task*1_000 }
	for u := int64(1); u <= people; u++ {
		if _, err := e.svc.OpenWallet(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	// keyed transfer k always means the same transfer, whoever sends it.
	keyed := func(k int) api.Transfer {
		from := int64(k%people + 1)
		return api.Transfer{FromUserID: from, ToUserID: from%people + 1, Amount: 10_000 + int64(k)*500, IdempotencyKey: fmt.Sprintf("key-%d", k)}
	}

	var (
		mu        sync.Mutex
		created   = map[string]api.Transaction{} // every transaction some client saw written
		paidTasks = map[int64]int{}
		keyedOK   = map[string]int{}
		failures  []string
	)
	record := func(tx api.Transaction) {
		mu.Lock()
		defer mu.Unlock()
		if prev, seen := created[tx.ID]; seen && !tx.Duplicate && !prev.Duplicate {
			failures = append(failures, "transaction "+tx.ID+" reported written twice")
		}
		if !tx.Duplicate {
			created[tx.ID] = tx
		}
	}
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}

	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			order := rng.Perm(tasks)
			for i, ti := range order {
				task := int64(ti + 1)
				tx, err := e.svc.PayTaskReward(ctx, api.TaskReward{UserID: taskUser(task), TaskID: task, Amount: taskAmount(task), Description: "concurrent"})
				if err != nil {
					fail("reward task %d: %v", task, err)
					continue
				}
				if tx.ToUserID != taskUser(task) || tx.Amount != taskAmount(task) {
					fail("reward task %d answered %+v", task, tx)
				}
				record(tx)
				if !tx.Duplicate {
					mu.Lock()
					paidTasks[task]++
					mu.Unlock()
				}
				if i%(tasks/moves) != 0 {
					continue
				}
				// A transfer: keyed (shared with other clients) or fresh.
				var in api.Transfer
				if rng.IntN(2) == 0 {
					in = keyed(rng.IntN(keys))
				} else {
					from := int64(rng.IntN(people) + 1)
					to := (from+int64(rng.IntN(people-1)))%people + 1
					in = api.Transfer{FromUserID: from, ToUserID: to, Amount: 10_000 + int64(rng.IntN(30_000))}
				}
				tx, err = e.svc.Transfer(ctx, in)
				switch {
				case err == nil:
					record(tx)
					if in.IdempotencyKey != "" && !tx.Duplicate {
						mu.Lock()
						keyedOK[in.IdempotencyKey]++
						mu.Unlock()
					}
				case httpx.IsStatus(err, http.StatusConflict): // not enough money yet
				default:
					fail("transfer %+v: %v", in, err)
				}
				if i == tasks/2 && c%8 == 0 {
					if d, err := e.svc.TriggerDemurrage(ctx); err != nil {
						fail("demurrage: %v", err)
					} else if !d.Duplicate {
						mu.Lock()
						created[fmt.Sprint("demurrage-", d.Period)] = api.Transaction{Kind: api.KindDemurrage, Amount: d.Burned}
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}

	for task := int64(1); task <= tasks; task++ {
		if paidTasks[task] != 1 {
			t.Errorf("task %d paid %d times", task, paidTasks[task])
		}
	}
	for k, n := range keyedOK {
		if n != 1 {
			t.Errorf("keyed transfer %s written %d times", k, n)
		}
	}
	demurrageRuns := 0
	for id := range created {
		if len(id) > 10 && id[:10] == "demurrage-" {
			demurrageRuns++
		}
	}
	if demurrageRuns != 1 {
		t.Errorf("demurrage charged %d times in one period", demurrageRuns)
	}

	// The database agrees with what the clients were told.
	var n int64
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM wallet.transactions WHERE kind = 'task_reward'`).Scan(&n); err != nil || n != tasks {
		t.Errorf("task reward transactions in the journal = %d (%v), want %d", n, err, tasks)
	}
	var wantIssued int64
	for task := int64(1); task <= tasks; task++ {
		wantIssued += taskAmount(task)
	}
	s, err := e.svc.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalIssued != wantIssued || s.TotalIssued-s.TotalBurned != s.Circulating {
		t.Errorf("supply = %+v, want %d issued", s, wantIssued)
	}
	var p2p int64
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM wallet.transactions WHERE kind = 'p2p_transfer'`).Scan(&p2p); err != nil {
		t.Fatal(err)
	}
	written, burned := int64(0), int64(0)
	for _, tx := range created {
		switch tx.Kind {
		case api.KindTransfer:
			written++
			burned += tx.Fee
		case api.KindDemurrage:
			burned += tx.Amount
		}
	}
	if p2p != written || p2p == 0 {
		t.Errorf("transfers in the journal = %d, clients saw %d written", p2p, written)
	}
	if s.TotalBurned != burned {
		t.Errorf("burned %d, the written transfers' fees and the demurrage sum to %d", s.TotalBurned, burned)
	}
	c := e.consistent(t) // legs sum to zero, caches equal journal sums, total 0, no negatives
	if c.Accounts != people+2 {
		t.Errorf("accounts = %d", c.Accounts)
	}
	if w, _ := e.svc.Wallet(ctx, api.IssuerID); w.Balance != -wantIssued {
		t.Errorf("issuer balance = %d, want %d", w.Balance, -wantIssued)
	}
	t.Logf("%d rewards, %d transfers written, %d burned", tasks, p2p, s.TotalBurned)
}

// TestWritesDoNotShareASystemRow holds a transfer and a task reward open in
// database transactions (locks taken, not committed) and expects other
// transfers and rewards between other people to complete meanwhile: fees
// and rewards must not queue on one burn or issuer row. The open writes are
// plain SQL, so the test reads the same against any schema.
func TestWritesDoNotShareASystemRow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for u := int64(1); u <= 6; u++ {
		e.reward(t, u, u, 1_000_000)
	}
	hold := func(kind, ref string, amount, fee, from, to int64, legs ...[2]int64) pgx.Tx {
		t.Helper()
		tx, err := e.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		// The held writes touch disjoint people; only a shared system row
		// could make one wait for the other.
		var id string
		if err := tx.QueryRow(ctx, `INSERT INTO wallet.transactions (kind, reference_id, amount, fee, from_account, to_account, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING id::text`, kind, ref, amount, fee, from, to).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, lg := range legs {
			if _, err := tx.Exec(ctx, `INSERT INTO wallet.entries (transaction_id, account_id, amount, balance_after, created_at)
				VALUES ($1, $2, $3, 0, now())`, id, lg[0], lg[1]); err != nil {
				t.Fatal(err)
			}
		}
		return tx
	}
	transfer := hold(api.KindTransfer, "p2p:held", 20_000, 1_000, 1, 2, [2]int64{1, -20_000}, [2]int64{2, 19_000}, [2]int64{api.BurnID, 1_000})
	reward := hold(api.KindTaskReward, "task:1000", 5_000, 0, api.IssuerID, 3, [2]int64{3, 5_000}, [2]int64{api.IssuerID, -5_000})

	// Without the fix these wait for the held rows until the deadline.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tx, err := e.svc.Transfer(wctx, api.Transfer{FromUserID: 4, ToUserID: 5, Amount: 30_000})
	if err != nil {
		t.Fatalf("a transfer between other people while another one is open: %v", err)
	}
	if _, err := e.svc.PayTaskReward(wctx, api.TaskReward{UserID: 6, TaskID: 1001, Amount: 7_000}); err != nil {
		t.Fatalf("a reward to another person while another one is open: %v", err)
	}
	for _, held := range []pgx.Tx{transfer, reward} {
		if err := held.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := e.balance(t, api.BurnID), 1_000+tx.Fee; got != want {
		t.Errorf("burned %d, want %d", got, want)
	}
	if got, want := e.balance(t, api.IssuerID), int64(-6_000_000-5_000-7_000); got != want {
		t.Errorf("issued %d, want %d", -got, -want)
	}
	e.consistent(t)
}
