package backend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/somsgo/soms/internal/apidoc/apidoctest"
	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/services/backend/migrations"
	"github.com/somsgo/soms/services/backend/openapi"
)

type env struct {
	dbURL string
	api   *API
	srv   *httptest.Server
	clock *clock.Sim
	svc   *backendapi.Client // with the service token
	anon  *backendapi.Client
	bus   *bus.Client
}

type envOpts struct {
	mqtt       bool
	payer      RewardPayer
	maxDevices int
	// server mounts the routes on the httpx server's router (its NUL and
	// probe middleware), as Run does, instead of a bare chi router.
	server bool
	// walletURL is the wallet people's reads (/wallet/...) are forwarded to.
	walletURL string
}

func newEnv(t testing.TB) *env { return newEnvWith(t, envOpts{}) }

func newEnvWith(t testing.TB, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	url := testenv.Postgres(t)
	pool, err := pg.Open(ctx, url, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pg.Migrate(ctx, pool, "dashboard", migrations.FS, logging.Discard()); err != nil {
		t.Fatal(err)
	}
	e := &env{dbURL: url, clock: clock.NewManual(t0)}
	if o.mqtt {
		e.bus = connectBus(t, mqttacl.UserBackend, "backend")
	}
	e.api = New(Deps{
		Pool: pool, Clock: e.clock, Log: logging.Discard(), ServiceToken: token, Region: "local",
		Bus: e.bus, Payer: o.payer, BcryptCost: bcrypt.MinCost, JWTSecret: []byte("test-secret-test-secret-test-secret"),
		MaxDevices: o.maxDevices, WalletURL: o.walletURL,
	})
	var r chi.Router = chi.NewRouter()
	if o.server {
		r = httpx.New("backend", logging.Discard(), prometheus.NewRegistry()).Router
	}
	e.api.Routes(r)
	var h http.Handler = r
	if _, bench := t.(*testing.B); !bench { // benchmarks measure the service, not the validator
		h = apidoctest.Handler(t, openapi.YAML, r)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.svc = backendapi.NewClient(e.srv.URL, token)
	e.anon = backendapi.NewClient(e.srv.URL, "")
	return e
}

func connectBus(t testing.TB, account, name string) *bus.Client {
	t.Helper()
	b := testenv.Broker(t)
	c := bus.New(b.Config(account), name, logging.Discard(), prometheus.NewRegistry())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// person registers username and returns a client signed in as them.
func (e *env) person(t testing.TB, username string) *backendapi.Client {
	t.Helper()
	tok, err := e.anon.Register(context.Background(), backendapi.Register{Username: username, Password: "password-" + username})
	if err != nil {
		t.Fatal(err)
	}
	return e.anon.WithBearer(tok.AccessToken)
}

// admin creates an administrator through the service token and signs in.
func (e *env) admin(t testing.TB, username string) *backendapi.Client {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, backendapi.Register{Username: username, Password: "password-" + username, Role: RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.anon.Login(ctx, username, "password-"+username)
	if err != nil {
		t.Fatal(err)
	}
	return e.anon.WithBearer(tok.AccessToken)
}

// uniq returns a name no other test on the shared broker uses.
func uniq(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}
