package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

// ReserveCounter hands out the next originator counter of namespace key
// (e.g. "cos"): 1 the first time, then strictly increasing. The reservation
// is committed before it returns, so a counter returned is never returned
// again, whatever happens afterwards (a caller that crashes, or whose later
// transaction rolls back, simply burns it).
//
// It is one upsert on one row: on PostgreSQL the row lock orders
// concurrent callers, in any number of processes; on SQLite the single
// write lock does. Throughput is therefore one commit at a time per key;
// docs/storage.md has the figures.
func (db *DB) ReserveCounter(ctx context.Context, key string) (uint64, error) {
	var v uint64
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		v, err = db.reserveCounter(ctx, tx, key)
		return err
	})
	return v, err
}

func (db *DB) reserveCounter(ctx context.Context, tx *sql.Tx, key string) (uint64, error) {
	const q = `INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
		WHERE counters.value < ?
		RETURNING value`
	if key == "" {
		return 0, invalidf("counter name is empty")
	}
	var v int64
	err := tx.QueryRowContext(ctx, db.q(q), key, int64(math.MaxInt64)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		// The WHERE refused the update: the counter is at 2⁶³−1. (SQLite
		// would otherwise turn the sum into a float.)
		return 0, fmt.Errorf("%w: %s", ErrCounterExhausted, key)
	}
	if err != nil {
		return 0, fmt.Errorf("store: reserve counter %s: %w", key, err)
	}
	return uint64(v), nil
}

// RaiseCounter makes the next ReserveCounter of key return more than
// floor, and does nothing if it would already. A key (the TCoS key, say)
// taken over from another party must continue above the last counter that
// party used, or devices would refuse its commands.
func (db *DB) RaiseCounter(ctx context.Context, key string, floor uint64) error {
	const q = `INSERT INTO counters (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value =
			CASE WHEN counters.value < excluded.value THEN excluded.value ELSE counters.value END`
	if key == "" {
		return invalidf("counter name is empty")
	}
	if floor >= math.MaxInt64 {
		return fmt.Errorf("%w: %s: floor %d leaves no counter", ErrCounterExhausted, key, floor)
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(q), key, int64(floor)); err != nil {
			return fmt.Errorf("store: raise counter %s: %w", key, err)
		}
		return nil
	})
}
