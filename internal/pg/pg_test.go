package pg_test

import (
	"context"
	"io/fs"
	"os"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var migrations = fstest.MapFS{
	// The pause keeps the first migration running while the other replicas
	// start theirs: without a lock they would apply it twice and fail.
	"00001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE demo.items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);\nSELECT pg_sleep(0.3);\n-- +goose Down\nDROP TABLE demo.items;\n")},
	"00002_price.sql": {Data: []byte("-- +goose Up\nALTER TABLE demo.items ADD COLUMN price INT NOT NULL DEFAULT 0;\n-- +goose Down\nALTER TABLE demo.items DROP COLUMN price;\n")},
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	ctx := context.Background()
	pool, err := pg.Open(ctx, testenv.Postgres(t), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	other := fstest.MapFS{"00001_notes.sql": {Data: []byte("-- +goose Up\nCREATE TABLE other.notes (id BIGSERIAL PRIMARY KEY);\nSELECT pg_sleep(0.3);\n")}}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 { // four replicas of one service and two of another, starting at once
		schema, fsys := "demo", fs.FS(migrations)
		if i%3 == 2 {
			schema, fsys = "other", other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pg.Migrate(ctx, pool, schema, fsys, logging.Discard())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO other.notes DEFAULT VALUES`); err != nil {
		t.Fatalf("the other service's schema unusable: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO demo.items (name, price) VALUES ('tea', 120)`); err != nil {
		t.Fatalf("migrated schema unusable: %v", err)
	}
	var version int64
	if err := pool.QueryRow(ctx, `SELECT max(version_id) FROM demo.goose_db_version`).Scan(&version); err != nil || version != 2 {
		t.Fatalf("version = %d, %v", version, err)
	}
	if err := pg.Migrate(ctx, pool, "demo", migrations, logging.Discard()); err != nil {
		t.Fatalf("second run: %v", err)
	}
}

func TestMigrateRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	pool, err := pg.Open(ctx, testenv.Postgres(t), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pg.Migrate(ctx, pool, "Drop Table", migrations, logging.Discard()); err == nil {
		t.Fatal("invalid schema name accepted")
	}
	broken := fstest.MapFS{"00001_bad.sql": {Data: []byte("-- +goose Up\nCREATE TABLE nope.x (;\n")}}
	if err := pg.Migrate(ctx, pool, "broken", broken, logging.Discard()); err == nil {
		t.Fatal("a failing migration reported success")
	}
}
