package wallet_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/apidoc/apidoctest"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/wallet"
	walletsvc "github.com/somsgo/soms/services/wallet"
	"github.com/somsgo/soms/services/wallet/migrations"
	"github.com/somsgo/soms/services/wallet/openapi"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const token = "client-test-token"

// server is the real wallet router over a fresh database.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	pool, err := pg.Open(ctx, testenv.Postgres(t), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pg.Migrate(ctx, pool, "wallet", migrations.FS, logging.Discard()); err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC))
	a := walletsvc.NewAPI(walletsvc.NewLedger(pool, c, walletsvc.DefaultRules()), logging.Discard(), token, prometheus.NewRegistry())
	r := chi.NewRouter()
	a.Routes(r)
	srv := httptest.NewServer(apidoctest.Handler(t, openapi.YAML, r))
	t.Cleanup(srv.Close)
	return srv
}

func TestClientRoundTrip(t *testing.T) {
	srv := server(t)
	ctx := context.Background()
	c := wallet.NewClient(srv.URL+"/", token, nil) // trailing slash tolerated

	w, err := c.OpenWallet(ctx, 2)
	if err != nil || w.UserID != 2 || w.Balance != 0 {
		t.Fatalf("OpenWallet = %+v, %v", w, err)
	}
	r := wallet.TaskReward{UserID: 1, TaskID: 42, Amount: 30 * wallet.MilliPerCredit, Description: "task #42: water the plants"}
	paid, err := c.PayTaskReward(ctx, r)
	if err != nil || paid.Duplicate || paid.ID == "" || paid.ReferenceID != "task:42" || paid.Description != r.Description {
		t.Fatalf("PayTaskReward = %+v, %v", paid, err)
	}
	again, err := c.PayTaskReward(ctx, r)
	if err != nil || !again.Duplicate || again.ID != paid.ID {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	tr, err := c.Transfer(ctx, wallet.Transfer{FromUserID: 1, ToUserID: 2, Amount: 10_000, IdempotencyKey: "gift-1"})
	if err != nil || tr.Fee != 500 || tr.Kind != wallet.KindTransfer {
		t.Fatalf("Transfer = %+v, %v", tr, err)
	}
	if w, err := c.Wallet(ctx, 2); err != nil || w.Balance != 9_500 {
		t.Fatalf("Wallet(2) = %+v, %v", w, err)
	}
	h, err := c.History(ctx, 1, 10, 0)
	if err != nil || len(h.Entries) != 2 || h.Entries[0].BalanceAfter != 20_000 || h.NextBefore != nil {
		t.Fatalf("History = %+v, %v", h, err)
	}
	got, err := c.Transaction(ctx, tr.ID)
	if err != nil || len(got.Entries) != 3 {
		t.Fatalf("Transaction = %+v, %v", got, err)
	}
	fee, err := c.TransferFee(ctx, 20_000)
	if err != nil || fee.FeeAmount != 1_000 || fee.NetAmount != 19_000 || fee.BelowMinimum {
		t.Fatalf("TransferFee = %+v, %v", fee, err)
	}
	s, err := c.Supply(ctx)
	if err != nil || s != (wallet.Supply{TotalIssued: 30_000, TotalBurned: 500, Circulating: 29_500, Wallets: 2}) {
		t.Fatalf("Supply = %+v, %v", s, err)
	}
	lb, err := c.Leaderboard(ctx, 5)
	if err != nil || len(lb) != 2 || lb[0].UserID != 1 {
		t.Fatalf("Leaderboard = %+v, %v", lb, err)
	}
	d, err := c.TriggerDemurrage(ctx)
	if err != nil || d.Charged != 0 {
		t.Fatalf("TriggerDemurrage = %+v, %v", d, err)
	}
	cons, err := c.Consistency(ctx)
	if err != nil || !cons.OK {
		t.Fatalf("Consistency = %+v, %v", cons, err)
	}
}

func TestClientErrors(t *testing.T) {
	srv := server(t)
	ctx := context.Background()
	c := wallet.NewClient(srv.URL, token, nil)
	tests := []struct {
		name      string
		call      func() error
		status    int
		permanent bool
		field     string
	}{
		{"unknown wallet", func() error { _, err := c.Wallet(ctx, 404); return err }, 404, true, ""},
		{"invalid reward", func() error {
			_, err := c.PayTaskReward(ctx, wallet.TaskReward{UserID: 1, TaskID: 1, Amount: -1})
			return err
		}, 422, true, "amount"},
		{"no token", func() error {
			_, err := wallet.NewClient(srv.URL, "", nil).PayTaskReward(ctx, wallet.TaskReward{UserID: 1, TaskID: 1, Amount: 1})
			return err
		}, 401, true, ""},
		{"insufficient", func() error {
			if _, err := c.OpenWallet(ctx, 1); err != nil {
				return err
			}
			if _, err := c.OpenWallet(ctx, 2); err != nil {
				return err
			}
			_, err := c.Transfer(ctx, wallet.Transfer{FromUserID: 1, ToUserID: 2, Amount: 10_000})
			return err
		}, 409, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ae *wallet.APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Message == "" {
				t.Fatalf("err = %#v, want APIError %d", err, tc.status)
			}
			if httpx.Permanent(err) != tc.permanent || !httpx.IsStatus(err, tc.status) {
				t.Fatalf("Permanent = %v", httpx.Permanent(err))
			}
			if tc.field != "" && ae.Fields[tc.field] == "" {
				t.Fatalf("fields = %v", ae.Fields)
			}
		})
	}
	// A wallet that is down is worth retrying.
	srv.Close()
	_, err := c.PayTaskReward(ctx, wallet.TaskReward{UserID: 1, TaskID: 9, Amount: 1})
	var ae *wallet.APIError
	if err == nil || errors.As(err, &ae) || httpx.Permanent(err) {
		t.Fatalf("unreachable wallet: %v", err)
	}
	// 5xx is not permanent either.
	boom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"database down"}`, http.StatusServiceUnavailable)
	}))
	defer boom.Close()
	_, err = wallet.NewClient(boom.URL, token, nil).Wallet(ctx, 1)
	if !httpx.IsStatus(err, 503) || httpx.Permanent(err) || err.Error() != "wallet: GET /wallets/1: HTTP 503: database down" {
		t.Fatalf("503: %v", err)
	}
}
