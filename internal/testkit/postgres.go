package testkit

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/store"
)

// PostgresServer is the server PostgreSQL tests use: ECOS_TEST_POSTGRES_DSN,
// a postgres:// URL whose user may create databases. Unset, the test
// skips, except in CI (CI=true), where skipping would leave the PostgreSQL
// backend untested.
func PostgresServer(tb testing.TB) string {
	tb.Helper()
	return Env(tb, "ECOS_TEST_POSTGRES_DSN")
}

// FreshPostgres creates an empty database on PostgresServer for one test
// and drops it at cleanup.
func FreshPostgres(tb testing.TB) store.Config {
	tb.Helper()
	cfg, drop, err := store.CreatePostgresDatabase(tb.Context(), PostgresServer(tb), "ecos_test_"+strings.ToLower(rand.Text()[:12]))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(context.Background()); err != nil {
			tb.Error(err)
		}
	})
	return cfg
}
