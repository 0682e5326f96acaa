package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
)

// maxCachedStatements bounds each SQLite connection's statement cache. The
// store runs a few dozen distinct statements; queries whose text varies
// (IN lists of any length) beyond the bound are prepared per call, as
// without the cache.
const maxCachedStatements = 256

// stmtCache wraps the SQLite connector so that each connection keeps its
// prepared statements, keyed by their text. database/sql asks the driver
// to run a query by its text, and modernc's driver compiles it again every
// time: a profile of the 6.23 pipeline showed SQLite's parser taking more
// CPU than the statements themselves. Callers change nothing: the same
// ExecContext and QueryContext calls find their statement compiled.
type stmtCache struct{ driver.Connector }

// sqliteConn is what every connection modernc's driver opens implements;
// the wrapper forwards each, as its NewConnector documentation asks.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func (c stmtCache) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: sqlite connection %T lacks an interface the statement cache forwards", conn)
	}
	return &cachingConn{sqliteConn: sc, stmts: make(map[string]*cachedStmt)}, nil
}

// cachingConn is one connection and its compiled statements. database/sql
// uses a connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

// cachedStmt is a compiled statement; busy while rows it returned are
// open, when running it again would reset them under the reader.
type cachedStmt struct {
	st   stmtContext
	busy bool
}

type stmtContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// Unwrap lets modernc's helpers (sqlite.Limit) reach the connection.
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// statement returns the compiled statement for query, compiling it on
// first use, or nil when it cannot be used now: busy, the cache full, or
// the driver's statement lacking the context methods. A compile error is
// returned as the query's error.
func (c *cachingConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		return nil, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	sc, ok := st.(stmtContext)
	if !ok {
		return nil, errors.Join(fmt.Errorf("store: sqlite statement %T lacks context methods", st), st.Close())
	}
	s := &cachedStmt{st: sc}
	c.stmts[query] = s
	return s, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.st.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.st.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// Close finalises the compiled statements, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, s := range c.stmts {
		errs = append(errs, s.st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// cachedRows frees its statement for the next caller when closed.
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	return err
}
