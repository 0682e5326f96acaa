package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite settings, applied to every connection before the DSN's own
// parameters (which therefore override them).
const (
	// WAL lets readers run beside the writer and makes a commit one
	// sequential append to the log.
	//
	// synchronous=FULL fsyncs the WAL at every commit, so a commit that
	// returned survives power loss and OS crashes, not only kill -9. That is
	// what "a reserved counter is never reused" needs: with NORMAL the last
	// commits before a power cut can vanish and their counters be handed out
	// again. docs/storage.md has the measured cost.
	//
	// busy_timeout makes a writer from another process (or another DB handle)
	// wait for the write lock instead of failing with SQLITE_BUSY; 30 s is far
	// above any transaction store runs.
	sqliteCommon = "_pragma=busy_timeout(30000)&_pragma=foreign_keys(1)"
	// _txlock=immediate takes the write lock at BEGIN, where busy_timeout
	// applies, instead of at the first write of a read-then-write
	// transaction, where SQLite can only fail with SQLITE_BUSY_SNAPSHOT.
	sqliteWriter = sqliteCommon + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	// query_only makes a stray write through the read pool an error.
	sqliteReader = sqliteCommon + "&_pragma=query_only(1)"

	sqliteReaders = 4
)

func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	path, userQuery, _ := strings.Cut(strings.TrimPrefix(cfg.DSN, "file:"), "?")
	switch {
	case path == "":
		return nil, errors.New("store: sqlite DSN: no file name")
	case path == ":memory:" || strings.Contains(userQuery, "mode=memory"):
		return nil, errors.New("store: sqlite DSN: in-memory databases are not supported")
	}
	if cfg.NoCreate {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, &NoDatabaseError{Path: path}
		}
	}
	dsn := func(defaults string) string {
		if userQuery == "" {
			return "file:" + path + "?" + defaults
		}
		return "file:" + path + "?" + defaults + "&" + userQuery
	}

	// The writer opens first: its first connection creates the file and
	// switches it to WAL before any reader looks at it.
	w, err := openSQLitePool(dsn(sqliteWriter))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	r, err := openSQLitePool(dsn(sqliteReader))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s (reader): %w", path, err)
	}
	return &DB{
		cfg: cfg,
		d: dialect{
			name:      DriverSQLite,
			maxParams: 32766, // SQLITE_MAX_VARIABLE_NUMBER since 3.32
			isUnique:  sqliteIsUnique,
			// "UNIQUE constraint failed: commands.a, commands.b"
			uniqueKey: func(err error) string {
				if !sqliteIsUnique(err) {
					return ""
				}
				_, cols, _ := strings.Cut(err.Error(), "constraint failed: ")
				return cols
			},
			isForeignKey: func(err error) bool {
				return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
			},
		},
		w:     w,
		r:     r,
		group: newGroupCommit(w),
		file:  path,
	}, nil
}

// openSQLitePool opens a pool whose connections keep their compiled
// statements (sqlitestmts.go).
func openSQLitePool(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(stmtCache{c}), nil
}

func sqliteIsUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// sqliteCode is the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code()
	}
	return 0
}
