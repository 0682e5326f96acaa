package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/ecos-cos/ecos/eui"
)

// RequestID names a DUIS request, "originator:target:counter". Its fields
// are those of duis.RequestID, so store.RequestID(id) converts one.
type RequestID struct {
	Originator eui.EUI
	Target     eui.EUI
	Counter    uint64
}

// String is the DUIS form.
func (r RequestID) String() string {
	return r.Originator.String() + ":" + r.Target.String() + ":" + strconv.FormatUint(r.Counter, 10)
}

// IsZero reports whether r is unset.
func (r RequestID) IsZero() bool { return r == RequestID{} }

// The replay guard: one row per (originator, target) holding the last
// accepted counter. The upsert updates the row only when the new counter is
// strictly greater, so "is it greater?" and "remember it" are one atomic
// statement: two callers racing with the same counter cannot both change
// the row (PostgreSQL re-checks the WHERE against the row the winner
// committed; SQLite has one writer), and the loser sees 0 rows affected.
const acceptSQL = `INSERT INTO request_counters (originator_eui, target_eui, last_counter) VALUES (?, ?, ?)
	ON CONFLICT (originator_eui, target_eui) DO UPDATE SET last_counter = excluded.last_counter
	WHERE request_counters.last_counter < excluded.last_counter`

// AcceptRequestID records counter as the last accepted from originator for
// target if it is strictly greater than the one before (any counter is
// accepted first time), and otherwise returns an error wrapping ErrReplay.
// Of several concurrent callers with the same counter, exactly one gets nil.
//
// ReceiveRequest does the same and also records the request; this method
// is the guard alone.
func (db *DB) AcceptRequestID(ctx context.Context, originator, target eui.EUI, counter uint64) error {
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.accept(ctx, tx, RequestID{originator, target, counter})
	})
}

func (db *DB) accept(ctx context.Context, tx *sql.Tx, id RequestID) error {
	res, err := tx.ExecContext(ctx, db.q(acceptSQL), euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter))
	if err != nil {
		return fmt.Errorf("store: accept %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: accept %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrReplay, id)
	}
	return nil
}

// LastAcceptedCounter is the last RequestID counter accepted from
// originator for target; ok is false when none was. A read for callers
// that must not do something costly (reserve a QuarantineEventRef) for a
// request the replay guard will refuse; the guard itself is AcceptRequestID
// and ReceiveRequest.
func (db *DB) LastAcceptedCounter(ctx context.Context, originator, target eui.EUI) (last uint64, ok bool, err error) {
	var b []byte
	err = db.r.QueryRowContext(ctx, db.q(`SELECT last_counter FROM request_counters WHERE originator_eui = ? AND target_eui = ?`),
		euiArg(originator), euiArg(target)).Scan(&b)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("store: last counter from %s for %s: %w", originator, target, err)
	}
	if last, err = scanU64(b); err != nil {
		return 0, false, err
	}
	return last, true, nil
}

// HighestAcceptedCounter is the greatest counter the replay guard holds
// for any originator and target (0 when it holds none), so a bulk load can
// number its requests after everything already accepted.
func (db *DB) HighestAcceptedCounter(ctx context.Context) (uint64, error) {
	var b []byte
	// Counters are stored big-endian in 8 bytes: byte order is number order.
	// (PostgreSQL has no max(bytea).)
	err := db.r.QueryRowContext(ctx, `SELECT last_counter FROM request_counters ORDER BY last_counter DESC LIMIT 1`).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: highest accepted counter: %w", err)
	}
	return scanU64(b)
}
