package store_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/store"
)

// schemaAt is a database of each backend at schema version before, with
// a raw connection beside it for writing rows as that version had them:
// what a migration test starts from.
type schemaAt struct {
	cfg store.Config
	db  *store.DB
	raw *sql.DB
}

// eachBackendAt runs test on SQLite and PostgreSQL, each with a database
// migrated to version before.
func eachBackendAt(t *testing.T, before int64, test func(t *testing.T, s schemaAt)) {
	for _, backend := range []struct {
		name string
		open func(t *testing.T) store.Config
	}{
		{"sqlite", func(t *testing.T) store.Config {
			return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", before))}
		}},
		{"postgres", func(t *testing.T) store.Config { return freshPostgres(t) }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			ctx := t.Context()
			cfg := backend.open(t)
			db, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.MigrateTo(ctx, before); err != nil {
				t.Fatal(err)
			}
			driver := "sqlite"
			if cfg.Driver == store.DriverPostgres {
				driver = "pgx"
			}
			raw, err := sql.Open(driver, cfg.DSN)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			test(t, schemaAt{cfg: cfg, db: db, raw: raw})
		})
	}
}
