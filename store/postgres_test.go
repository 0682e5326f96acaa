package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/store/storetest"
)

func freshPostgres(tb testing.TB) store.Config { return testkit.FreshPostgres(tb) }

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
