package migrate

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// The store's refusals of a plan or a wave reach the operator as bad
// requests or not found (the API's 400 and 404), never as internal errors.
func TestOperatorRefusals(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "ecos.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	o := &Operator{Store: db, Now: func() time.Time { return day }}
	_, err = o.Plan(ctx, store.WaveFilter{InstalledFrom: day, InstalledTo: day})
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedBadRequest {
		t.Errorf("plan with an empty install range: %v, want a bad-request refusal", err)
	}
	_, err = o.Plan(ctx, store.WaveFilter{Suppliers: []string{""}})
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedBadRequest {
		t.Errorf("plan with an empty supplier: %v, want a bad-request refusal", err)
	}
	_, err = o.Progress(ctx, 7)
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedNotFound {
		t.Errorf("progress of no wave: %v, want not found", err)
	}
	_, err = o.Act(ctx, 7, ActionPause, "")
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedNotFound {
		t.Errorf("pause of no wave: %v, want not found", err)
	}
}
