package backend

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/wallet"
	walletsvc "github.com/somsgo/soms/services/wallet"
)

// startWallet runs the real wallet service in-process on addr against a fresh
// database and returns once it is ready; the returned func stops it.
func startWallet(t *testing.T, addr string) func() {
	t.Helper()
	cfg := walletsvc.Config{
		Common: service.Common{Clock: "wall"}, DB: pg.Config{URL: testenv.Postgres(t)}, Addr: addr, ServiceToken: token,
		FeeBPS: 500, MinFee: 1, MinTransfer: 10_000, MinTransferSupplyBPS: 1,
		DemurrageBPS: 200, DemurrageExempt: 100_000, DemurrageInterval: 24 * time.Hour,
	}
	cfg.Common.Log.Level = "error"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- walletsvc.Run(ctx, cfg) }()
	waitFor(t, "the wallet to be ready", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("wallet: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func balance(t *testing.T, w *wallet.Client, userID int64) int64 {
	t.Helper()
	acc, err := w.Wallet(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return acc.Balance
}

func rewardEntries(t *testing.T, w *wallet.Client, userID int64) int {
	t.Helper()
	h, err := w.History(context.Background(), userID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(h.Entries)
}

// TestRewardCreditedOnce: accept → complete → the bounty reaches the
// assignee's wallet, and a retry after a lost answer does not pay again.
func TestRewardCreditedOnce(t *testing.T) {
	addr := freeAddr(t)
	startWallet(t, addr)
	w := wallet.NewClient("http://"+addr, token, nil)
	e := newEnvWith(t, envOpts{payer: newWalletPayer("http://"+addr, token)})
	ctx := context.Background()
	alice := e.person(t, "alice")
	aliceID := me(t, alice).ID
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "コーヒー豆を補充", Location: "kitchen", Bounty: ptr(2000)}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
	mustOK(t)(alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{ReportStatus: "resolved"}))
	if got := balance(t, w, aliceID); got != 2_000_000 {
		t.Fatalf("balance after completion = %d, want 2000000", got)
	}
	p, err := e.api.payments.get(ctx, task.ID)
	if err != nil || p.Status != "paid" || p.TransactionID == nil || p.Attempts != 1 {
		t.Fatalf("payment = %+v, %v", p, err)
	}
	// The wallet paid but its answer was lost: the row is pending again.
	if _, err := e.api.payments.pool.Exec(ctx, `UPDATE dashboard.task_payments SET status = 'pending', next_attempt_at = $1`, t0); err != nil {
		t.Fatal(err)
	}
	if n := e.api.payDue(ctx, 0); n != 1 {
		t.Fatalf("retry confirmed %d payments", n)
	}
	if got := balance(t, w, aliceID); got != 2_000_000 || rewardEntries(t, w, aliceID) != 1 {
		t.Fatalf("after a retried payment: balance %d, entries %d", got, rewardEntries(t, w, aliceID))
	}
	st, _ := e.anon.TaskStats(ctx)
	if st.BountyPaid != 2000 || st.PaymentsPending != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestConcurrentCompletionsPayOnce completes each task from many goroutines
// while payment loops run, and checks every task was paid exactly once.
func TestConcurrentCompletionsPayOnce(t *testing.T) {
	addr := freeAddr(t)
	startWallet(t, addr)
	w := wallet.NewClient("http://"+addr, token, nil)
	e := newEnvWith(t, envOpts{payer: newWalletPayer("http://"+addr, token)})
	ctx := context.Background()
	alice := e.person(t, "alice")
	aliceID := me(t, alice).ID
	bounties := []int{500, 1200, 3000, 5000}
	var ids []int64
	for i, b := range bounties {
		task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "task " + string(rune('A'+i)), Location: "x", Bounty: ptr(b)}))
		mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
		ids = append(ids, task.ID)
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		oks = map[int64]int{}
	)
	for _, id := range ids {
		for range 8 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				if _, err := alice.CompleteTask(ctx, id, backendapi.CompleteTask{}); err == nil {
					mu.Lock()
					oks[id]++
					mu.Unlock()
				}
			}()
			go func() { defer wg.Done(); e.api.payDue(ctx, 0) }()
		}
	}
	wg.Wait()
	e.clock.Advance(paymentLease) // anything still leased is due again
	e.api.payDue(ctx, 0)
	want := int64(0)
	for i, id := range ids {
		if oks[id] != 1 {
			t.Errorf("task %d completed %d times", id, oks[id])
		}
		want += int64(bounties[i]) * 1000
	}
	if got := balance(t, w, aliceID); got != want {
		t.Fatalf("balance %d, want %d", got, want)
	}
	if n := rewardEntries(t, w, aliceID); n != len(ids) {
		t.Fatalf("%d ledger entries, want %d", n, len(ids))
	}
}

// TestRewardPaidAfterWalletOutage: the wallet is down when the task is
// completed; the completion stands and the payment loop, driven by the clock,
// pays once the wallet is back.
func TestRewardPaidAfterWalletOutage(t *testing.T) {
	addr := freeAddr(t)
	e := newEnvWith(t, envOpts{payer: newWalletPayer("http://"+addr, token)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alice := e.person(t, "alice")
	aliceID := me(t, alice).ID
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x", Bounty: ptr(800)}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
	if done := mustOK(t)(alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{})); !done.IsCompleted {
		t.Fatal("completion lost")
	}
	if p, _ := e.api.payments.get(ctx, task.ID); p.Status != "pending" {
		t.Fatalf("payment with the wallet down = %+v", p)
	}
	evs, stop := e.api.Hub().Subscribe(16)
	defer stop()
	loop := make(chan error, 1)
	go func() { loop <- e.api.PaymentLoop(15 * time.Second)(ctx) }()
	if err := e.clock.BlockUntil(ctx, 1); err != nil { // the loop's ticker is armed
		t.Fatal(err)
	}
	startWallet(t, addr)
	e.clock.Advance(15 * time.Second)
	awaitEvent(t, evs, EventPaymentPaid)
	w := wallet.NewClient("http://"+addr, token, nil)
	if got := balance(t, w, aliceID); got != 800_000 {
		t.Fatalf("balance %d, want 800000", got)
	}
	p, _ := e.api.payments.get(ctx, task.ID)
	if p.Status != "paid" || p.Attempts != 2 {
		t.Fatalf("payment = %+v", p)
	}
	cancel()
	if err := <-loop; err != nil {
		t.Fatal(err)
	}
}
