package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// HoldDecision is what becomes of one hold.
type HoldDecision struct {
	Ref uint64
	To  HoldState // HoldReleased, HoldDeleted or HoldExpired
	// For HoldDeleted and HoldExpired: the request's rejection reason and
	// DUIS code (empty leaves the stored one), and the document telling
	// the User, required. Release takes none of them: the request goes
	// on, and its answer comes when the device's does.
	Reason, ResponseCode string
	Response             *Response
}

// RefusedHold is one decision DecideHolds refused.
type RefusedHold struct {
	Ref uint64
	// State is the hold's state; "" when there is no such hold, or it is
	// another User's (which the caller is not told apart).
	State HoldState
	// Err wraps ErrNotFound, or is a *TransitionError from State.
	Err error
}

// DecisionError lists every decision DecideHolds refused. None of the
// call's decisions was applied.
type DecisionError struct {
	Refused []RefusedHold
}

func (e *DecisionError) Error() string {
	msgs := make([]string, len(e.Refused))
	for i, r := range e.Refused {
		if r.State == "" {
			msgs[i] = fmt.Sprintf("%d not found", r.Ref)
		} else {
			msgs[i] = fmt.Sprintf("%d already %s", r.Ref, r.State)
		}
	}
	return fmt.Sprintf("store: no hold decided: QuarantineEventRef %s", strings.Join(msgs, ", "))
}

// Unwrap makes errors.Is(err, ErrNotFound) hold if a ref was unknown, and
// errors.Is(err, ErrTransition) if one was already decided.
func (e *DecisionError) Unwrap() []error {
	errs := make([]error, len(e.Refused))
	for i, r := range e.Refused {
		errs[i] = r.Err
	}
	return errs
}

// DecideHolds applies every decision in ds in one transaction, or none.
// Each ref must name a hold that is still held and, if user is not nil,
// belongs to *user; otherwise nothing changes and the *DecisionError names
// every offending ref (another User's hold reads as not found, so a User's
// action file learns nothing of others'). Releasing moves the request from
// quarantined to authorised, ready for step 10; deleting or expiring moves
// it to rejected with the decision's Reason, ResponseCode and Response.
// at and by (who decided: "operator:<name>", "action-file:<sha256
// prefix>" or "expiry") are recorded with each hold. It returns the
// decided holds, in the order of ds.
func (db *DB) DecideHolds(ctx context.Context, user *eui.EUI, ds []HoldDecision, at time.Time, by string) ([]Held, error) {
	if by == "" {
		return nil, invalidf("hold decisions: who decided is not given")
	}
	if at.IsZero() {
		return nil, invalidf("hold decisions: no time")
	}
	seen := make(map[uint64]bool, len(ds))
	for _, d := range ds {
		if seen[d.Ref] {
			return nil, invalidf("hold decisions: QuarantineEventRef %d decided twice", d.Ref)
		}
		seen[d.Ref] = true
		if err := d.validate(at); err != nil {
			return nil, err
		}
	}
	// Ref order, so two calls sharing refs take PostgreSQL's row locks in
	// the same order and cannot deadlock.
	order := slices.Clone(ds)
	slices.SortFunc(order, func(a, b HoldDecision) int { return cmp.Compare(a.Ref, b.Ref) })
	decided := make(map[uint64]Held, len(ds))
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var refused []RefusedHold
		for _, d := range order {
			h, r, err := db.decideHold(ctx, tx, user, d, at, by)
			if err != nil {
				return err
			}
			if r != nil {
				refused = append(refused, *r)
				continue
			}
			decided[d.Ref] = h
		}
		if refused != nil {
			return &DecisionError{Refused: refused}
		}
		for _, d := range order {
			if err := db.decideRequest(ctx, tx, decided[d.Ref].Request, d, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Held, len(ds))
	for i, d := range ds {
		out[i] = decided[d.Ref]
	}
	return out, nil
}

func (d HoldDecision) validate(at time.Time) error {
	switch d.To {
	case HoldReleased:
		if d.Response != nil || d.Reason != "" || d.ResponseCode != "" {
			return invalidf("hold %d: a release takes no reason, code or response", d.Ref)
		}
		return nil
	case HoldDeleted, HoldExpired:
		if d.Response == nil {
			return invalidf("hold %d: %s without the response telling the User", d.Ref, d.To)
		}
		// The request is not known yet; the response is checked again,
		// with it, once the hold is read.
		_, err := responseFor(RequestID{}, d.Response, at)
		return err
	}
	return invalidf("hold %d: cannot decide to %q", d.Ref, d.To)
}

// decideHold moves hold d.Ref from held to d.To inside tx and returns it,
// or says why it cannot.
func (db *DB) decideHold(ctx context.Context, tx *sql.Tx, user *eui.EUI, d HoldDecision, at time.Time, by string) (Held, *RefusedHold, error) {
	q := `UPDATE quarantine SET state = ?, decided_at_us = ?, decided_by = ? WHERE ref = ? AND state = 'held'`
	args := []any{string(d.To), timeArg(at), by, u64Arg(d.Ref)}
	if user != nil {
		q += ` AND user_eui = ?`
		args = append(args, euiArg(*user))
	}
	rows, err := tx.QueryContext(ctx, db.q(q+` RETURNING `+heldCols), args...)
	var hs []Held
	if err == nil {
		hs, err = scanAll(rows, scanHeld)
	}
	if err != nil {
		return Held{}, nil, fmt.Errorf("store: decide hold %d: %w", d.Ref, err)
	}
	if len(hs) == 1 {
		return hs[0], nil, nil
	}
	var state string
	var owner []byte
	err = tx.QueryRowContext(ctx, db.q(`SELECT state, user_eui FROM quarantine WHERE ref = ?`), u64Arg(d.Ref)).Scan(&state, &owner)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && user != nil && string(owner) != string(euiArg(*user)):
		return Held{}, &RefusedHold{Ref: d.Ref, Err: fmt.Errorf("%w: hold %d", ErrNotFound, d.Ref)}, nil
	case err != nil:
		return Held{}, nil, fmt.Errorf("store: decide hold %d: %w", d.Ref, err)
	}
	return Held{}, &RefusedHold{Ref: d.Ref, State: HoldState(state), Err: &TransitionError{
		Entity: "hold", Key: strconv.FormatUint(d.Ref, 10), From: state, To: string(d.To),
	}}, nil
}

// decideRequest moves the request a decided hold held.
func (db *DB) decideRequest(ctx context.Context, tx *sql.Tx, id RequestID, d HoldDecision, at time.Time) error {
	u := RequestUpdate{To: RequestAuthorised, At: at}
	if d.To != HoldReleased {
		u = RequestUpdate{To: RequestRejected, Reason: d.Reason, ResponseCode: d.ResponseCode, At: at}
	}
	resp, err := responseFor(id, d.Response, at)
	if err != nil {
		return err
	}
	return db.moveRequest(ctx, tx, id, u, resp, true)
}
