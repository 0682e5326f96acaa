package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// QuarantineRefCounter is the ReserveCounter key QuarantineEventRefs come
// from. The ref is reserved before the request is recorded because the
// signed alert that carries it is stored in the same transaction.
const QuarantineRefCounter = "quarantine-event"

// HoldBreach is which threshold a held request crossed: its User's, or the
// DCC-wide one.
type HoldBreach string

// Breaches; the DUIS alert says ADUserThresholdBreach or
// ADDCCThresholdBreach.
const (
	BreachUser HoldBreach = "user"
	BreachDCC  HoldBreach = "dcc"
)

// HoldState is where a hold is. Held is the only state that is not final.
type HoldState string

// Hold states.
const (
	HoldHeld     HoldState = "held"
	HoldReleased HoldState = "released" // the request went on (authorised)
	HoldDeleted  HoldState = "deleted"  // the request was rejected by a decision
	HoldExpired  HoldState = "expired"  // the request was rejected for being held too long
)

// Hold is what RecordRequest stores with a request it records as
// quarantined (Received.Hold).
type Hold struct {
	// Ref is the QuarantineEventRef, from ReserveCounter(ctx,
	// QuarantineRefCounter); unique, never 0.
	Ref uint64
	// User is the User whose request it is: the originator. Zero means
	// the originator; anything else is refused.
	User   eui.EUI
	SRV    string // the Service Reference Variant counted, "6.23"
	Breach HoldBreach
	// The threshold row crossed, and the count the request would have
	// made in its window.
	Interval                   uint64 // minutes
	Warning, Quarantine, Count uint64
	// ExpiresAt is when the request is rejected if nobody decided; after
	// the request's receipt.
	ExpiresAt time.Time
	// Alert is the DUIS QuarantinedRequest alert telling the User (Kind
	// ResponseAlert). Its RequestID is set to the request's, and a zero
	// CreatedAt to the receipt time.
	Alert *Response
}

// readyFor checks h and fills in its defaults for request id received at
// at. The caller's Hold and Alert are left as they were.
func (h *Hold) readyFor(id RequestID, at time.Time) (*Hold, error) {
	c := *h
	if c.User.IsZero() {
		c.User = id.Originator
	}
	switch {
	case c.Ref == 0:
		return nil, invalidf("request %s: hold without a QuarantineEventRef", id)
	case c.User != id.Originator:
		return nil, invalidf("request %s: held for User %s, not its originator", id, c.User)
	case c.SRV == "":
		return nil, invalidf("request %s: hold without an SRV", id)
	case c.Breach != BreachUser && c.Breach != BreachDCC:
		return nil, invalidf("request %s: hold breach %q is not %q or %q", id, c.Breach, BreachUser, BreachDCC)
	case c.Interval == 0:
		return nil, invalidf("request %s: hold with a 0-minute interval", id)
	case max(c.Interval, c.Warning, c.Quarantine, c.Count) > math.MaxInt64:
		// A request is held only when its count passes the quarantine
		// threshold, so no hold that happened needs more.
		return nil, invalidf("request %s: hold threshold or count above 2^63-1", id)
	case !c.ExpiresAt.After(at):
		return nil, invalidf("request %s: hold expires at %v, not after it was received", id, c.ExpiresAt)
	case c.Alert == nil:
		return nil, invalidf("request %s: hold without its alert", id)
	case c.Alert.Kind != ResponseAlert:
		return nil, invalidf("request %s: hold alert of kind %q, not %q", id, c.Alert.Kind, ResponseAlert)
	}
	alert, err := responseFor(id, c.Alert, at)
	if err != nil {
		return nil, err
	}
	c.Alert = alert
	return &c, nil
}

