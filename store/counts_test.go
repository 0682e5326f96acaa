package store_test

import (
	"testing"

	"github.com/ecos-cos/ecos/store"
)

// TestCountAndPending: what `ecos db status` shows, on an empty and on a
// migrated database.
func TestCountAndPending(t *testing.T) {
	db, err := store.Open(t.Context(), store.Config{Driver: store.DriverSQLite, DSN: t.TempDir() + "/ecos.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending, err := db.Pending(t.Context())
	if err != nil || len(pending) == 0 || pending[0] != "0001_reference_data.sql" {
		t.Fatalf("Pending before migrating = %q, %v", pending, err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if pending, err := db.Pending(t.Context()); err != nil || len(pending) != 0 {
		t.Fatalf("Pending after migrating = %q, %v", pending, err)
	}
	if c, err := db.Count(t.Context()); err != nil || c != (store.Counts{}) {
		t.Fatalf("Count = %+v, %v", c, err)
	}
}
