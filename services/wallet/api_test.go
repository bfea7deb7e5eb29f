package wallet

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/somsgo/soms/internal/httpx"
	api "github.com/somsgo/soms/internal/wallet"
)

func TestTaskReward(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.reward(t, 7, 100, 50_000)
	if first.Duplicate || first.Kind != api.KindTaskReward || first.FromUserID != 0 || first.ToUserID != 7 ||
		first.ReferenceID != "task:100" || len(first.Entries) != 2 || !first.CreatedAt.Equal(t0) {
		t.Fatalf("first payment = %+v", first)
	}
	again := e.reward(t, 7, 100, 50_000)
	if !again.Duplicate || again.ID != first.ID {
		t.Fatalf("repeat = %+v, want the first transaction marked duplicate", again)
	}
	if b := e.balance(t, 7); b != 50_000 {
		t.Fatalf("balance after a repeated reward = %d, want 50000", b)
	}
	if b := e.balance(t, api.IssuerID); b != -50_000 {
		t.Fatalf("issuer = %d", b)
	}
	// Same task, different user or amount: refused, nothing paid.
	for _, r := range []api.TaskReward{{UserID: 8, TaskID: 100, Amount: 50_000}, {UserID: 7, TaskID: 100, Amount: 60_000}} {
		_, err := e.svc.PayTaskReward(ctx, r)
		if !httpx.IsStatus(err, http.StatusConflict) || !httpx.Permanent(err) {
			t.Fatalf("conflicting repeat %+v: err = %v, want 409", r, err)
		}
	}
	if _, err := e.svc.Wallet(ctx, 8); !httpx.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("the refused reward opened a wallet for user 8: %v", err)
	}
	got, err := e.svc.Transaction(ctx, first.ID)
	if err != nil || got.ID != first.ID || len(got.Entries) != 2 || got.Entries[0].Amount+got.Entries[1].Amount != 0 {
		t.Fatalf("GET transaction = %+v, %v", got, err)
	}
	e.consistent(t)
}

func TestTaskRewardValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"zero amount", `{"user_id":1,"task_id":1,"amount":0}`, 422, "amount"},
		{"negative amount", `{"user_id":1,"task_id":1,"amount":-5}`, 422, "amount"},
		{"huge amount", fmt.Sprintf(`{"user_id":1,"task_id":1,"amount":%d}`, MaxAmount+1), 422, "amount"},
		{"system user", `{"user_id":0,"task_id":1,"amount":5}`, 422, "user_id"},
		{"negative user", `{"user_id":-1,"task_id":1,"amount":5}`, 422, "user_id"},
		{"no task", `{"user_id":1,"amount":5}`, 422, "task_id"},
		{"long description", `{"user_id":1,"task_id":1,"amount":5,"description":"` + strings.Repeat("x", 501) + `"}`, 422, "description"},
		{"fractional amount", `{"user_id":1,"task_id":1,"amount":1.5}`, 400, ""},
		{"not JSON", `{`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(t, "POST", "/transactions/task-reward", token, tc.body)
			if status != tc.status {
				t.Fatalf("status = %d (%v), want %d", status, body, tc.status)
			}
			if tc.field != "" {
				fields, _ := body["fields"].(map[string]any)
				if _, ok := fields[tc.field]; !ok {
					t.Fatalf("fields = %v, want %q named", body, tc.field)
				}
			}
		})
	}
	if s, _ := e.ledger.Supply(context.Background()); s.TotalIssued != 0 {
		t.Fatalf("invalid requests issued %d", s.TotalIssued)
	}
}

