package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// ResponseKind is which DUIS document a response is.
type ResponseKind string

// Response kinds.
const (
	ResponseAcknowledgement ResponseKind = "acknowledgement" // the synchronous answer to the request
	ResponseService         ResponseKind = "response"        // the service response, once the device answered
	ResponseAlert           ResponseKind = "alert"           // a DCC alert about the request
)

// The codes of the device's future-dated execution alerts (GBCS 8F66
// actioned, 8F67 not actioned) as a ResponseAlert stores them: the only
// alerts that end a future-dated request's life on the device. A
// quarantine's DCC alert (AD1) is a ResponseAlert too and ends nothing.
const (
	AlertFutureDatedActioned    = "8F66"
	AlertFutureDatedNotActioned = "8F67"
)

// ResponseID identifies a stored response. IDs only grow and are never
// reused, so a pusher can walk the unpushed ones from where it stopped.
type ResponseID int64

// Response is a signed DUIS document sent (or to be sent) to the User about
// a request.
type Response struct {
	ID        ResponseID
	RequestID RequestID
	Kind      ResponseKind
	Code      string // DUIS ResponseCode
	Document  []byte
	CreatedAt time.Time
	// PushedAt is zero until the document was delivered. AddResponse
	// stores a non-zero one as given: an acknowledgement is delivered
	// synchronously, in the reply to the request.
	PushedAt     time.Time
	PushAttempts int       // failed deliveries so far
	PushError    string    // why the last delivery failed
	PushFailedAt time.Time // when the last delivery failed; zero if none did
}

func (r *Response) validate() error {
	switch {
	case r.Kind != ResponseAcknowledgement && r.Kind != ResponseService && r.Kind != ResponseAlert:
		return invalidf("response to %s: unknown kind %q", r.RequestID, r.Kind)
	case r.Code == "":
		return invalidf("response to %s: empty response code", r.RequestID)
	case len(r.Document) == 0:
		return invalidf("response to %s: empty document", r.RequestID)
	case r.PushAttempts < 0:
		return invalidf("response to %s: %d push attempts", r.RequestID, r.PushAttempts)
	}
	return nil
}

// responseFor readies r, if any, to be stored with a write to request id
// made at time at.
func responseFor(id RequestID, r *Response, at time.Time) (*Response, error) {
	if r == nil {
		return nil, nil
	}
	c := *r
	c.RequestID = id
	if c.CreatedAt.IsZero() {
		c.CreatedAt = at
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// AddResponse stores r and returns its ID. The request it answers must be
// stored (ErrNotFound otherwise). r.ID is ignored.
func (db *DB) AddResponse(ctx context.Context, r Response) (ResponseID, error) {
	if err := r.validate(); err != nil {
		return 0, err
	}
	var id ResponseID
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		id, err = db.addResponse(ctx, tx, r)
		return err
	})
	return id, err
}

// addResponse inserts r, already validated, inside tx.
func (db *DB) addResponse(ctx context.Context, tx *sql.Tx, r Response) (ResponseID, error) {
	const q = `INSERT INTO responses (originator_eui, target_eui, counter, kind, response_code, document,
		created_at_us, pushed_at_us, push_attempts, push_error, push_failed_at_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING response_id`
	var id ResponseID
	err := tx.QueryRowContext(ctx, db.q(q), euiArg(r.RequestID.Originator), euiArg(r.RequestID.Target),
		u64Arg(r.RequestID.Counter), string(r.Kind), r.Code, r.Document, timeArg(r.CreatedAt),
		nullTimeArg(r.PushedAt), r.PushAttempts, r.PushError, nullTimeArg(r.PushFailedAt)).Scan(&id)
	if db.d.isForeignKey(err) {
		return 0, fmt.Errorf("%w: request %s (response %s)", ErrNotFound, r.RequestID, r.Kind)
	}
	if err != nil {
		return 0, fmt.Errorf("store: add %s to request %s: %w", r.Kind, r.RequestID, err)
	}
	return id, nil
}

