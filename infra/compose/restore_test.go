package compose_test

import (
	"bytes"
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

// TestDatabaseRestoreSequence replays the database half of backup.sh and
// restore.sh on a real PostgreSQL: pg_dump -Fc of a migrated database with
// data, DROP/CREATE of the database, the init script again (roles, empty
// schemas), pg_restore --clean --if-exists --exit-on-error. The data must come
// back, owned by the service role, which can go on writing. The commands are
// those of the scripts; keep them in step.
func TestDatabaseRestoreSequence(t *testing.T) {
	root := repoRoot(t)
	super, err := url.Parse(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(super.Path, "/")
	pass, _ := super.User.Password()
	pgEnv := append(os.Environ(),
		"PGHOST="+super.Hostname(), "PGPORT="+super.Port(), "PGPASSWORD="+pass, "PGUSER="+super.User.Username(),
		"POSTGRES_USER="+super.User.Username(), "POSTGRES_DB="+db,
		"SOMS_DB_BACKEND_PASSWORD=bk", "SOMS_DB_WALLET_PASSWORD=wl", "SOMS_DB_BRAIN_PASSWORD=br",
	)
	sh := func(stdin []byte, name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = pgEnv
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
		}
		return out
	}
	initScript := filepath.Join(root, "infra", "postgres", "init", "10-soms-roles.sh")
	sh(nil, "sh", initScript)

	backend := *super
	backend.User = url.UserPassword("soms_backend", "bk")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pg.Open(ctx, backend.String(), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Migrate(ctx, pool, "dashboard", migrations.FS, logging.Discard()); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "CREATE TABLE dashboard.restore_probe (v text); INSERT INTO dashboard.restore_probe VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	pool.Close()

	// backup.sh
	dump := sh(nil, "pg_dump", "-d", db, "-Fc")
	// restore.sh
	sh(nil, "psql", "-v", "ON_ERROR_STOP=1", "-d", "postgres",
		"-c", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)", "-c", "CREATE DATABASE "+db)
	sh(nil, "sh", initScript)
	sh(dump, "pg_restore", "-d", db, "--clean", "--if-exists", "--exit-on-error")

	conn, err := pgx.Connect(ctx, backend.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v, owner string
	if err := conn.QueryRow(ctx, "SELECT v FROM dashboard.restore_probe").Scan(&v); err != nil || v != "kept" {
		t.Fatalf("restored row %q, %v", v, err)
	}
	if err := conn.QueryRow(ctx, "SELECT tableowner FROM pg_tables WHERE schemaname = 'dashboard' AND tablename = 'tasks'").Scan(&owner); err != nil || owner != "soms_backend" {
		t.Fatalf("dashboard.tasks owner %q, %v", owner, err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO dashboard.restore_probe VALUES ('after')"); err != nil {
		t.Fatalf("soms_backend cannot write after the restore: %v", err)
	}
}
