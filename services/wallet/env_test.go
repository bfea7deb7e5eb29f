package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/apidoc/apidoctest"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	api "github.com/somsgo/soms/internal/wallet"
	"github.com/somsgo/soms/services/wallet/migrations"
	"github.com/somsgo/soms/services/wallet/openapi"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const token = "test-service-token"

// t0 is 10:00 UTC, inside demurrage period 20000 of 24 h.
var t0 = time.Date(2024, 10, 4, 10, 0, 0, 0, time.UTC)

type env struct {
	pool   *pgxpool.Pool
	clock  *clock.Sim
	ledger *Ledger
	api    *API
	reg    *prometheus.Registry
	srv    *httptest.Server
	svc    *api.Client // with the service token
	anon   *api.Client // without
}

// newEnv is a migrated fresh database behind the real router.
func newEnv(t testing.TB) *env { return newEnvRules(t, DefaultRules()) }

func newEnvRules(t testing.TB, r Rules) *env { return newEnvPool(t, r, 16) }

// newEnvPool is newEnvRules with a pool of conns connections (0: the
// service's default, pgx's max(4, CPUs)).
func newEnvPool(t testing.TB, r Rules, conns int) *env {
	t.Helper()
	ctx := context.Background()
	url := testenv.Postgres(t)
	if conns > 0 {
		url += "&pool_max_conns=" + strconv.Itoa(conns)
	}
	pool, err := pg.Open(ctx, url, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pg.Migrate(ctx, pool, "wallet", migrations.FS, logging.Discard()); err != nil {
		t.Fatal(err)
	}
	return serve(t, pool, r)
}

// serve puts the ledger over pool (a migrated database) behind the real router.
func serve(t testing.TB, pool *pgxpool.Pool, r Rules) *env {
	t.Helper()
	e := &env{pool: pool, clock: clock.NewManual(t0), reg: prometheus.NewRegistry()}
	e.ledger = NewLedger(pool, e.clock, r)
	e.api = NewAPI(e.ledger, logging.Discard(), token, e.reg)
	router := chi.NewRouter()
	e.api.Routes(router)
	var h http.Handler = router
	if _, bench := t.(*testing.B); !bench { // benchmarks measure the service, not the validator
		h = apidoctest.Handler(t, openapi.YAML, router)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	e.svc = api.NewClient(e.srv.URL, token, hc)
	e.anon = api.NewClient(e.srv.URL, "", hc)
	return e
}

// reward pays a task reward or fails the test.
func (e *env) reward(t testing.TB, user, task, amount int64) api.Transaction {
	t.Helper()
	tx, err := e.svc.PayTaskReward(context.Background(), api.TaskReward{UserID: user, TaskID: task, Amount: amount, Description: "test"})
	if err != nil {
		t.Fatalf("reward user %d task %d: %v", user, task, err)
	}
	return tx
}

func (e *env) balance(t testing.TB, user int64) int64 {
	t.Helper()
	w, err := e.svc.Wallet(context.Background(), user)
	if err != nil {
		t.Fatalf("wallet %d: %v", user, err)
	}
	return w.Balance
}

// consistent fails the test unless the ledger passes its self-check.
func (e *env) consistent(t testing.TB) api.Consistency {
	t.Helper()
	c, err := e.ledger.Consistency(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK {
		b, _ := json.Marshal(c)
		t.Fatalf("ledger inconsistent: %s", b)
	}
	return c
}

// do sends a raw request and returns the status and decoded JSON body.
func (e *env) do(t testing.TB, method, path, tok, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set(api.ServiceTokenHeader, tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errorAs(err error, target **api.APIError) bool { return errors.As(err, target) }
