package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/store/storetest"
)

// postgresDSN is the server the PostgreSQL tests use, as a URL
// ("postgres://ecos@127.0.0.1:5432/postgres?sslmode=disable") whose user
// may create databases. Unset, the tests skip, except in CI (CI=true),
// where skipping would let the PostgreSQL backend go untested.
func postgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("ECOS_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("ECOS_TEST_POSTGRES_DSN is not set; CI must run the PostgreSQL conformance suite")
		}
		tb.Skip("ECOS_TEST_POSTGRES_DSN not set")
	}
	return dsn
}

// freshPostgres creates an empty database for one test and drops it at
// cleanup, returning its Config.
func freshPostgres(tb testing.TB) store.Config {
	tb.Helper()
	dsn := postgresDSN(tb)
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("ECOS_TEST_POSTGRES_DSN must be a postgres:// URL: %q", dsn)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	name := "ecos_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(tb.Context(), "CREATE DATABASE "+name); err != nil {
		admin.Close()
		tb.Fatalf("creating test database: %v", err)
	}
	tb.Cleanup(func() {
		// FORCE ends any connection a test left open.
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dropping %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return store.Config{Driver: store.DriverPostgres, DSN: u.String()}
}

func openPostgres(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(tb.Context(), freshPostgres(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return openPostgres(t) })
}

// Several workers starting together each call Migrate; the advisory lock
// makes that safe.
func TestPostgresConcurrentMigrate(t *testing.T) {
	cfg := freshPostgres(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := store.Open(t.Context(), cfg)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Migrate(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, fmt.Errorf("migrate: %w", err))
		}
	}
}