func TestWritesNeedServiceToken(t *testing.T) {
	e := newEnv(t)
	writes := []struct{ path, body string }{
		{"/wallets/", `{"user_id":1}`},
		{"/transactions/task-reward", `{"user_id":1,"task_id":1,"amount":5}`},
		{"/transactions/p2p-transfer", `{"from_user_id":1,"to_user_id":2,"amount":10000}`},
		{"/admin/demurrage/trigger", `{}`},
	}
	for _, w := range writes {
		for _, tok := range []string{"", "wrong"} {
			status, body := e.do(t, "POST", w.path, tok, w.body)
			if status != http.StatusUnauthorized || body["error"] == nil {
				t.Errorf("POST %s with token %q = %d %v, want 401", w.path, tok, status, body)
			}
		}
	}
	if _, err := e.anon.PayTaskReward(context.Background(), api.TaskReward{UserID: 1, TaskID: 1, Amount: 5}); !httpx.IsStatus(err, 401) {
		t.Fatalf("client without token: %v", err)
	}
	if c := e.consistent(t); c.Accounts != 2 {
		t.Fatalf("unauthorised writes created accounts: %+v", c)
	}
	// Reads that reveal a balance, a history, a transaction or the supply
	// need the token as well; with it they answer. Only the fee preview is
	// open.
	for _, p := range []string{"/wallets/0", "/wallets/0/history", "/wallets/leaderboard", "/admin/supply", "/admin/consistency",
		"/transactions/00000000-0000-0000-0000-000000000000"} {
		for _, tok := range []string{"", "wrong"} {
			if status, body := e.do(t, "GET", p, tok, ""); status != http.StatusUnauthorized || body["error"] == nil {
				t.Errorf("GET %s with token %q = %d %v, want 401", p, tok, status, body)
			}
		}
		if status, body := e.do(t, "GET", p, token, ""); status != 200 && status != 404 {
			t.Errorf("GET %s with the token = %d %v", p, status, body)
		}
	}
	if _, err := e.anon.Wallet(context.Background(), 0); !httpx.IsStatus(err, 401) {
		t.Fatalf("anonymous balance read: %v", err)
	}
	if status, body := e.do(t, "GET", "/transactions/transfer-fee?amount=10000", "", ""); status != 200 {
		t.Errorf("fee preview without token = %d %v", status, body)
	}
	if got := testutil.ToFloat64(e.api.metrics.failures.WithLabelValues(kindRead, "unauthorized")); got != 13 {
		t.Errorf("refused reads counted %v, want 13", got)
	}
}

func TestTransfer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.reward(t, 1, 1, 100_000) // user 1: 100 credits
	if _, err := e.svc.OpenWallet(ctx, 2); err != nil {
		t.Fatal(err)
	}
	e.reward(t, 3, 2, 10_000) // user 3: exactly the minimum
	// Circulating 110 credits: the minimum transfer is the 10-credit floor.
	tests := []struct {
		name     string
		in       api.Transfer
		status   int
		field    string
		from, to int64 // balances after
	}{
		{"ok", api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 20_000}, 201, "", 80_000, 19_000},
		{"odd fee rounds half up", api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 10_010}, 201, "", 69_990, 28_509},
		{"below minimum", api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 9_999}, 422, "amount", 69_990, 28_509},
		{"zero", api.Transfer{FromUserID: 1, ToUserID: 2}, 422, "amount", 69_990, 28_509},
		{"negative", api.Transfer{FromUserID: 1, ToUserID: 2, Amount: -10_000}, 422, "amount", 69_990, 28_509},
		{"self", api.Transfer{FromUserID: 1, ToUserID: 1, Amount: 10_000}, 422, "to_user_id", 69_990, 69_990},
		{"from system", api.Transfer{FromUserID: 0, ToUserID: 2, Amount: 10_000}, 422, "from_user_id", -110_000, 28_509},
		{"to burn", api.Transfer{FromUserID: 1, ToUserID: -1, Amount: 10_000}, 422, "to_user_id", 69_990, 1_501},
		{"unknown recipient", api.Transfer{FromUserID: 1, ToUserID: 99, Amount: 10_000}, 404, "", 69_990, -404},
		{"unknown sender", api.Transfer{FromUserID: 98, ToUserID: 1, Amount: 10_000}, 404, "", -404, 69_990},
		{"insufficient", api.Transfer{FromUserID: 2, ToUserID: 1, Amount: 28_510}, 409, "", 28_509, 69_990},
		{"whole balance at the minimum", api.Transfer{FromUserID: 3, ToUserID: 1, Amount: 10_000}, 201, "", 0, 79_490},
		{"empty wallet", api.Transfer{FromUserID: 3, ToUserID: 1, Amount: 10_000}, 409, "", 0, 79_490},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := e.svc.Transfer(ctx, tc.in)
			if tc.status == 201 {
				if err != nil {
					t.Fatal(err)
				}
				fee := DefaultRules().Fee(tc.in.Amount)
				if tx.Fee != fee || tx.Amount != tc.in.Amount || len(tx.Entries) != 3 {
					t.Fatalf("transaction = %+v", tx)
				}
			} else {
				var ae *api.APIError
				if !errorAs(err, &ae) || ae.Status != tc.status {
					t.Fatalf("err = %v, want HTTP %d", err, tc.status)
				}
				if tc.field != "" && ae.Fields[tc.field] == "" {
					t.Fatalf("fields = %v, want %q", ae.Fields, tc.field)
				}
			}
			for _, c := range []struct{ user, want int64 }{{tc.in.FromUserID, tc.from}, {tc.in.ToUserID, tc.to}} {
				if c.want == -404 {
					if _, err := e.svc.Wallet(ctx, c.user); !httpx.IsStatus(err, 404) {
						t.Fatalf("wallet %d: %v, want 404", c.user, err)
					}
					continue
				}
				if b := e.balance(t, c.user); b != c.want {
					t.Fatalf("balance of %d = %d, want %d", c.user, b, c.want)
				}
			}
		})
	}
	s, err := e.svc.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantBurned := int64(1_000 + 501 + 500)
	if s.TotalIssued != 110_000 || s.TotalBurned != wantBurned || s.Circulating != 110_000-wantBurned || s.Wallets != 3 {
		t.Fatalf("supply = %+v", s)
	}
	e.consistent(t)
}

