package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// groupCommit runs the write transactions of concurrent callers on SQLite
// as one transaction, so that one fsync makes a whole batch durable. On
// SQLite every commit is an fsync of the WAL (synchronous=FULL) and there
// is one writer at a time, so without batching the write rate is one
// fsync per operation (about 3,500/s here) however many goroutines wait.
//
// Each operation still behaves as its own transaction: it runs under its
// own savepoint, so a failing operation is rolled back alone and its
// neighbours in the batch commit; and no caller is answered before the
// batch's COMMIT returned, so a nil error still means durable. PostgreSQL
// needs none of this: its WAL writer already flushes concurrent commits
// together.
type groupCommit struct {
	w   *sql.DB
	ops chan *writeOp

	mu     sync.RWMutex // held shared while submitting, exclusively to close
	closed bool
	done   chan struct{}
}

type writeOp struct {
	ctx    context.Context
	fn     func(context.Context, *sql.Tx) error
	result chan error
}

// maxBatch bounds one batch: past a few dozen operations the fsync is
// amortised and a bigger batch only delays its first caller.
const maxBatch = 64

var errClosed = errors.New("store: database is closed")

func newGroupCommit(w *sql.DB) *groupCommit {
	g := &groupCommit{w: w, ops: make(chan *writeOp, maxBatch), done: make(chan struct{})}
	go g.run()
	return g
}

// do runs fn as part of the next batch and returns once the batch has
// committed (or fn failed). A caller whose ctx ends while it waits for its
// turn gets ctx's error and fn never runs; once fn has started it runs to
// the end, uncancelled: in SQLite, interrupting a write inside a
// transaction rolls back the whole transaction, the neighbours' work too.
func (g *groupCommit) do(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	op := &writeOp{ctx: ctx, fn: fn, result: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errClosed
	}
	select {
	case g.ops <- op:
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	g.mu.RUnlock()
	return <-op.result
}

// close lets the queued operations finish, then stops the batcher.
func (g *groupCommit) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.ops)
	}
	g.mu.Unlock()
	<-g.done
}

func (g *groupCommit) run() {
	defer close(g.done)
	for first := range g.ops {
		batch := []*writeOp{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case op, ok := <-g.ops:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		g.commit(batch)
	}
}

func (g *groupCommit) commit(batch []*writeOp) {
	errs := make([]error, len(batch))
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	defer func() {
		for i, op := range batch {
			op.result <- errs[i]
		}
	}()

	// Background: the batch belongs to no single caller. BEGIN IMMEDIATE
	// waits here, up to busy_timeout, for another process's writer.
	bg := context.Background()
	tx, err := g.w.BeginTx(bg, nil)
	if err != nil {
		failAll(fmt.Errorf("store: begin: %w", err))
		return
	}
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.ExecContext(bg, "SAVEPOINT op"); err != nil {
			failAll(fmt.Errorf("store: savepoint: %w", err))
			_ = tx.Rollback()
			return
		}
		if errs[i] = op.fn(context.WithoutCancel(op.ctx), tx); errs[i] != nil {
			if _, err := tx.ExecContext(bg, "ROLLBACK TO SAVEPOINT op"); err != nil {
				// The transaction is gone (SQLite rolls back the whole of it
				// on some errors): nobody's work survives.
				failAll(fmt.Errorf("store: batch lost: %w", err))
				_ = tx.Rollback()
				return
			}
		}
		if _, err := tx.ExecContext(bg, "RELEASE SAVEPOINT op"); err != nil {
			failAll(fmt.Errorf("store: batch lost: %w", err))
			_ = tx.Rollback()
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(fmt.Errorf("store: commit: %w", err))
	}
}
