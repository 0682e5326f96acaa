package crash_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/store"
)

// backend is a database the crash tests run `ecos serve` on. Every kill
// -9 test runs on each: a crash leaves a PostgreSQL server holding the
// dead process's sessions and transactions, which SQLite's file locks do
// not.
type backend struct {
	name string
	// database is the store the demo is written to; the zero Config is
	// the demo's own SQLite file.
	database func(t *testing.T) store.Config
}

var backends = []backend{
	{"sqlite", func(*testing.T) store.Config { return store.Config{} }},
	// Without ECOS_TEST_POSTGRES_DSN: skipped locally, a failure in CI.
	{"postgres", func(t *testing.T) store.Config { return testkit.FreshPostgres(t) }},
}

// eachBackend runs fn once per backend, as a subtest, with the ecos binary
// built once for all of them.
func eachBackend(t *testing.T, fn func(t *testing.T, bin string, db store.Config)) {
	bin := buildEcos(t, t.TempDir())
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, bin, b.database(t)) })
	}
}

// demoStore is where the demo in dir written with db keeps its state.
func demoStore(dir string, db store.Config) store.Config {
	if db.Driver == "" {
		return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "ecos.db")}
	}
	return db
}

// openRaw opens db for checks in SQL, read-only on SQLite (the tests'
// queries are the same text on both backends).
func openRaw(t *testing.T, db store.Config) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", db.DSN
	if db.Driver == store.DriverSQLite {
		driver, dsn = "sqlite", "file:"+db.DSN+"?_pragma=query_only(1)"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