// TestTransferWithoutFee: with a zero fee rate the transfer has two legs
// and burns nothing (a zero leg would violate the journal's checks).
func TestTransferWithoutFee(t *testing.T) {
	r := DefaultRules()
	r.FeeBPS, r.MinFee = 0, 0
	e := newEnvRules(t, r)
	ctx := context.Background()
	e.reward(t, 1, 1, 50_000)
	if _, err := e.svc.OpenWallet(ctx, 2); err != nil {
		t.Fatal(err)
	}
	tx, err := e.svc.Transfer(ctx, api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 20_000})
	if err != nil || tx.Fee != 0 || len(tx.Entries) != 2 {
		t.Fatalf("transfer without a fee = %+v, %v", tx, err)
	}
	if b := e.balance(t, 2); b != 20_000 {
		t.Fatalf("recipient balance = %d", b)
	}
	if s, _ := e.svc.Supply(ctx); s.TotalBurned != 0 || s.Circulating != 50_000 {
		t.Fatalf("supply = %+v", s)
	}
	e.consistent(t)
}

func TestTransferIdempotency(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.reward(t, 1, 1, 100_000)
	e.reward(t, 2, 2, 1_000)
	in := api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 20_000, IdempotencyKey: "k-1"}
	first, err := e.svc.Transfer(ctx, in)
	if err != nil || first.Duplicate || first.ReferenceID != "p2p:k-1" {
		t.Fatalf("first = %+v, %v", first, err)
	}
	again, err := e.svc.Transfer(ctx, in) // the client sends the key as a header
	if err != nil || !again.Duplicate || again.ID != first.ID {
		t.Fatalf("repeat = %+v, %v", again, err)
	}
	// The key in the body only, then a header disagreeing with the body.
	status, body := e.do(t, "POST", "/transactions/p2p-transfer", token, `{"from_user_id":1,"to_user_id":2,"amount":20000,"idempotency_key":"k-1"}`)
	if status != 200 || body["duplicate"] != true {
		t.Fatalf("body key repeat = %d %v", status, body)
	}
	status, _ = e.do(t, "POST", "/transactions/p2p-transfer", token, `{"from_user_id":1,"to_user_id":2,"amount":20000,"idempotency_key":"a"}`, api.IdempotencyKeyHeader, "b")
	if status != 422 {
		t.Fatalf("header/body key mismatch = %d", status)
	}
	in.Amount = 30_000
	if _, err := e.svc.Transfer(ctx, in); !httpx.IsStatus(err, 409) {
		t.Fatalf("key reused for another amount: %v", err)
	}
	if b := e.balance(t, 1); b != 80_000 {
		t.Fatalf("sender balance = %d, want one transfer", b)
	}
	// Without a key every call is a new transfer.
	in.IdempotencyKey, in.Amount = "", 10_000
	for range 2 {
		if tx, err := e.svc.Transfer(ctx, in); err != nil || tx.Duplicate {
			t.Fatalf("keyless transfer = %+v, %v", tx, err)
		}
	}
	if b := e.balance(t, 1); b != 60_000 {
		t.Fatalf("sender balance = %d after two keyless transfers", b)
	}
	e.consistent(t)
}

