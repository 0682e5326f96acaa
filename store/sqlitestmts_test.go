package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatementCache checks the wrapper behind every SQLite pool: a query
// run again reuses its compiled statement; a query run again while its
// own rows are still open gets a fresh one and both read correctly; past
// the bound queries still run; errors come back unchanged.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	c, err := openSQLitePool("file:" + filepath.Join(t.TempDir(), "c.db") + "?" + sqliteWriter)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	if _, err := c.ExecContext(ctx, `CREATE TABLE t (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for n := range 5 {
		if _, err := c.ExecContext(ctx, `INSERT INTO t (n) VALUES (?)`, n); err != nil {
			t.Fatal(err)
		}
	}
	conn := rawConn(t, c)
	if got := len(conn.stmts); got != 2 {
		t.Errorf("%d statements cached after two distinct queries, want 2", got)
	}

	// In a transaction, which keeps to one connection, as the store's are.
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const q = `SELECT n FROM t WHERE n >= ? ORDER BY n`
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for outer.Next() {
		var a int
		if err := outer.Scan(&a); err != nil {
			t.Fatal(err)
		}
		// The same text while outer is open: must not reset outer.
		var b int
		if err := tx.QueryRowContext(ctx, q, a).Scan(&b); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, fmt.Sprint(a, b))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pairs, ","); got != "0 0,1 1,2 2,3 3,4 4" {
		t.Errorf("nested reads of one statement: %s", got)
	}

	if _, err := c.ExecContext(ctx, `INSERT INTO nowhere VALUES (1)`); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("bad statement: %v", err)
	}
	for i := range maxCachedStatements + 10 {
		var n int
		if err := c.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM t`, i)).Scan(&n); err != nil || n != 5+i {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
	if got := len(rawConn(t, c).stmts); got != maxCachedStatements {
		t.Errorf("%d statements cached, bound %d", got, maxCachedStatements)
	}
}

func rawConn(t *testing.T, db *sql.DB) *cachingConn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cc *cachingConn
	if err := conn.Raw(func(d any) error { cc = d.(*cachingConn); return nil }); err != nil {
		t.Fatal(err)
	}
	return cc
}
