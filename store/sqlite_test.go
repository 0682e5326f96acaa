package store_test

import (
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/store/storetest"
)

// openSQLite opens a fresh migrated SQLite file in a temporary directory,
// with extra DSN parameters if given.
func openSQLite(tb testing.TB, params string) *store.DB {
	tb.Helper()
	dsn := filepath.Join(tb.TempDir(), "ecos.db")
	if params != "" {
		dsn = "file:" + dsn + "?" + params
	}
	db, err := store.Open(tb.Context(), store.Config{Driver: store.DriverSQLite, DSN: dsn})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return openSQLite(t, "") })
}

func TestSQLiteRefusesMemory(t *testing.T) {
	for _, dsn := range []string{"", ":memory:", "file::memory:", "file:x.db?mode=memory"} {
		if db, err := store.Open(t.Context(), store.Config{DSN: dsn}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
	if _, err := store.Open(t.Context(), store.Config{Driver: "oracle"}); err == nil {
		t.Error("unknown driver accepted")
	}
}