// addHold stores h, ready, for r, and its alert, inside tx.
func (db *DB) addHold(ctx context.Context, tx *sql.Tx, r Received, h Hold) error {
	const q = `INSERT INTO quarantine (ref, originator_eui, target_eui, counter, user_eui, party_id, srv, breach,
		interval_minutes, warning_threshold, quarantine_threshold, window_count, state, held_at_us, expires_at_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := tx.ExecContext(ctx, db.q(q), u64Arg(h.Ref), euiArg(r.ID.Originator), euiArg(r.ID.Target), u64Arg(r.ID.Counter),
		euiArg(h.User), r.Party, h.SRV, string(h.Breach), int64(h.Interval), int64(h.Warning), int64(h.Quarantine),
		int64(h.Count), string(HoldHeld), timeArg(r.At), timeArg(h.ExpiresAt))
	if db.d.isUnique(err) {
		return fmt.Errorf("%w: QuarantineEventRef %d (request %s)", ErrDuplicate, h.Ref, r.ID)
	}
	if err != nil {
		return fmt.Errorf("store: hold request %s as %d: %w", r.ID, h.Ref, err)
	}
	_, err = db.addResponse(ctx, tx, *h.Alert)
	return err
}

// Held is a stored hold.
type Held struct {
	Ref     uint64
	Request RequestID
	User    eui.EUI
	Party   string // the requesting party's SEC Party ID, as recorded with the request
	SRV     string
	Breach  HoldBreach

	Interval, Warning, Quarantine, Count uint64

	State     HoldState
	HeldAt    time.Time // when the request was received
	ExpiresAt time.Time
	DecidedAt time.Time // zero while held
	DecidedBy string    // "operator:<name>", "action-file:<sha256 prefix>" or "expiry"; "" while held
}

const heldCols = `ref, originator_eui, target_eui, counter, user_eui, party_id, srv, breach, interval_minutes,
	warning_threshold, quarantine_threshold, window_count, state, held_at_us, expires_at_us, decided_at_us, decided_by`

func scanHeld(r *sql.Rows) (Held, error) {
	var h Held
	var ref, o, t, c, u []byte
	var interval, warning, quarantine, count, heldAt, expires int64
	var decided sql.NullInt64
	err := r.Scan(&ref, &o, &t, &c, &u, &h.Party, &h.SRV, &h.Breach, &interval, &warning, &quarantine, &count,
		&h.State, &heldAt, &expires, &decided, &h.DecidedBy)
	if err == nil {
		h.Ref, err = scanU64(ref)
	}
	if err == nil {
		h.Request.Originator, err = scanEUI(o)
	}
	if err == nil {
		h.Request.Target, err = scanEUI(t)
	}
	if err == nil {
		h.Request.Counter, err = scanU64(c)
	}
	if err == nil {
		h.User, err = scanEUI(u)
	}
	h.Interval, h.Warning, h.Quarantine, h.Count = uint64(interval), uint64(warning), uint64(quarantine), uint64(count)
	h.HeldAt, h.ExpiresAt, h.DecidedAt = timeOf(heldAt), timeOf(expires), nullTimeOf(decided)
	return h, err
}

// Hold returns the hold ref, or ErrNotFound.
func (db *DB) Hold(ctx context.Context, ref uint64) (Held, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+heldCols+` FROM quarantine WHERE ref = ?`), u64Arg(ref))
	var hs []Held
	if err == nil {
		hs, err = scanAll(rows, scanHeld)
	}
	if err != nil {
		return Held{}, fmt.Errorf("store: hold %d: %w", ref, err)
	}
	if len(hs) == 0 {
		return Held{}, fmt.Errorf("%w: hold %d", ErrNotFound, ref)
	}
	return hs[0], nil
}

// HoldQuery selects holds for Holds. Zero fields select everything.
type HoldQuery struct {
	User     *eui.EUI    // only this User's holds
	States   []HoldState // only holds in one of these states
	AfterRef uint64      // only refs above this: pass the last ref of a page to get the next
	Limit    int         // at most this many; 0 means 1000
}

// defaultHoldLimit bounds a page of Holds when the caller did not.
const defaultHoldLimit = 1000

// Holds returns the holds q selects, ordered by ref; an empty slice if
// none.
func (db *DB) Holds(ctx context.Context, q HoldQuery) ([]Held, error) {
	if q.Limit < 0 {
		return nil, invalidf("holds: limit %d", q.Limit)
	}
	if q.Limit == 0 {
		q.Limit = defaultHoldLimit
	}
	query := `SELECT ` + heldCols + ` FROM quarantine WHERE ref > ?`
	args := []any{u64Arg(q.AfterRef)}
	if q.User != nil {
		query += ` AND user_eui = ?`
		args = append(args, euiArg(*q.User))
	}
	if len(q.States) > 0 {
		for _, s := range q.States {
			if !s.valid() {
				return nil, invalidf("holds: unknown state %q", s)
			}
			args = append(args, string(s))
		}
		query += ` AND state IN (` + placeholders(len(q.States)) + `)`
	}
	query += ` ORDER BY ref LIMIT ?`
	return db.holds(ctx, "holds", query, append(args, q.Limit)...)
}

func (s HoldState) valid() bool {
	switch s {
	case HoldHeld, HoldReleased, HoldDeleted, HoldExpired:
		return true
	}
	return false
}

// ExpiredHolds returns up to limit holds still held whose ExpiresAt is at
// or before now, the longest expired first (then by ref): the sweep
// expires them with DecideHolds.
func (db *DB) ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]Held, error) {
	if limit < 1 {
		return nil, invalidf("expired holds: limit %d", limit)
	}
	return db.holds(ctx, "expired holds", `SELECT `+heldCols+` FROM quarantine
		WHERE state = 'held' AND expires_at_us <= ? ORDER BY expires_at_us, ref LIMIT ?`, timeArg(now), limit)
}

func (db *DB) holds(ctx context.Context, what, query string, args ...any) ([]Held, error) {
	rows, err := db.r.QueryContext(ctx, db.q(query), args...)
	var hs []Held
	if err == nil {
		hs, err = scanAll(rows, scanHeld)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	if hs == nil {
		hs = []Held{}
	}
	return hs, nil
}
