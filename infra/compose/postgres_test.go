package compose_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/services/backend/migrations"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestPostgresInitScript runs infra/postgres/init/10-soms-roles.sh against a
// real PostgreSQL the way the postgres image does (psql as the superuser),
// twice, then checks the per-service roles: the backend migrates its schema
// as soms_backend and cannot write another service's schema or public.
func TestPostgresInitScript(t *testing.T) {
	root := repoRoot(t)
	super, err := url.Parse(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(super.Path, "/")
	pass, _ := super.User.Password()
	script := filepath.Join(root, "infra", "postgres", "init", "10-soms-roles.sh")
	passwords := map[string]string{"backend": "pw-backend-1", "wallet": "pw-wallet-1", "brain": "pw-brain-1"}
	for range 2 { // first start, then Reset/restore running it again
		cmd := exec.Command("sh", script)
		cmd.Env = append(os.Environ(),
			"PGHOST="+super.Hostname(), "PGPORT="+super.Port(), "PGPASSWORD="+pass,
			"POSTGRES_USER="+super.User.Username(), "POSTGRES_DB="+db,
			"SOMS_DB_BACKEND_PASSWORD="+passwords["backend"],
			"SOMS_DB_WALLET_PASSWORD="+passwords["wallet"],
			"SOMS_DB_BRAIN_PASSWORD="+passwords["brain"],
		)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("init script: %v\n%s", err, out)
		}
	}
	as := func(role string) string {
		u := *super
		u.User = url.UserPassword("soms_"+role, passwords[role])
		return u.String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	pool, err := pg.Open(ctx, as("backend"), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pg.Migrate(ctx, pool, "dashboard", migrations.FS, logging.Discard()); err != nil {
		t.Fatalf("backend migrations as soms_backend: %v", err)
	}
	for _, stmt := range []string{
		"CREATE TABLE wallet.stolen (id int)",
		"CREATE TABLE public.stray (id int)",
		"CREATE TABLE events.stray (id int)",
	} {
		if _, err := pool.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("soms_backend: %s: %v, want permission denied", stmt, err)
		}
	}

	conn, err := pgx.Connect(ctx, as("wallet"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS wallet; CREATE TABLE wallet.accounts (id int)"); err != nil {
		t.Errorf("soms_wallet in its own schema: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM dashboard.tasks"); err == nil {
		t.Error("soms_wallet reads the backend's tables")
	}

	wrong := *super
	wrong.User = url.UserPassword("soms_brain", "not-the-password")
	if c, err := pgx.Connect(ctx, wrong.String()); err == nil {
		c.Close(ctx)
		t.Error("soms_brain logs in with a wrong password")
	}
}
