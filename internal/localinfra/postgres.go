package localinfra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/somsgo/soms/internal/childproc"
)

// Postgres is a private PostgreSQL cluster (initdb into a directory, loopback
// listener, password authentication for TCP).
type Postgres struct {
	Port int
	pass string
	proc *childproc.Proc
}

// StartPostgres initialises dir (if empty) and starts PostgreSQL on port (0
// picks a free one). Tuned for throw-away data that must survive the server:
// a commit is acknowledged once its WAL is written (synchronous_commit on), so
// a killed server loses nothing it acknowledged; without fsync the operating
// system keeps the writes, and a crash of the whole machine may lose them.
// With fsync off the durable commit costs nothing measurable (3000 one-row
// commits: 121 µs each with synchronous_commit off, 124 µs on).
func StartPostgres(ctx context.Context, dir string, port int, out *childproc.Lines) (*Postgres, error) {
	progs, err := findPrograms()
	if err != nil {
		return nil, err
	}
	cred, err := postgresUser()
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = childproc.FreePort(); err != nil {
			return nil, err
		}
	}
	pg := &Postgres{Port: port}
	passFile := filepath.Join(dir, "..", filepath.Base(dir)+".password")
	if b, err := os.ReadFile(passFile); err == nil {
		pg.pass = string(b)
	} else {
		pg.pass = Secret()
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initCluster(ctx, progs, cred, dir, pg.pass); err != nil {
			return nil, err
		}
		if err := os.WriteFile(passFile, []byte(pg.pass), 0o600); err != nil {
			return nil, err
		}
	}
	p, err := childproc.Start(childproc.Spec{Name: "postgres", Path: progs.postgres, Cred: cred, Env: childproc.BaseEnv(), Dir: dir, Args: []string{
		"-D", dir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir,
		// Simulation data: durable against a killed server, not against
		// a crashed machine.
		"-c", "fsync=off", "-c", "synchronous_commit=on", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "log_min_messages=warning",
	}}, out)
	if err != nil {
		return nil, err
	}
	pg.proc = p
	if err := childproc.WaitTCP(ctx, p, port); err != nil {
		_ = pg.Stop()
		return nil, err
	}
	// The port opens before the server accepts logins; wait for a session.
	if err := pg.admin(ctx, func(*pgx.Conn) error { return nil }); err != nil {
		_ = pg.Stop()
		return nil, err
	}
	return pg, nil
}

func initCluster(ctx context.Context, progs programs, cred *syscall.Credential, dir, pass string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// initdb reads the superuser password from a file it can open as itself.
	pwfile := filepath.Join(dir, "..", "."+filepath.Base(dir)+".pw")
	if err := os.WriteFile(pwfile, []byte(pass+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("handing %s to the postgres user: %w", dir, err)
		}
	}
	p, err := childproc.Start(childproc.Spec{Name: "initdb", Path: progs.initdb, Cred: cred, Env: childproc.BaseEnv(), Dir: dir, Args: []string{
		"-D", dir, "-U", "soms", "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
	}}, nil)
	if err != nil {
		return err
	}
	if err := p.WaitExit(ctx); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	return nil
}

// URL is a connection URL for database db.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://soms:%s@127.0.0.1:%d/%s?sslmode=disable", p.pass, p.Port, db)
}

var dbName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// CreateDatabase creates db, dropping an existing one first when fresh is set.
func (p *Postgres) CreateDatabase(ctx context.Context, db string, fresh bool) error {
	if !dbName.MatchString(db) {
		return fmt.Errorf("invalid database name %q", db)
	}
	return p.admin(ctx, func(conn *pgx.Conn) error {
		if fresh {
			if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+db+` WITH (FORCE)`); err != nil {
				return err
			}
		}
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			_, err := conn.Exec(ctx, `CREATE DATABASE `+db)
			return err
		}
		return nil
	})
}

func (p *Postgres) admin(ctx context.Context, f func(*pgx.Conn) error) error {
	var conn *pgx.Conn
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err = pgx.Connect(ctx, p.URL("postgres"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("connecting to the private PostgreSQL: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer conn.Close(context.Background())
	if err := f(conn); err != nil {
		return fmt.Errorf("private PostgreSQL: %w", err)
	}
	return nil
}

// Logs returns the server's last n log lines.
func (p *Postgres) Logs(n int) []string { return p.proc.Logs(n) }

// Done is closed when the server has exited.
func (p *Postgres) Done() <-chan struct{} { return p.proc.Done() }

// Kill kills the server at once (SIGKILL), as a crash would.
func (p *Postgres) Kill() error { return p.proc.Stop(syscall.SIGKILL, 5*time.Second) }

// Stop shuts the server down ("fast" shutdown).
func (p *Postgres) Stop() error {
	if p == nil || p.proc == nil {
		return nil
	}
	return p.proc.Stop(syscall.SIGINT, 15*time.Second)
}