func TestMinimumTransferScalesWithSupply(t *testing.T) {
	r := DefaultRules()
	r.MinTransferSupplyBPS = 100 // 1 % of circulating, to reach it with small numbers
	e := newEnvRules(t, r)
	ctx := context.Background()
	e.reward(t, 1, 1, 2_000_000) // 2000 credits: 1 % = 20 credits
	e.reward(t, 2, 2, 1)
	p, err := e.svc.TransferFee(ctx, 19_999)
	if err != nil {
		t.Fatal(err)
	}
	want := api.FeePreview{Amount: 19_999, FeeRate: 0.05, FeeAmount: 1_000, NetAmount: 18_999, MinTransfer: 20_001, BelowMinimum: true}
	if p != want {
		t.Fatalf("preview = %+v, want %+v", p, want)
	}
	if _, err := e.svc.Transfer(ctx, api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 20_000}); !httpx.IsStatus(err, 422) {
		t.Fatalf("transfer below the scaled minimum: %v", err)
	}
	keyed := api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 20_001, IdempotencyKey: "at-the-minimum"}
	first, err := e.svc.Transfer(ctx, keyed)
	if err != nil {
		t.Fatal(err)
	}
	// The supply grows, and with it the minimum; a retry of the transfer
	// written before is still answered with it.
	e.reward(t, 3, 3, 1_000_000)
	var ae *api.APIError
	if _, err := e.svc.Transfer(ctx, api.Transfer{FromUserID: 1, ToUserID: 2, Amount: 20_001}); !errorAs(err, &ae) || ae.Status != 422 {
		t.Fatalf("a new transfer below the risen minimum: %v", err)
	}
	again, err := e.svc.Transfer(ctx, keyed)
	if err != nil || !again.Duplicate || again.ID != first.ID {
		t.Fatalf("retry after the minimum rose = %+v, %v", again, err)
	}
	e.consistent(t)
}

func TestTransferFeePreview(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		query  string
		status int
		fee    float64
		below  bool
	}{
		{"?amount=10000", 200, 500, false},
		{"?amount=9999", 200, 500, true},
		{"?amount=1", 200, 1, true},
		{"?amount=0", 422, 0, false},
		{"?amount=-3", 422, 0, false},
		{"?amount=abc", 422, 0, false},
		{"", 422, 0, false},
	}
	for _, tc := range tests {
		status, body := e.do(t, "GET", "/transactions/transfer-fee"+tc.query, "", "")
		if status != tc.status {
			t.Errorf("%s: status %d %v", tc.query, status, body)
			continue
		}
		if status == 200 && (body["fee_amount"] != tc.fee || body["below_minimum"] != tc.below || body["fee_rate"] != 0.05 || body["min_transfer"] != 10_000.0) {
			t.Errorf("%s: %v", tc.query, body)
		}
	}
}

func TestWalletsHistoryLeaderboard(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w, err := e.svc.OpenWallet(ctx, 5)
	if err != nil || w.UserID != 5 || w.Balance != 0 || w.Kind != "person" {
		t.Fatalf("open = %+v, %v", w, err)
	}
	if status, _ := e.do(t, "POST", "/wallets/", token, `{"user_id":5}`); status != 200 {
		t.Fatalf("re-opening = %d, want 200", status)
	}
	if status, _ := e.do(t, "POST", "/wallets/", token, `{"user_id":0}`); status != 422 {
		t.Fatalf("opening the system wallet = %d, want 422", status)
	}
	for i := range int64(5) {
		e.reward(t, 5, 10+i, 1_000*(i+1))
	}
	e.reward(t, 6, 20, 20_000)
	h, err := e.svc.History(ctx, 5, 2, 0)
	if err != nil || len(h.Entries) != 2 || h.NextBefore == nil || h.Entries[0].Amount != 5_000 || h.Entries[0].BalanceAfter != 15_000 ||
		h.Entries[0].Kind != api.KindTaskReward || h.Entries[1].BalanceAfter != 10_000 {
		t.Fatalf("history page 1 = %+v, %v", h, err)
	}
	var all []api.Entry
	before := int64(0)
	for {
		p, err := e.svc.History(ctx, 5, 2, before)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Entries...)
		if p.NextBefore == nil {
			break
		}
		before = *p.NextBefore
	}
	if len(all) != 5 || all[4].BalanceAfter != 1_000 {
		t.Fatalf("paged history = %+v", all)
	}
	lb, err := e.svc.Leaderboard(ctx, 2)
	if err != nil || len(lb) != 2 || lb[0] != (api.LeaderboardEntry{Rank: 1, UserID: 6, Balance: 20_000}) || lb[1].UserID != 5 {
		t.Fatalf("leaderboard = %+v, %v", lb, err)
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/wallets/77", 404}, {"/wallets/77/history", 404}, {"/wallets/x", 422}, {"/wallets/5/history?limit=0", 422},
		{"/wallets/5/history?limit=201", 422}, {"/wallets/5/history?before=z", 422}, {"/wallets/leaderboard?limit=101", 422},
		{"/transactions/nope", 422}, {"/transactions/00000000-0000-0000-0000-000000000000", 404},
		{"/wallets/-1", 200}, {"/wallets/0", 200},
	} {
		if status, body := e.do(t, "GET", tc.path, token, ""); status != tc.status {
			t.Errorf("GET %s = %d %v, want %d", tc.path, status, body, tc.status)
		}
	}
}
