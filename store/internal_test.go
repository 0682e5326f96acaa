package store

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNumberPlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                         "SELECT 1",
		"a = ? AND b IN (?, ?)":            "a = $1 AND b IN ($2, $3)",
		"x = '?' AND y = ?":                "x = '?' AND y = $1",
		"s = 'it''s ?' AND t = ? OR u = ?": "s = 'it''s ?' AND t = $1 OR u = $2",
	} {
		if got := numberPlaceholders(in); got != want {
			t.Errorf("numberPlaceholders(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every migration's Down undoes its Up: all the way down and up again.
func TestMigrateDownUp(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, Config{DSN: filepath.Join(t.TempDir(), "down.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := db.migrator()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	if cur, _, err := db.SchemaVersion(ctx); err != nil || cur != 0 {
		t.Fatalf("after down: version %d, %v", cur, err)
	}
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after down: %d tables left (%v)", n, err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if _, err := db.ReserveCounter(ctx, "cos"); err != nil {
		t.Fatal(err)
	}
}

// A pusher's read of one User's unpushed responses goes by the index on
// (originator, ID), so other Users' responses, however many, are not read.
func TestUnpushedOfUsesIndex(t *testing.T) {
	ctx := t.Context()
	db := migratedSQLite(t)
	rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT `+responseCols+` FROM responses
		WHERE pushed_at_us IS NULL AND originator_eui = ? AND response_id > ? ORDER BY response_id LIMIT ?`, make([]byte, 8), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "USING INDEX responses_unpushed_by_user (originator_eui=? AND response_id>?)") {
		t.Fatalf("query plan %q: want one search of responses_unpushed_by_user, no sort", plan)
	}
}

// migratedSQLite is a fresh SQLite database at the newest schema, closed
// when the test ends, for the tests that read its query plans.
func migratedSQLite(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), Config{DSN: filepath.Join(t.TempDir(), "plan.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}
