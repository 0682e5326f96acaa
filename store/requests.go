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
	// RequestQuarantined: held by anomaly detection (product.md §4) until
	// its hold is decided. Not final, yet not unfinished either: nothing
	// but a decision (DecideHolds) may move it, so recovery leaves it be.
	RequestQuarantined RequestState = "quarantined"
	RequestSigned      RequestState = "signed"    // its command is signed
	RequestSent        RequestState = "sent"      // its command is dispatched
	RequestResponded   RequestState = "responded" // the device answered
	RequestFailed      RequestState = "failed"    // gave up (internal error, no answer)
)

// requestPredecessors lists, for each state, the states a request may enter
// it from. Nothing goes backwards and nothing leaves a final state, so a
// request is answered once. Responded may follow signed directly because a
// device can answer before the dispatcher has recorded the send. A
// quarantined request is recorded so (RecordRequest) and leaves only when
// its hold is released (authorised) or deleted or expired (rejected).
var requestPredecessors = map[RequestState][]RequestState{
	RequestRejected:   {RequestReceived, RequestAuthorised, RequestQuarantined},
	RequestAuthorised: {RequestReceived, RequestQuarantined},
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
	Document     []byte      // the signed request as received; nil if not kept
	Party        string      // the requesting party's SEC Party ID; "" if unknown
	ExecuteAt    time.Time   // zero: immediate
	Cancel       bool        // it cancels a future-dated request
	MPID         *MPIDRecord // nil when refused before step 8
}

// Received is a request that passed signature verification, with the
// outcome of the checks made before it was stored.
type Received struct {
	ID        RequestID
	At        time.Time
	Document  []byte    // the signed request as received
	Party     string    // the requesting party's SEC Party ID; "" if unknown
	ExecuteAt time.Time // zero: immediate
	Cancel    bool
	// State is RequestReceived, RequestAuthorised, RequestRejected or
	// RequestQuarantined: the states a request can reach before anything
	// is signed for it.
	State        RequestState
	Reason       string
	ResponseCode string
	// Response, if not nil, is stored in the same transaction (the
	// acknowledgement), so the User is never told of a request that was
	// not recorded. Its RequestID is set to ID, and a zero CreatedAt to At.
	Response *Response
	// MPID is step 8's outcome; nil when the request was refused before.
	MPID *MPIDRecord
	// Hold is required if and only if State is RequestQuarantined. It and
	// its alert are stored in the same transaction as the request, so no
	// request is held without its hold, nor a User alerted about a hold
	// that was not kept.
	Hold *Hold
}

// MPIDRecord is one request's MPID usage (product.md §3).
type MPIDRecord struct {
	Outcome      string // "S", "I" or "M"
	Presented    string // the MPID the signing certificate carries; "" for M
	Expected     string // the MPID the registered supplier holds the MPxN under
	SignerSerial string // the signing certificate's serial, lower-case hex
}

func (m *MPIDRecord) validate() error {
	switch m.Outcome {
	case "S", "I", "M":
		return nil
	}
	return fmt.Errorf("MPID outcome %q is not S, I or M", m.Outcome)
}

// RequestUpdate moves a request to state To at time At. An empty Reason or
// ResponseCode leaves the stored one as it is.
type RequestUpdate struct {
	To           RequestState
	Reason       string
	ResponseCode string
	At           time.Time
	// Response, if not nil, is added in the same transaction as the move,
	// so a request never reaches a final state without the response that
	// tells the User. Its RequestID is set to the request's, and a zero
	// CreatedAt to At.
	Response *Response
}

// ReceiveRequest records request id in state received at time at, with
// nothing else known about it; see RecordRequest.
func (db *DB) ReceiveRequest(ctx context.Context, id RequestID, at time.Time) error {
	return db.RecordRequest(ctx, Received{ID: id, At: at, State: RequestReceived})
}

// RecordRequest passes r.ID through the replay guard (see AcceptRequestID)
// and records the request, r.Response and r.Hold if any, in one
// transaction: a request is stored if and only if its counter was
// accepted. A replay returns an error wrapping ErrReplay and records
// nothing; so does a hold whose Ref is taken (ErrDuplicate).
func (db *DB) RecordRequest(ctx context.Context, r Received) error {
	p, err := r.prepare()
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.record(ctx, tx, p)
	})
}

