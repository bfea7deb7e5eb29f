package backend

import (
	"context"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
)

func TestPaymentBackoff(t *testing.T) {
	tests := []struct {
		attempts int
		want     time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {4, 80 * time.Second}, {7, 10 * time.Minute}, {50, 10 * time.Minute}}
	for _, tc := range tests {
		if got := paymentBackoff.Delay(tc.attempts); got != tc.want {
			t.Errorf("paymentBackoff.Delay(%d) = %v, want %v", tc.attempts, got, tc.want)
		}
	}
}

// TestPaymentRetriedByClock completes a task while the wallet cannot be
// reached: the completion stands, the reward stays pending, and the loop
// retries it on the clock's schedule with growing back-off.
func TestPaymentRetriedByClock(t *testing.T) {
	// Nothing listens on this address: a real HTTP failure.
	e := newEnvWith(t, envOpts{payer: newWalletPayer("http://"+freeAddr(t), token)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alice := e.person(t, "alice")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "t", Location: "x", Bounty: ptr(1500)}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
	done := mustOK(t)(alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{}))
	if !done.IsCompleted {
		t.Fatal("completion lost while the wallet is down")
	}
	p, err := e.api.payments.get(ctx, task.ID)
	if err != nil || p.Status != "pending" || p.Attempts != 1 || p.Amount != 1_500_000 || p.LastError == nil {
		t.Fatalf("after the first attempt: %+v, %v", p, err)
	}
	// Nothing is due before the back-off has passed.
	if n := e.api.payDue(ctx, 0); n != 0 {
		t.Fatalf("paid %d", n)
	}
	if p, _ = e.api.payments.get(ctx, task.ID); p.Attempts != 1 {
		t.Fatalf("retried before the back-off: %+v", p)
	}
	e.clock.Advance(10 * time.Second)
	e.api.payDue(ctx, 0)
	if p, _ = e.api.payments.get(ctx, task.ID); p.Attempts != 2 || p.Status != "pending" {
		t.Fatalf("after 10 s: %+v", p)
	}
}
