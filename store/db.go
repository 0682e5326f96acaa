package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// DB is the store: one database, either backend. It is safe for concurrent
// use by many goroutines, and several DBs (in one process or many) may
// share one database.
type DB struct {
	cfg Config
	d   dialect

	// w takes every write. On SQLite it holds a single connection, fed by
	// group (below), so a process's writers never contend for SQLite's one
	// write lock; between processes busy_timeout and BEGIN IMMEDIATE make
	// them wait instead of failing with SQLITE_BUSY.
	w *sql.DB
	// r serves the authoriser's lookups. On SQLite it is a separate
	// read-only pool, so lookups run beside a writer (WAL readers never
	// block it); on PostgreSQL it is the same pool as w.
	r *sql.DB
	// group batches SQLite's write transactions (groupcommit.go); nil on
	// PostgreSQL.
	group *groupCommit
	// file is the SQLite database file, beside which the instance lock
	// lives; "" on PostgreSQL.
	file string

	closeOnce sync.Once
	closeErr  error
}

// dialect is what differs between the backends once the SQL is written
// dialect-neutrally.
type dialect struct {
	name string
	// numbered placeholders ($1, $2, …) instead of ?.
	numbered bool
	// maxParams bounds one statement's bind parameters.
	maxParams int
	// isUnique reports a primary-key or unique-constraint violation.
	isUnique func(error) bool
	// uniqueKey names the unique key a violation hit as the server
	// reports it (PostgreSQL: the index; SQLite: its columns, "t.a, t.b";
	// "" for any other error), so a caller can tell which key was taken.
	uniqueKey func(error) string
	// isForeignKey reports a reference to a row that does not exist.
	isForeignKey func(error) bool
}

// constraint wraps a constraint violation in the sentinel callers test:
// ErrDuplicate for a key already taken, ErrInvalid for a reference to a
// row that does not exist. Other errors pass unchanged.
func (d dialect) constraint(err error) error {
	switch {
	case err == nil:
		return nil
	case d.isUnique(err):
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	case d.isForeignKey(err):
		return fmt.Errorf("%w: refers to a row that is not stored: %v", ErrInvalid, err)
	}
	return err
}

// Config returns the Config the DB was opened with, so a second handle on
// the same database can be opened (tests do, to play a second worker).
func (db *DB) Config() Config { return db.cfg }

// Driver is "sqlite" or "postgres".
func (db *DB) Driver() string { return db.d.name }

// Close closes both pools. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		var errs []error
		if db.group != nil {
			db.group.close()
		}
		if db.r != db.w {
			errs = append(errs, db.r.Close())
		}
		errs = append(errs, db.w.Close())
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// q adapts a query written with ? placeholders to the dialect. Queries are
// written once, with ?, so both backends run the same text.
func (db *DB) q(query string) string {
	if !db.d.numbered {
		return query
	}
	return numberPlaceholders(query)
}

// numberPlaceholders turns each ? outside a quoted literal into $1, $2, ….
func numberPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// withTx runs fn in a write transaction and commits it, so that a nil
// return means fn's writes are durable. If fn fails, its writes are rolled
// back and a rollback failure is reported beside fn's error. fn must use
// the ctx it is given, and must not call other DB methods.
func (db *DB) withTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if db.group != nil {
		return db.group.do(ctx, fn)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// placeholders returns "?, ?, …" with n marks, for IN lists.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// readTx runs fn in a read-only transaction on the read pool, so a lookup
// spanning several queries sees one snapshot (PostgreSQL needs REPEATABLE
// READ for that; a SQLite read transaction is a snapshot already).
func (db *DB) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.d.name == DriverPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	// Read-only: rolling back undoes nothing, and fn's error is the one
	// that matters.
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// scanAll reads every row of a query with scan, then closes it.
func scanAll[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error)) ([]T, error) {
	var out []T
	err := scanEach(rows, scan, func(v T) error {
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanEach scans every row and hands it to fn as it is read, for walks
// too long to hold in memory. fn's error stops the walk and is returned
// as is; it is told apart from the scan's by errFromFn.
func scanEach[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error), fn func(T) error) error {
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return errFromFn{err}
		}
	}
	return rows.Err()
}

// errFromFn marks an error from a scanEach callback, which its caller
// returns unwrapped rather than as a store failure.
type errFromFn struct{ err error }

func (e errFromFn) Error() string { return e.err.Error() }

// walkError is scanEach's error as a streaming method returns it: fn's
// own error as is, anything else prefixed with what was being read.
func walkError(what string, err error) error {
	if fe, ok := err.(errFromFn); ok {
		return fe.err
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}
