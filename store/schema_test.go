package store_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Both dialect trees carry the same migrations, version for version.
func TestMigrationTreesMatch(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join("migrations", dir))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join("migrations", dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "-- +goose Up") || !strings.Contains(string(b), "-- +goose Down") {
				t.Errorf("%s/%s: want both -- +goose Up and -- +goose Down", dir, e.Name())
			}
			out = append(out, e.Name())
		}
		return out
	}
	lite, pg := names("sqlite"), names("postgres")
	if d := cmp.Diff(lite, pg); d != "" {
		t.Fatalf("migration files differ (-sqlite +postgres):\n%s", d)
	}
	for i, n := range lite {
		if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(n, want) {
			t.Errorf("migration %s: want it to start %s (numbered without gaps)", n, want)
		}
	}
}

// column is one column of the logical schema: what must agree between the
// dialects once their spellings of types are set aside.
type column struct {
	Table, Name, Kind string // Kind: int, float, text or bytes
	NotNull           bool
	PKPos             int // 1-based position in the primary key; 0 if not in it
}

// logicalKind folds each dialect's type names into one vocabulary.
func logicalKind(t *testing.T, typ string) string {
	switch strings.ToLower(typ) {
	case "integer", "bigint":
		return "int"
	case "text":
		return "text"
	case "blob", "bytea":
		return "bytes"
	case "double precision", "real":
		return "float"
	}
	t.Fatalf("column type %q has no logical kind", typ)
	return ""
}

func sqliteSchema(t *testing.T, db *sql.DB) ([]column, []string) {
	rows, err := db.QueryContext(t.Context(), `SELECT m.name, p.name, p.type, p."notnull", p.pk
		FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	var cols []column
	for rows.Next() {
		var c column
		var typ string
		if err := rows.Scan(&c.Table, &c.Name, &typ, &c.NotNull, &c.PKPos); err != nil {
			t.Fatal(err)
		}
		c.Kind = logicalKind(t, typ)
		// An INTEGER PRIMARY KEY is the rowid, never NULL, though SQLite
		// does not report it NOT NULL.
		c.NotNull = c.NotNull || c.PKPos > 0
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, queryStrings(t, db, `SELECT tbl_name || '.' || name FROM sqlite_master
		WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'`)
}

func postgresSchema(t *testing.T, db *sql.DB) ([]column, []string) {
	rows, err := db.QueryContext(t.Context(), `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'NO',
			COALESCE((SELECT k.ordinal_position FROM information_schema.table_constraints tc
				JOIN information_schema.key_column_usage k
				  ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema
				WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema
				  AND tc.table_name = c.table_name AND k.column_name = c.column_name), 0)
		FROM information_schema.columns c
		WHERE c.table_schema = 'public' AND c.table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	var cols []column
	for rows.Next() {
		var c column
		var typ string
		if err := rows.Scan(&c.Table, &c.Name, &typ, &c.NotNull, &c.PKPos); err != nil {
			t.Fatal(err)
		}
		c.Kind = logicalKind(t, typ)
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Constraint-backed indexes are named by each dialect its own way; the
	// columns above (primary keys) and the conformance suite (uniqueness)
	// cover them.
	return cols, queryStrings(t, db, `SELECT i.tablename || '.' || i.indexname FROM pg_indexes i
		WHERE i.schemaname = 'public' AND i.tablename <> 'goose_db_version' AND NOT EXISTS (
			SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`)
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortSchema(cols []column, idx []string) {
	slices.SortFunc(cols, func(a, b column) int {
		return strings.Compare(a.Table+"."+a.Name, b.Table+"."+b.Name)
	})
	slices.Sort(idx)
}

// Both trees, fully applied, give the same tables, columns (logical type,
// nullability, primary key) and named indexes.
func TestSchemaParity(t *testing.T) {
	lite := openSQLite(t, "")
	liteRaw, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(lite.Config().DSN, "file:")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer liteRaw.Close()
	liteCols, liteIdx := sqliteSchema(t, liteRaw)
	if len(liteCols) < 20 {
		t.Fatalf("only %d columns found in the SQLite schema", len(liteCols))
	}

	pg := openPostgres(t)
	pgRaw, err := sql.Open("pgx", pg.Config().DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pgRaw.Close()
	pgCols, pgIdx := postgresSchema(t, pgRaw)

	sortSchema(liteCols, liteIdx)
	sortSchema(pgCols, pgIdx)
	if d := cmp.Diff(liteCols, pgCols); d != "" {
		t.Errorf("columns differ (-sqlite +postgres):\n%s", d)
	}
	if d := cmp.Diff(liteIdx, pgIdx); d != "" {
		t.Errorf("indexes differ (-sqlite +postgres):\n%s", d)
	}
}
