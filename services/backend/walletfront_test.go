package backend

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/somsgo/soms/internal/backendapi"
)

// People read their own wallet through the backend; nobody reads anyone
// else's, anonymous callers read none, and the wallet itself answers only
// the service token (the backend's, added when it forwards).
func TestWalletReadsNeedThePerson(t *testing.T) {
	addr := freeAddr(t)
	startWallet(t, addr)
	e := newEnvWith(t, envOpts{server: true, walletURL: "http://" + addr, payer: newWalletPayer("http://"+addr, token)})
	ctx := context.Background()
	root := e.admin(t, "root")
	alice, bob := e.person(t, "alice"), e.person(t, "bob")
	aliceID, bobID := itoa(me(t, alice).ID), itoa(me(t, bob).ID)
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "棚を拭く", Location: "x", Bounty: ptr(1500)}))
	mustOK(t)(alice.AcceptTask(ctx, task.ID, 0))
	mustOK(t)(alice.CompleteTask(ctx, task.ID, backendapi.CompleteTask{}))

	tests := []struct {
		name   string
		c      *backendapi.Client
		path   string
		status int
	}{
		{"anonymous balance", e.anon, "/wallet/wallets/" + aliceID, 401},
		{"anonymous history", e.anon, "/wallet/wallets/" + aliceID + "/history", 401},
		{"anonymous leaderboard", e.anon, "/wallet/wallets/leaderboard", 401},
		{"anonymous supply", e.anon, "/wallet/admin/supply", 401},
		{"someone else's balance", bob, "/wallet/wallets/" + aliceID, 403},
		{"someone else's history", bob, "/wallet/wallets/" + aliceID + "/history", 403},
		{"the issuer's balance as a person", bob, "/wallet/wallets/0", 403},
		{"supply as a person", alice, "/wallet/admin/supply", 403},
		{"consistency as a person", alice, "/wallet/admin/consistency", 403},
		{"a transaction as a person", alice, "/wallet/transactions/00000000-0000-0000-0000-000000000000", 403},
		{"the wallet's metrics", root, "/wallet/metrics", 404},

		{"own balance", alice, "/wallet/wallets/" + aliceID, 200},
		{"own history", alice, "/wallet/wallets/" + aliceID + "/history?limit=5", 200},
		{"own empty wallet", bob, "/wallet/wallets/" + bobID, 404},
		{"leaderboard signed in", bob, "/wallet/wallets/leaderboard?limit=3", 200},
		{"fee preview anonymously", e.anon, "/wallet/transactions/transfer-fee?amount=10000", 200},
		{"anyone's balance as an administrator", root, "/wallet/wallets/" + aliceID, 200},
		{"supply as an administrator", root, "/wallet/admin/supply", 200},
		{"consistency as a service", e.svc, "/wallet/admin/consistency", 200},
		{"the wallet's validation", alice, "/wallet/wallets/" + aliceID + "/history?limit=0", 422},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]any
			var list []any
			var dst any = &out
			if tc.path == "/wallet/wallets/leaderboard?limit=3" {
				dst = &list
			}
			if got := send(t, e, tc.c, http.MethodGet, tc.path, nil, dst); got != tc.status {
				t.Fatalf("%d, want %d", got, tc.status)
			}
		})
	}
	// Writes are not forwarded: they stay between services.
	for _, path := range []string{"/wallet/transactions/task-reward", "/wallet/transactions/p2p-transfer", "/wallet/wallets/"} {
		if got := send(t, e, root, http.MethodPost, path, map[string]any{"user_id": 1, "amount": 1, "task_id": 1}, nil); got != http.StatusMethodNotAllowed && got != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404 or 405", path, got)
		}
	}
	var w struct {
		UserID  int64 `json:"user_id"`
		Balance int64 `json:"balance"`
	}
	if send(t, e, alice, http.MethodGet, "/wallet/wallets/"+aliceID, nil, &w) != 200 || itoa(w.UserID) != aliceID || w.Balance != 1_500_000 {
		t.Fatalf("alice's wallet through the backend = %+v", w)
	}
}

// Without a wallet the forwarded reads say so.
func TestWalletReadsWithoutWallet(t *testing.T) {
	e := newEnv(t)
	alice := e.person(t, "alice")
	if got := send(t, e, alice, http.MethodGet, "/wallet/wallets/"+itoa(me(t, alice).ID), nil, nil); got != http.StatusServiceUnavailable {
		t.Fatalf("%d, want 503", got)
	}
}

// The audit trail (who did what when) is for administrators and services.
func TestAuditNeedsAnAdministrator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.person(t, "alice")
	root := e.admin(t, "root")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "audit", Location: "x"}))
	for _, path := range []string{"/tasks/audit", "/tasks/" + itoa(task.ID) + "/audit"} {
		for _, tc := range []struct {
			c      *backendapi.Client
			status int
		}{{e.anon, 401}, {alice, 403}, {root, 200}, {e.svc, 200}} {
			var es []json.RawMessage
			if got := send(t, e, tc.c, http.MethodGet, path, nil, &es); got != tc.status || (got == 200 && len(es) == 0) {
				t.Errorf("GET %s as %+v = %d (%d entries), want %d", path, tc.c.Bearer != "", got, len(es), tc.status)
			}
		}
	}
}
