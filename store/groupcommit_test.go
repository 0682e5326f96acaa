package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

func openGroupTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), Config{DSN: filepath.Join(t.TempDir(), "group.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if db.group == nil {
		t.Fatal("SQLite DB without group commit")
	}
	return db
}

func setCounter(name string, fail error) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES (?, 1)`, name); err != nil {
			return err
		}
		return fail
	}
}

func counterNames(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.r.QueryContext(t.Context(), `SELECT name FROM counters`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := scanAll(rows, func(r *sql.Rows) (n string, err error) { return n, r.Scan(&n) })
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// One batch: a failing operation (after it wrote) and a cancelled one are
// rolled back alone; their neighbours commit; each caller gets its own
// result.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openGroupTest(t)
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	batch := []*writeOp{
		{ctx: t.Context(), fn: setCounter("a", nil)},
		{ctx: t.Context(), fn: setCounter("b", boom)},
		{ctx: cancelled, fn: func(context.Context, *sql.Tx) error { ran = true; return nil }},
		{ctx: t.Context(), fn: setCounter("a", nil)}, // unique violation: a is taken
		{ctx: t.Context(), fn: setCounter("c", nil)},
	}
	for _, op := range batch {
		op.result = make(chan error, 1)
	}
	db.group.commit(batch)
	results := make([]error, len(batch))
	for i, op := range batch {
		results[i] = <-op.result
	}
	if results[0] != nil || results[4] != nil {
		t.Errorf("good operations failed: %v, %v", results[0], results[4])
	}
	if !errors.Is(results[1], boom) || !errors.Is(results[2], context.Canceled) || !db.d.isUnique(results[3]) {
		t.Errorf("results: %v", results)
	}
	if ran {
		t.Error("an operation whose context had ended ran")
	}
	if got := counterNames(t, db); len(got) != 2 || !got["a"] || !got["c"] {
		t.Errorf("committed counters %v, want a and c", got)
	}
}

// Close waits for queued work, then refuses more.
func TestGroupCommitClose(t *testing.T) {
	db := openGroupTest(t)
	done := make(chan error)
	for _, n := range []string{"x", "y", "z"} {
		go func() { done <- db.withTx(t.Context(), setCounter(n, nil)) }()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	db.group.close()
	if err := db.withTx(t.Context(), setCounter("late", nil)); !errors.Is(err, errClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if got := counterNames(t, db); len(got) != 3 {
		t.Fatalf("counters %v", got)
	}
}
