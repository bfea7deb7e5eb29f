// Package pg opens the shared PostgreSQL pool and applies each service's
// embedded, versioned migrations to the schema that service owns.
package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/somsgo/soms/internal/backoff"
	"github.com/somsgo/soms/internal/clock"
)

// Config is the database connection with the original SOMS variable name.
type Config struct {
	URL string `env:"DATABASE_URL" default:"postgres://soms:soms@localhost:5432/soms?sslmode=disable" doc:"PostgreSQL connection URL"`
}

// Open creates a pool and waits until the database answers or ctx is done, so a
// service started before its database keeps waiting instead of crash-looping.
func Open(ctx context.Context, url string, log *slog.Logger) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	// Every service of a stack waits for the same database: jitter keeps
	// them from knocking in step.
	bo := backoff.New(clock.Wall{}, backoff.Policy{Min: 200 * time.Millisecond, Max: 5 * time.Second, Jitter: 0.2})
	var last error
	err = bo.Retry(ctx, func(ctx context.Context) error {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return pool.Ping(pingCtx)
	}, func(err error, d time.Duration) {
		last = err
		log.Warn("database not ready, retrying", "host", cfg.ConnConfig.Host, "port", cfg.ConnConfig.Port, "err", err, "in", d)
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("waiting for database: %w (last error: %v)", err, last)
	}
	return pool, nil
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Migrate applies the migrations in fsys (goose SQL files) to schema, creating
// the schema if needed. Versions are tracked in schema.goose_db_version, so each
// service migrates independently; goose's session locker (a PostgreSQL
// advisory lock per schema) keeps concurrent starts (replicas, restarts) from
// racing.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string, fsys fs.FS, log *slog.Logger) error {
	if !schemaName.MatchString(schema) {
		return fmt.Errorf("migrate: invalid schema name %q", schema)
	}
	// Migrations run on their own connections, not the service's pool: a
	// replica waiting for the lock must not starve the one holding it.
	db := stdlib.OpenDB(*pool.Config().ConnConfig.Copy())
	defer db.Close()
	if err := createSchema(ctx, db, schema); err != nil {
		return fmt.Errorf("migrate %s: create schema: %w", schema, err)
	}
	// One lock per schema, so services migrate side by side; a waiting
	// replica tries again every second for up to five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(advisoryID("soms-migrate:"+schema)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate %s: %w", schema, err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithTableName(schema+".goose_db_version"),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(locker),
		goose.WithSlog(log.With("component", "migrate", "schema", schema)),
	)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", schema, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			return fmt.Errorf("migrate %s: %d applied, then %w", schema, len(partial.Applied), partial.Err)
		}
		return fmt.Errorf("migrate %s: %w", schema, err)
	}
	for _, r := range results {
		log.Info("migration applied", "schema", schema, "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// createSchema creates schema if it is missing. Two services creating it at
// once can collide in the catalogue (a unique violation even with IF NOT
// EXISTS); the loser finds it there.
func createSchema(ctx context.Context, db *sql.DB, schema string) error {
	_, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	if err == nil {
		return nil
	}
	var exists bool
	if qerr := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); qerr != nil || !exists {
		return err
	}
	return nil
}

// advisoryID is the advisory lock id of a name.
func advisoryID(s string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return int64(h.Sum64())
}

// Ready returns a readiness check pinging the pool.
func Ready(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		return nil
	}
}
