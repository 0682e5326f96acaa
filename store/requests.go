package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RequestState is where a DUIS request is in the 6.23 pipeline.
type RequestState string

// Request states. Rejected, responded and failed are final.
const (
	RequestReceived   RequestState = "received"   // signature verified, not a replay
	RequestRejected   RequestState = "rejected"   // refused by a check; Reason says which
	RequestAuthorised RequestState = "authorised" // every check passed
	RequestSigned     RequestState = "signed"     // its command is signed
	RequestSent       RequestState = "sent"       // its command is dispatched
	RequestResponded  RequestState = "responded"  // the device answered
	RequestFailed     RequestState = "failed"     // gave up (internal error, no answer)
)

// requestPredecessors lists, for each state, the states a request may enter
// it from. Nothing goes backwards and nothing leaves a final state, so a
// request is answered once. Responded may follow signed directly because a
// device can answer before the dispatcher has recorded the send.
var requestPredecessors = map[RequestState][]RequestState{
	RequestRejected:   {RequestReceived, RequestAuthorised},
	RequestAuthorised: {RequestReceived},
	RequestSigned:     {RequestAuthorised},
	RequestSent:       {RequestSigned},
	RequestResponded:  {RequestSigned, RequestSent},
	RequestFailed:     {RequestReceived, RequestAuthorised, RequestSigned, RequestSent},
}

// Request is the stored record of a DUIS request.
type Request struct {
	ID           RequestID
	State        RequestState
	Reason       string // stable machine name of the rejection or failure, e.g. "mpid-mismatch"
	ResponseCode string // the DUIS response code sent back
	ReceivedAt   time.Time
	UpdatedAt    time.Time
}

// RequestUpdate moves a request to state To at time At. An empty Reason or
// ResponseCode leaves the stored one as it is.
type RequestUpdate struct {
	To           RequestState
	Reason       string
	ResponseCode string
	At           time.Time
}

// ReceiveRequest passes id through the replay guard (see AcceptRequestID)
// and records the request in state received at time at, in one
// transaction: a request is stored if and only if its counter was accepted.
// A replay returns an error wrapping ErrReplay and records nothing.
func (db *DB) ReceiveRequest(ctx context.Context, id RequestID, at time.Time) error {
	const q = `INSERT INTO requests (originator_eui, target_eui, counter, received_at_us, updated_at_us, state)
		VALUES (?, ?, ?, ?, ?, ?)`
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.accept(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.q(q), euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter),
			timeArg(at), timeArg(at), string(RequestReceived))
		if db.d.isUnique(err) {
			// Only if the guard row was removed by hand: the guard is the
			// authority, but a request is never recorded twice.
			return fmt.Errorf("%w: request %s", ErrDuplicate, id)
		}
		if err != nil {
			return fmt.Errorf("store: record request %s: %w", id, err)
		}
		return nil
	})
}

// UpdateRequest moves request id to u.To if the state machine allows it
// from the state it is in, and otherwise returns a *TransitionError
// (ErrTransition), or ErrNotFound for an unknown request.
func (db *DB) UpdateRequest(ctx context.Context, id RequestID, u RequestUpdate) error {
	from, ok := requestPredecessors[u.To]
	if !ok {
		return invalidf("request %s: %q is not a state a request can be moved to", id, u.To)
	}
	q := `UPDATE requests SET state = ?, reason = COALESCE(NULLIF(?, ''), reason),
		response_code = COALESCE(NULLIF(?, ''), response_code), updated_at_us = ?
		WHERE originator_eui = ? AND target_eui = ? AND counter = ? AND state IN (` + placeholders(len(from)) + `)`
	args := []any{string(u.To), u.Reason, u.ResponseCode, timeArg(u.At), euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter)}
	for _, s := range from {
		args = append(args, string(s))
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(q), args...)
		if err != nil {
			return fmt.Errorf("store: update request %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var state string
		err = tx.QueryRowContext(ctx, db.q(`SELECT state FROM requests WHERE originator_eui = ? AND target_eui = ? AND counter = ?`),
			euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter)).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: request %s", ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("store: update request %s: %w", id, err)
		}
		return &TransitionError{Entity: "request", Key: id.String(), From: state, To: string(u.To)}
	})
}

const requestCols = `originator_eui, target_eui, counter, state, reason, response_code, received_at_us, updated_at_us`

func scanRequest(r *sql.Rows) (Request, error) {
	var o, t, c []byte
	var received, updated int64
	var req Request
	err := r.Scan(&o, &t, &c, &req.State, &req.Reason, &req.ResponseCode, &received, &updated)
	if err == nil {
		req.ID.Originator, err = scanEUI(o)
	}
	if err == nil {
		req.ID.Target, err = scanEUI(t)
	}
	if err == nil {
		req.ID.Counter, err = scanU64(c)
	}
	req.ReceivedAt, req.UpdatedAt = timeOf(received), timeOf(updated)
	return req, err
}

// Request returns the stored request id, or ErrNotFound.
func (db *DB) Request(ctx context.Context, id RequestID) (Request, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+requestCols+` FROM requests
		WHERE originator_eui = ? AND target_eui = ? AND counter = ?`), euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter))
	var reqs []Request
	if err == nil {
		reqs, err = scanAll(rows, scanRequest)
	}
	if err != nil {
		return Request{}, fmt.Errorf("store: request %s: %w", id, err)
	}
	if len(reqs) == 0 {
		return Request{}, fmt.Errorf("%w: request %s", ErrNotFound, id)
	}
	return reqs[0], nil
}

// UnfinishedRequests returns up to limit requests not yet in a final state,
// oldest first: after a restart, each must be driven to one.
func (db *DB) UnfinishedRequests(ctx context.Context, limit int) ([]Request, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+requestCols+` FROM requests
		WHERE state IN ('received', 'authorised', 'signed', 'sent') ORDER BY received_at_us LIMIT ?`), limit)
	var reqs []Request
	if err == nil {
		reqs, err = scanAll(rows, scanRequest)
	}
	if err != nil {
		return nil, fmt.Errorf("store: unfinished requests: %w", err)
	}
	return reqs, nil
}