// RecordRequests records rs as RecordRequest would record each in turn,
// with the same checks and statements, but in one transaction: all of them
// or, if any is refused (a replay, an invalid one), none, with an error
// naming its index in rs. For bulk loads (the traffic generator), where a
// commit per request would be the whole cost.
func (db *DB) RecordRequests(ctx context.Context, rs []Received) error {
	ps := make([]recordable, len(rs))
	for i, r := range rs {
		p, err := r.prepare()
		if err != nil {
			return fmt.Errorf("request %d of %d: %w", i, len(rs), err)
		}
		ps[i] = p
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, p := range ps {
			if err := db.record(ctx, tx, p); err != nil {
				return fmt.Errorf("request %d of %d: %w", i, len(rs), err)
			}
		}
		return nil
	})
}

// recordable is a Received that passed its checks, with what they derived.
type recordable struct {
	r    Received
	resp *Response
	hold *Hold
	mpid MPIDRecord
}

// prepare checks r as far as it can without the database.
func (r Received) prepare() (recordable, error) {
	switch r.State {
	case RequestReceived, RequestAuthorised, RequestRejected, RequestQuarantined:
	default:
		return recordable{}, invalidf("request %s: cannot be recorded in state %q", r.ID, r.State)
	}
	if (r.State == RequestQuarantined) != (r.Hold != nil) {
		return recordable{}, invalidf("request %s: state %q with hold %v: a hold goes with state %q and only with it",
			r.ID, r.State, r.Hold != nil, RequestQuarantined)
	}
	p := recordable{r: r}
	var err error
	if p.resp, err = responseFor(r.ID, r.Response, r.At); err != nil {
		return recordable{}, err
	}
	if r.Hold != nil {
		if p.hold, err = r.Hold.readyFor(r.ID, r.At); err != nil {
			return recordable{}, err
		}
	}
	if r.MPID != nil {
		if err := r.MPID.validate(); err != nil {
			return recordable{}, invalidf("request %s: %v", r.ID, err)
		}
		p.mpid = *r.MPID
	}
	return p, nil
}