// Responses returns the responses to request id, oldest first: an empty
// slice if it has none, ErrNotFound if the request is not stored.
func (db *DB) Responses(ctx context.Context, id RequestID) ([]Response, error) {
	key := []any{euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter)}
	var rs []Response
	// One snapshot, so a request stored between the two queries cannot
	// read as missing with responses.
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.q(`SELECT `+responseCols+` FROM responses
			WHERE originator_eui = ? AND target_eui = ? AND counter = ? ORDER BY response_id`), key...)
		if err == nil {
			rs, err = scanAll(rows, scanResponse)
		}
		if err != nil || len(rs) > 0 {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM requests
			WHERE originator_eui = ? AND target_eui = ? AND counter = ?`), key...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: request %s", ErrNotFound, id)
		}
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("store: responses to %s: %w", id, err)
	}
	if rs == nil {
		rs = []Response{}
	}
	return rs, nil
}

// UnpushedResponses returns up to limit responses not yet delivered whose
// ID is above after, in ID order: a pusher passes the last ID it saw to
// go on from there.
func (db *DB) UnpushedResponses(ctx context.Context, after ResponseID, limit int) ([]Response, error) {
	return db.unpushed(ctx, ``, nil, after, limit)
}

// UnpushedResponsesOf is UnpushedResponses for the requests user
// originated. It reads only that User's responses (an index), so the
// responses of Users that are never pushed to cost it nothing.
func (db *DB) UnpushedResponsesOf(ctx context.Context, user eui.EUI, after ResponseID, limit int) ([]Response, error) {
	return db.unpushed(ctx, ` AND originator_eui = ?`, []any{euiArg(user)}, after, limit)
}

func (db *DB) unpushed(ctx context.Context, where string, args []any, after ResponseID, limit int) ([]Response, error) {
	if limit < 1 {
		return nil, invalidf("unpushed responses: limit %d", limit)
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+responseCols+` FROM responses
		WHERE pushed_at_us IS NULL`+where+` AND response_id > ? ORDER BY response_id LIMIT ?`),
		append(args, int64(after), limit)...)
	var rs []Response
	if err == nil {
		rs, err = scanAll(rows, scanResponse)
	}
	if err != nil {
		return nil, fmt.Errorf("store: unpushed responses: %w", err)
	}
	if rs == nil {
		rs = []Response{}
	}
	return rs, nil
}

// MarkPushed records that response id was delivered at time at, or
// ErrNotFound. Marking it again keeps the first time: that is when the User
// had it.
func (db *DB) MarkPushed(ctx context.Context, id ResponseID, at time.Time) error {
	return db.updateResponse(ctx, id, `pushed_at_us = COALESCE(pushed_at_us, ?)`, timeArg(at))
}

// NotePushFailure records that delivering response id failed at time at
// with msg, counting the attempt, or returns ErrNotFound. The response
// stays unpushed.
func (db *DB) NotePushFailure(ctx context.Context, id ResponseID, msg string, at time.Time) error {
	return db.updateResponse(ctx, id, `push_attempts = push_attempts + 1, push_error = ?, push_failed_at_us = ?`,
		msg, timeArg(at))
}

func (db *DB) updateResponse(ctx context.Context, id ResponseID, set string, args ...any) error {
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE responses SET `+set+` WHERE response_id = ?`), append(args, int64(id))...)
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("store: response %d: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("%w: response %d", ErrNotFound, id)
		}
		return nil
	})
}

const responseCols = `response_id, originator_eui, target_eui, counter, kind, response_code, document,
	created_at_us, pushed_at_us, push_attempts, push_error, push_failed_at_us`

func scanResponse(r *sql.Rows) (Response, error) {
	var resp Response
	var o, t, c []byte
	var created int64
	var pushed, failed sql.NullInt64
	err := r.Scan(&resp.ID, &o, &t, &c, &resp.Kind, &resp.Code, &resp.Document, &created, &pushed,
		&resp.PushAttempts, &resp.PushError, &failed)
	if err == nil {
		resp.RequestID.Originator, err = scanEUI(o)
	}
	if err == nil {
		resp.RequestID.Target, err = scanEUI(t)
	}
	if err == nil {
		resp.RequestID.Counter, err = scanU64(c)
	}
	resp.CreatedAt, resp.PushedAt, resp.PushFailedAt = timeOf(created), nullTimeOf(pushed), nullTimeOf(failed)
	return resp, err
}
