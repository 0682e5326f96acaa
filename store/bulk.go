package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// bulk describes the multi-row INSERT an import uses.
type bulk struct {
	table  string   // the table written
	cols   []string // its columns, in the order of each row's values
	suffix string   // an ON CONFLICT clause, or ""
	name   string   // what ImportError calls the import ("devices")
}

// bulkRowsPerStatement: big enough that a million rows is two thousand
// round trips, small enough to stay far below both dialects' parameter caps.
const bulkRowsPerStatement = 500

// insert writes n rows inside tx; row(i) gives the i-th row's values
// (len(b.cols) of them) and the caller's index to name if it fails. Rows
// are built a batch at a time, so a ten-million-row import does not hold
// ten million argument lists at once.
//
// Rows go in batches, each under a savepoint. When a batch fails, it is
// rolled back to its savepoint and replayed row by row to find the first
// offending row, whose index the returned *ImportError names. The caller
// then rolls the whole transaction back: an import is all or nothing.
func (db *DB) insert(ctx context.Context, tx *sql.Tx, b bulk, n int, row func(i int) (src int, vals []any)) error {
	per := min(bulkRowsPerStatement, db.d.maxParams/len(b.cols))
	marks := "(" + placeholders(len(b.cols)) + ")"
	head := "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES "
	single := db.q(head + marks + " " + b.suffix)
	full := db.q(head + strings.TrimSuffix(strings.Repeat(marks+", ", per), ", ") + " " + b.suffix)
	args := make([]any, 0, per*len(b.cols))
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		query := full
		if end-start < per {
			query = db.q(head + strings.TrimSuffix(strings.Repeat(marks+", ", end-start), ", ") + " " + b.suffix)
		}
		args = args[:0]
		for i := start; i < end; i++ {
			_, vals := row(i)
			args = append(args, vals...)
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT bulk_batch"); err != nil {
			return fmt.Errorf("store: import %s: %w", b.name, err)
		}
		_, batchErr := tx.ExecContext(ctx, query, args...)
		if batchErr == nil {
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT bulk_batch"); err != nil {
				return fmt.Errorf("store: import %s: %w", b.name, err)
			}
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("store: import %s: %w", b.name, batchErr)
		}
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT bulk_batch"); err != nil {
			return fmt.Errorf("store: import %s: %w (rolling back batch: %v)", b.name, batchErr, err)
		}
		for i := start; i < end; i++ {
			src, vals := row(i)
			if _, err := tx.ExecContext(ctx, single, vals...); err != nil {
				return &ImportError{Table: b.name, Row: src, Err: db.d.constraint(err)}
			}
		}
		// Every row went in alone but not together: only rows of the same
		// batch conflicting with each other do that, and the callers refuse
		// duplicate keys before writing.
		first, _ := row(start)
		last, _ := row(end - 1)
		return fmt.Errorf("store: import %s: rows %d..%d: %w", b.name, first, last, batchErr)
	}
	return nil
}

// queryIn runs query, which ends in "IN ", once per batch of keys (each
// far below the dialect's parameter cap) inside tx, and hands every row
// scan reads to fn.
func queryIn[K, T any](ctx context.Context, db *DB, tx *sql.Tx, query string, keys []K, arg func(K) any,
	scan func(*sql.Rows) (T, error), fn func(T) error) error {
	for len(keys) > 0 {
		n := min(len(keys), bulkRowsPerStatement)
		args := make([]any, n)
		for i, k := range keys[:n] {
			args[i] = arg(k)
		}
		keys = keys[n:]
		rows, err := tx.QueryContext(ctx, db.q(query+"("+placeholders(n)+")"), args...)
		if err != nil {
			return err
		}
		if err := scanEach(rows, scan, fn); err != nil {
			return err
		}
	}
	return nil
}