// record is one request's writes: the replay guard, the row, its response
// and its hold.
func (db *DB) record(ctx context.Context, tx *sql.Tx, p recordable) error {
	const q = `INSERT INTO requests (originator_eui, target_eui, counter, received_at_us, updated_at_us, state,
		reason, response_code, document, party_id, execute_at_us, is_cancel,
		mpid_outcome, mpid_presented, mpid_expected, signer_serial)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	r, mpid := p.r, p.mpid
	if err := db.accept(ctx, tx, r.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, db.q(q), euiArg(r.ID.Originator), euiArg(r.ID.Target), u64Arg(r.ID.Counter),
		timeArg(r.At), timeArg(r.At), string(r.State), r.Reason, r.ResponseCode,
		nullBytesArg(r.Document), r.Party, nullTimeArg(r.ExecuteAt), boolArg(r.Cancel),
		mpid.Outcome, mpid.Presented, mpid.Expected, mpid.SignerSerial)
	if db.d.isUnique(err) {
		// Only if the guard row was removed by hand: the guard is the
		// authority, but a request is never recorded twice.
		return fmt.Errorf("%w: request %s", ErrDuplicate, r.ID)
	}
	if err != nil {
		return fmt.Errorf("store: record request %s: %w", r.ID, err)
	}
	if p.resp != nil {
		if _, err := db.addResponse(ctx, tx, *p.resp); err != nil {
			return err
		}
	}
	if p.hold != nil {
		return db.addHold(ctx, tx, r, *p.hold)
	}
	return nil
}

// UpdateRequest moves request id to u.To if the state machine allows it
// from the state it is in, and otherwise returns a *TransitionError
// (ErrTransition), or ErrNotFound for an unknown request. u.Response is
// added only if the move is made. A quarantined request is refused too:
// only deciding its hold (DecideHolds) moves it, so the two never disagree.
func (db *DB) UpdateRequest(ctx context.Context, id RequestID, u RequestUpdate) error {
	_, ok := requestPredecessors[u.To]
	if !ok {
		return invalidf("request %s: %q is not a state a request can be moved to", id, u.To)
	}
	resp, err := responseFor(id, u.Response, u.At)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.updateRequest(ctx, tx, id, u, resp)
	})
}

func (db *DB) updateRequest(ctx context.Context, tx *sql.Tx, id RequestID, u RequestUpdate, resp *Response) error {
	return db.moveRequest(ctx, tx, id, u, resp, false)
}

// moveRequest moves request id to u.To from the predecessors
// requestPredecessors allows: only RequestQuarantined if held, as a hold is
// decided, and all but it otherwise.
func (db *DB) moveRequest(ctx context.Context, tx *sql.Tx, id RequestID, u RequestUpdate, resp *Response, held bool) error {
	var from []RequestState
	for _, s := range requestPredecessors[u.To] {
		if (s == RequestQuarantined) == held {
			from = append(from, s)
		}
	}
	if len(from) == 0 {
		return invalidf("request %s: nothing moves to %q from a state held=%v", id, u.To, held)
	}
	q := `UPDATE requests SET state = ?, reason = COALESCE(NULLIF(?, ''), reason),
		response_code = COALESCE(NULLIF(?, ''), response_code), updated_at_us = ?
		WHERE originator_eui = ? AND target_eui = ? AND counter = ? AND state IN (` + placeholders(len(from)) + `)`
	args := []any{string(u.To), u.Reason, u.ResponseCode, timeArg(u.At), euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter)}
	for _, s := range from {
		args = append(args, string(s))
	}
	res, err := tx.ExecContext(ctx, db.q(q), args...)
	if err != nil {
		return fmt.Errorf("store: update request %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: update request %s: %w", id, err)
	}
	if n == 1 {
		if resp != nil {
			_, err = db.addResponse(ctx, tx, *resp)
		}
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
}

const requestCols = `originator_eui, target_eui, counter, state, reason, response_code, received_at_us, updated_at_us,
	document, party_id, execute_at_us, is_cancel, mpid_outcome, mpid_presented, mpid_expected, signer_serial`

func scanRequest(r *sql.Rows) (Request, error) {
	var o, t, c []byte
	var received, updated, cancel int64
	var execute sql.NullInt64
	var req Request
	var mpid MPIDRecord
	err := r.Scan(&o, &t, &c, &req.State, &req.Reason, &req.ResponseCode, &received, &updated,
		&req.Document, &req.Party, &execute, &cancel, &mpid.Outcome, &mpid.Presented, &mpid.Expected, &mpid.SignerSerial)
	if mpid.Outcome != "" {
		req.MPID = &mpid
	}
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
	req.ExecuteAt, req.Cancel = nullTimeOf(execute), cancel != 0
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

// CountRequests returns how many requests are in each state; a state no
// request is in is absent. It reads the whole table: for metrics and
// tests, not for every request.
func (db *DB) CountRequests(ctx context.Context) (map[RequestState]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT state, count(*) FROM requests GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: count requests: %w", err)
	}
	type stateCount struct {
		state RequestState
		n     int
	}
	counts, err := scanAll(rows, func(r *sql.Rows) (stateCount, error) {
		var c stateCount
		err := r.Scan(&c.state, &c.n)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: count requests: %w", err)
	}
	m := make(map[RequestState]int, len(counts))
	for _, c := range counts {
		m[c.state] = c.n
	}
	return m, nil
}

// AnyRequestReceived reports whether a request received in [from, to) is
// stored, so a bulk load can refuse to mix into a period already recorded.
func (db *DB) AnyRequestReceived(ctx context.Context, from, to time.Time) (bool, error) {
	var one int
	err := db.r.QueryRowContext(ctx, db.q(`SELECT 1 FROM requests WHERE received_at_us >= ? AND received_at_us < ? LIMIT 1`),
		timeArg(from), timeArg(to)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: requests received from %s to %s: %w", from, to, err)
	}
	return true, nil
}
