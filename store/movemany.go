package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// moveMany makes moves inside tx as move would, one by one, but with one
// UPDATE for each group of moves that set the same columns to the same
// values and one INSERT for their history: a wave moves hundreds of
// devices the same way at once, and on PostgreSQL every statement is a
// round trip. Each move is still a compare-and-set on its device's state;
// a refused one (*TransitionError, ErrNotFound, a bad argument) is in its
// slot of errs and wrote nothing. A batch naming a device twice is made
// one move at a time, in order, as its later moves depend on its earlier.
func (db *DB) moveMany(ctx context.Context, tx *sql.Tx, moves []Move) (sts []MigrationStatus, errs []error, err error) {
	sts, errs = make([]MigrationStatus, len(moves)), make([]error, len(moves))
	seen := make(map[eui.EUI]bool, len(moves))
	twice := false
	for i := range moves {
		errs[i] = moves[i].check()
		twice = twice || seen[moves[i].Device]
		seen[moves[i].Device] = true
	}
	if twice {
		for i, m := range moves {
			if errs[i] != nil {
				continue
			}
			sts[i], errs[i] = db.move(ctx, tx, m)
			if _, refused := errors.AsType[*TransitionError](errs[i]); !refused && errs[i] != nil && !errors.Is(errs[i], ErrNotFound) {
				return nil, nil, errs[i]
			}
		}
		return sts, errs, nil
	}
	groups := map[string][]int{}
	var order []string
	for i, m := range moves {
		if errs[i] != nil {
			continue
		}
		k := m.groupKey()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var made []int
	for _, k := range order {
		idx := groups[k]
		done, err := db.moveGroup(ctx, tx, moves, idx, sts)
		if err != nil {
			return nil, nil, err
		}
		var refused []int
		for _, i := range idx {
			if done[moves[i].Device] {
				made = append(made, i)
			} else {
				refused = append(refused, i)
			}
		}
		if err := db.whyRefused(ctx, tx, moves, refused, errs); err != nil {
			return nil, nil, err
		}
	}
	if err := db.insertHistory(ctx, tx, moves, made, sts); err != nil {
		return nil, nil, err
	}
	return sts, errs, nil
}

// groupKey is what a move sets, apart from its device: moves with equal
// keys are one UPDATE.
func (m *Move) groupKey() string {
	return fmt.Sprintf("%s|%s|%d|%x|%d|%d|%t", m.From, m.To, m.At.UnixMicro(), m.SKI, m.Wave, m.Due.UnixMicro(), m.SKI == nil)
}

// moveGroup updates the devices idx of moves (all with one groupKey) and
// fills sts for those it moved, which it returns.
func (db *DB) moveGroup(ctx context.Context, tx *sql.Tx, moves []Move, idx []int, sts []MigrationStatus) (map[eui.EUI]bool, error) {
	m := moves[idx[0]]
	set, args := m.setClause()
	args = append(args, string(m.From))
	for _, i := range idx {
		args = append(args, euiArg(moves[i].Device))
	}
	rows, err := tx.QueryContext(ctx, db.q(`UPDATE devices SET `+set+`
		WHERE migration_state = ? AND device_eui IN (`+placeholders(len(idx))+`)
		RETURNING device_eui, migration_seq, migration_attempt`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: move %d devices %s → %s: %w", len(idx), m.From, m.To, err)
	}
	type moved struct {
		d            eui.EUI
		seq, attempt int64
	}
	ms, err := scanAll(rows, func(r *sql.Rows) (moved, error) {
		var x moved
		var b []byte
		if err := r.Scan(&b, &x.seq, &x.attempt); err != nil {
			return x, err
		}
		x.d, err = scanEUI(b)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: move %d devices %s → %s: %w", len(idx), m.From, m.To, err)
	}
	done := make(map[eui.EUI]bool, len(ms))
	byDevice := make(map[eui.EUI]moved, len(ms))
	for _, x := range ms {
		done[x.d] = true
		byDevice[x.d] = x
	}
	since := m.At.UTC().Truncate(time.Microsecond)
	for _, i := range idx {
		if x, ok := byDevice[moves[i].Device]; ok {
			sts[i] = MigrationStatus{State: m.To, Seq: x.seq, Attempt: x.attempt, Since: since}
		}
	}
	return done, nil
}

// setClause is the SET of a move and its arguments, as move writes it.
func (m *Move) setClause() (string, []any) {
	attempt := "migration_attempt"
	switch {
	case m.To == MigrationSent:
		attempt = "migration_attempt + 1"
	case m.From == MigrationException && m.To == MigrationQueued,
		(m.From == MigrationException || m.From == MigrationExcluded) && m.To == MigrationUnknown:
		attempt = "0"
	}
	credential, ski := "cos_credential", "cos_ski"
	args := []any{string(m.To), timeArg(m.At)}
	switch m.To {
	case MigrationTCoS, MigrationECoS, MigrationUnknown:
		credential = "'" + string(m.To) + "'"
		if m.SKI != nil && m.To != MigrationUnknown {
			ski = "?"
			args = append(args, m.SKI)
		}
	}
	wave, due := "migration_wave", "NULL"
	switch {
	case m.To == MigrationQueued && m.Wave != 0:
		wave = "?"
		args = append(args, int64(m.Wave))
	case m.From == MigrationQueued && m.To == MigrationTCoS:
		wave = "NULL"
	}
	if m.To == MigrationRetryWait {
		due = "?"
		at := m.Due
		if at.IsZero() {
			at = m.At
		}
		args = append(args, timeArg(at))
	}
	return `migration_state = ?, migration_seq = migration_seq + 1, migration_attempt = ` + attempt +
		`, migration_since_us = ?, cos_credential = ` + credential + `, cos_ski = ` + ski +
		`, migration_wave = ` + wave + `, migration_due_us = ` + due, args
}

// whyRefused fills errs for the moves idx that found their device
// elsewhere, or no device.
func (db *DB) whyRefused(ctx context.Context, tx *sql.Tx, moves []Move, idx []int, errs []error) error {
	if len(idx) == 0 {
		return nil
	}
	args := make([]any, len(idx))
	for k, i := range idx {
		args[k] = euiArg(moves[i].Device)
	}
	rows, err := tx.QueryContext(ctx, db.q(`SELECT device_eui, migration_state FROM devices WHERE device_eui IN (`+placeholders(len(idx))+`)`), args...)
	if err != nil {
		return fmt.Errorf("store: moves refused: %w", err)
	}
	type state struct {
		d eui.EUI
		s MigrationState
	}
	ss, err := scanAll(rows, func(r *sql.Rows) (state, error) {
		var x state
		var b []byte
		if err := r.Scan(&b, &x.s); err != nil {
			return x, err
		}
		x.d, err = scanEUI(b)
		return x, err
	})
	if err != nil {
		return fmt.Errorf("store: moves refused: %w", err)
	}
	now := make(map[eui.EUI]MigrationState, len(ss))
	for _, x := range ss {
		now[x.d] = x.s
	}
	for _, i := range idx {
		m := moves[i]
		if s, ok := now[m.Device]; ok {
			errs[i] = &TransitionError{Entity: "device", Key: m.Device.String(), From: string(s), To: string(m.To)}
		} else {
			errs[i] = fmt.Errorf("%w: device %s", ErrNotFound, m.Device)
		}
	}
	return nil
}

// historyChunk bounds the rows of one history INSERT (8 arguments each).
const historyChunk = 500

// insertHistory records the moves idx, made, in their devices' histories.
func (db *DB) insertHistory(ctx context.Context, tx *sql.Tx, moves []Move, idx []int, sts []MigrationStatus) error {
	for len(idx) > 0 {
		n := min(len(idx), historyChunk)
		var q strings.Builder
		q.WriteString(`INSERT INTO migration_history (device_eui, seq, at_us, from_state, to_state, cause, attempt, counter) VALUES `)
		args := make([]any, 0, 8*n)
		for k, i := range idx[:n] {
			if k > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			m := moves[i]
			var counter any
			if m.Counter != 0 {
				counter = int64(m.Counter)
			}
			args = append(args, euiArg(m.Device), sts[i].Seq, timeArg(m.At), string(m.From), string(m.To), m.Cause, sts[i].Attempt, counter)
		}
		if _, err := tx.ExecContext(ctx, db.q(q.String()), args...); err != nil {
			return fmt.Errorf("store: history of %d moves: %w", n, db.d.constraint(err))
		}
		idx = idx[n:]
	}
	return nil
}
