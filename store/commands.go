package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// CommandID identifies a command in the log. IDs only grow and are never
// reused.
type CommandID int64

// CommandState is where a command is between intent and answer.
type CommandState string

// Command states. Responded and failed are final.
const (
	CommandIntent    CommandState = "intent"    // counter and bytes recorded; not (known to be) signed
	CommandSigned    CommandState = "signed"    // signed frame recorded
	CommandSent      CommandState = "sent"      // dispatched
	CommandResponded CommandState = "responded" // the device's answer recorded
	CommandFailed    CommandState = "failed"    // abandoned; its counter stays burnt
)

// commandPredecessors lists, for each state, the states a command may enter
// it from. Signed follows only intent, so a command is signed (recorded as
// signed) at most once. Responded may follow signed directly because a
// device can answer before the dispatcher has recorded the send.
var commandPredecessors = map[CommandState][]CommandState{
	CommandSigned:    {CommandIntent},
	CommandSent:      {CommandSigned},
	CommandResponded: {CommandSigned, CommandSent},
	CommandFailed:    {CommandIntent, CommandSigned, CommandSent},
}

// Intent is what the CoS Party is about to sign, recorded before the key is
// used (style.md C3).
type Intent struct {
	RequestID RequestID // the DUIS request served; zero for the party's own commands (migration)
	Device    eui.EUI   // the target device
	Counter   uint64    // the originator counter, from ReserveCounter
	KeyID     string    // which key will sign, e.g. "ecos" or an SKI
	TBS       []byte    // the exact bytes to be signed
	CreatedAt time.Time
}

// Command is a command log entry.
type Command struct {
	ID CommandID
	Intent
	State       CommandState
	Frame       []byte // the signed frame, once signed
	Response    []byte // the device's response frame, once answered
	Outcome     string // the answer's summary, or why the command failed
	SignedAt    time.Time
	SentAt      time.Time
	RespondedAt time.Time
	UpdatedAt   time.Time
}

// RecordIntent writes in, in state intent, and returns its ID. Only one
// command may exist per device and counter (ErrDuplicate otherwise): that
// pair is how a response finds its command. A non-zero RequestID must name
// a stored request, and one with no live command (ErrLiveCommand): a
// command is live unless it was abandoned (MarkFailed) before it was
// signed, as recovery abandons an intent it cannot know the fate of.
func (db *DB) RecordIntent(ctx context.Context, in Intent) (CommandID, error) {
	if err := in.validate(); err != nil {
		return 0, err
	}
	var id CommandID
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		id, err = db.recordIntent(ctx, tx, in)
		return err
	})
	return id, err
}

// ReserveIntent is ReserveCounter and RecordIntent in one transaction, so
// a command costs one commit before its signature, not two: it reserves
// the next counter of key, has build make the intent for that counter,
// and records it. build must be quick and touch nothing else: it runs
// while the database's write lock is held. The counter is spent whatever
// happens to the command afterwards; if build or the insert fails,
// nothing is recorded and the counter is not spent either.
func (db *DB) ReserveIntent(ctx context.Context, key string, build func(counter uint64) (Intent, error)) (Intent, CommandID, error) {
	var in Intent
	var id CommandID
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		counter, err := db.reserveCounter(ctx, tx, key)
		if err != nil {
			return err
		}
		if in, err = build(counter); err != nil {
			return err
		}
		if in.Counter != counter {
			return invalidf("intent: built for counter %d, reserved %d", in.Counter, counter)
		}
		if err := in.validate(); err != nil {
			return err
		}
		id, err = db.recordIntent(ctx, tx, in)
		return err
	})
	if err != nil {
		return Intent{}, 0, err
	}
	return in, id, nil
}

func (in *Intent) validate() error {
	switch {
	case in.Device.IsZero():
		return invalidf("intent: device EUI-64 is zero")
	case in.Counter > math.MaxInt64:
		return invalidf("intent: counter %d above 2⁶³−1", in.Counter)
	case in.KeyID == "":
		return invalidf("intent: key ID is empty")
	case len(in.TBS) == 0:
		return invalidf("intent: nothing to sign")
	}
	return nil
}

func (db *DB) recordIntent(ctx context.Context, tx *sql.Tx, in Intent) (CommandID, error) {
	const q = `INSERT INTO commands (req_originator_eui, req_target_eui, req_counter, device_eui, counter,
		key_id, tbs, state, created_at_us, updated_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING command_id`
	var ro, rt, rc any
	if !in.RequestID.IsZero() {
		ro, rt, rc = euiArg(in.RequestID.Originator), euiArg(in.RequestID.Target), u64Arg(in.RequestID.Counter)
	}
	var id CommandID
	err := tx.QueryRowContext(ctx, db.q(q), ro, rt, rc, euiArg(in.Device), int64(in.Counter),
		in.KeyID, in.TBS, string(CommandIntent), timeArg(in.CreatedAt), timeArg(in.CreatedAt)).Scan(&id)
	switch {
	case db.d.isUnique(err) && isLiveCommandKey(db.d.uniqueKey(err)):
		return 0, fmt.Errorf("%w: %w: request %s (intent for device %s counter %d): a request is signed once",
			ErrDuplicate, ErrLiveCommand, in.RequestID, in.Device, in.Counter)
	case db.d.isUnique(err):
		return 0, fmt.Errorf("%w: command for device %s counter %d", ErrDuplicate, in.Device, in.Counter)
	case db.d.isForeignKey(err):
		return 0, fmt.Errorf("%w: request %s (intent for device %s counter %d)", ErrNotFound, in.RequestID, in.Device, in.Counter)
	case err != nil:
		return 0, fmt.Errorf("store: record intent for device %s counter %d: %w", in.Device, in.Counter, err)
	}
	return id, nil
}

// liveCommandIndex holds a request to one live command (migration 0006).
const liveCommandIndex = "commands_live_request"

// isLiveCommandKey says whether a unique key reported by the server is
// liveCommandIndex: by name (PostgreSQL) or by its request columns, which
// no other unique key on commands has (SQLite).
func isLiveCommandKey(key string) bool {
	return key == liveCommandIndex || strings.Contains(key, "commands.req_counter")
}

// MarkSigned records the signed frame of command id. It fails with a
// *TransitionError (ErrTransition) unless the command is in state intent:
// in particular for a command already signed. The request the command
// serves, if still authorised, becomes signed in the same transaction.
func (db *DB) MarkSigned(ctx context.Context, id CommandID, frame []byte, at time.Time) error {
	if len(frame) == 0 {
		return invalidf("command %d: empty frame", id)
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		c, err := db.moveCommandTx(ctx, tx, CommandSigned, "frame = ?, signed_at_us = ?", []any{frame, timeArg(at)},
			"command_id = ?", []any{int64(id)}, strconv.FormatInt(int64(id), 10), at)
		if err != nil {
			return err
		}
		return db.followCommand(ctx, tx, c, RequestSigned, at)
	})
}

// MarkSent records that command id was dispatched. The command must be
// signed and not yet sent. The request it serves, if authorised or
// signed, becomes sent in the same transaction.
func (db *DB) MarkSent(ctx context.Context, id CommandID, at time.Time) error {
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		c, err := db.moveCommandTx(ctx, tx, CommandSent, "sent_at_us = ?", []any{timeArg(at)},
			"command_id = ?", []any{int64(id)}, strconv.FormatInt(int64(id), 10), at)
		if err != nil {
			return err
		}
		return db.followCommand(ctx, tx, c, RequestSent, at)
	})
}

// followCommand moves the request c serves to state to, from the states
// its command's progress implies it may still be in. A request already
// further on, or finished, is left alone: its state records what the User
// was told, which a command's bookkeeping must not overwrite.
func (db *DB) followCommand(ctx context.Context, tx *sql.Tx, c Command, to RequestState, at time.Time) error {
	if c.RequestID.IsZero() {
		return nil
	}
	from := []RequestState{RequestAuthorised}
	if to == RequestSent {
		from = append(from, RequestSigned)
	}
	q := `UPDATE requests SET state = ?, updated_at_us = ?
		WHERE originator_eui = ? AND target_eui = ? AND counter = ? AND state IN (` + placeholders(len(from)) + `)`
	args := []any{string(to), timeArg(at), euiArg(c.RequestID.Originator), euiArg(c.RequestID.Target), u64Arg(c.RequestID.Counter)}
	for _, s := range from {
		args = append(args, string(s))
	}
	if _, err := tx.ExecContext(ctx, db.q(q), args...); err != nil {
		return fmt.Errorf("store: request %s to %s with command %d: %w", c.RequestID, to, c.ID, err)
	}
	return nil
}

// MarkFailed abandons command id with reason, from any state but the final
// ones. Its counter is not reused.
func (db *DB) MarkFailed(ctx context.Context, id CommandID, reason string, at time.Time) error {
	_, err := db.moveCommand(ctx, CommandFailed, "outcome = ?", []any{reason},
		"command_id = ?", []any{int64(id)}, strconv.FormatInt(int64(id), 10), at)
	return err
}

// RecordResponse records the device's answer to the command it sent with
// counter, and returns that command (with the RequestID it served). The
// command must be signed or sent and not yet answered; ErrNotFound if no
// command has that device and counter.
func (db *DB) RecordResponse(ctx context.Context, device eui.EUI, counter uint64, frame []byte, outcome string, at time.Time) (Command, error) {
	return db.RecordAnswer(ctx, Answer{Device: device, Counter: counter, Frame: frame, Outcome: outcome, At: at})
}

// Answer is a device's answer to a command and what it settles, recorded
// together by RecordAnswer.
type Answer struct {
	Device  eui.EUI
	Counter uint64
	Frame   []byte // the device's response frame
	Outcome string // its summary
	At      time.Time
	// Request, if set, moves the request the command serves, as
	// UpdateRequest would, with its Response.
	Request *RequestUpdate
	// Supplier, if set, is noted as the device's supplier party since At,
	// as NoteSupplier would.
	Supplier string
}

// RecordAnswer is RecordResponse, a.Request's move and a.Supplier's note
// in one transaction: all of them or, on any error, none.
func (db *DB) RecordAnswer(ctx context.Context, a Answer) (Command, error) {
	key := fmt.Sprintf("device %s counter %d", a.Device, a.Counter)
	if a.Counter > math.MaxInt64 {
		return Command{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	var resp *Response
	if a.Request != nil {
		if _, ok := requestPredecessors[a.Request.To]; !ok {
			return Command{}, invalidf("%s: %q is not a state a request can be moved to", key, a.Request.To)
		}
	}
	if a.Supplier != "" && a.At.IsZero() {
		return Command{}, invalidf("%s: supplier since is missing", key)
	}
	var c Command
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		c, err = db.moveCommandTx(ctx, tx, CommandResponded, "response = ?, outcome = ?, responded_at_us = ?",
			[]any{a.Frame, a.Outcome, timeArg(a.At)}, "device_eui = ? AND counter = ?", []any{euiArg(a.Device), int64(a.Counter)},
			key, a.At)
		if err != nil {
			return err
		}
		if a.Request != nil {
			if c.RequestID.IsZero() {
				return invalidf("%s serves no request to move", key)
			}
			if resp, err = responseFor(c.RequestID, a.Request.Response, a.Request.At); err != nil {
				return err
			}
			if err := db.updateRequest(ctx, tx, c.RequestID, *a.Request, resp); err != nil {
				return err
			}
		}
		if a.Supplier != "" {
			return db.noteSupplier(ctx, tx, a.Device, a.Supplier, a.At)
		}
		return nil
	})
	if err != nil {
		return Command{}, err
	}
	return c, nil
}

// moveCommand moves the command matching where to state to, setting set,
// if the state machine allows it, and returns the command as it now is.
// The state check is in the UPDATE's WHERE, so of two concurrent callers
// only one can make a given move.
func (db *DB) moveCommand(ctx context.Context, to CommandState, set string, setArgs []any,
	where string, whereArgs []any, key string, at time.Time) (Command, error) {
	var c Command
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		c, err = db.moveCommandTx(ctx, tx, to, set, setArgs, where, whereArgs, key, at)
		return err
	})
	return c, err
}

func (db *DB) moveCommandTx(ctx context.Context, tx *sql.Tx, to CommandState, set string, setArgs []any,
	where string, whereArgs []any, key string, at time.Time) (Command, error) {
	from := commandPredecessors[to]
	q := `UPDATE commands SET state = ?, ` + set + `, updated_at_us = ? WHERE ` + where +
		` AND state IN (` + placeholders(len(from)) + `) RETURNING ` + commandCols
	args := append([]any{string(to)}, setArgs...)
	args = append(args, timeArg(at))
	args = append(args, whereArgs...)
	for _, s := range from {
		args = append(args, string(s))
	}
	rows, err := tx.QueryContext(ctx, db.q(q), args...)
	var cs []Command
	if err == nil {
		cs, err = scanAll(rows, scanCommand)
	}
	if err != nil {
		return Command{}, fmt.Errorf("store: command %s to %s: %w", key, to, err)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	var state string
	err = tx.QueryRowContext(ctx, db.q(`SELECT state FROM commands WHERE `+where), whereArgs...).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return Command{}, fmt.Errorf("%w: command %s", ErrNotFound, key)
	}
	if err != nil {
		return Command{}, fmt.Errorf("store: command %s to %s: %w", key, to, err)
	}
	return Command{}, &TransitionError{Entity: "command", Key: key, From: state, To: string(to)}
}

// Command returns command id, or ErrNotFound.
func (db *DB) Command(ctx context.Context, id CommandID) (Command, error) {
	return db.commandWhere(ctx, "command_id = ?", []any{int64(id)}, strconv.FormatInt(int64(id), 10))
}

// commandWhere returns the one command matching where (a key), or
// ErrNotFound naming it by key.
func (db *DB) commandWhere(ctx context.Context, where string, args []any, key string) (Command, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+commandCols+` FROM commands WHERE `+where), args...)
	var cs []Command
	if err == nil {
		cs, err = scanAll(rows, scanCommand)
	}
	if err != nil {
		return Command{}, fmt.Errorf("store: command %s: %w", key, err)
	}
	if len(cs) == 0 {
		return Command{}, fmt.Errorf("%w: command %s", ErrNotFound, key)
	}
	return cs[0], nil
}

// CommandByCounter returns the command sent to device with counter, or
// ErrNotFound: the pair a device's answer names.
func (db *DB) CommandByCounter(ctx context.Context, device eui.EUI, counter uint64) (Command, error) {
	key := fmt.Sprintf("device %s counter %d", device, counter)
	if counter > math.MaxInt64 {
		return Command{}, fmt.Errorf("%w: command %s", ErrNotFound, key)
	}
	return db.commandWhere(ctx, "device_eui = ? AND counter = ?", []any{euiArg(device), int64(counter)}, key)
}

// CommandsForRequest returns the commands serving request id, oldest
// first; an empty slice if there are none (or no such request).
func (db *DB) CommandsForRequest(ctx context.Context, id RequestID) ([]Command, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+commandCols+` FROM commands
		WHERE req_originator_eui = ? AND req_target_eui = ? AND req_counter = ? ORDER BY command_id`),
		euiArg(id.Originator), euiArg(id.Target), u64Arg(id.Counter))
	var cs []Command
	if err == nil {
		cs, err = scanAll(rows, scanCommand)
	}
	if err != nil {
		return nil, fmt.Errorf("store: commands for request %s: %w", id, err)
	}
	if cs == nil {
		cs = []Command{}
	}
	return cs, nil
}

// PendingUnsent returns the commands recorded but not sent (states intent
// and signed), oldest first. After a crash these are the commands whose
// fate the caller must settle: an intent may or may not have been signed,
// a signed one may or may not have left.
func (db *DB) PendingUnsent(ctx context.Context) ([]Command, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+commandCols+` FROM commands
		WHERE state IN ('intent', 'signed') ORDER BY command_id`)
	var cs []Command
	if err == nil {
		cs, err = scanAll(rows, scanCommand)
	}
	if err != nil {
		return nil, fmt.Errorf("store: pending commands: %w", err)
	}
	return cs, nil
}

const commandCols = `command_id, req_originator_eui, req_target_eui, req_counter, device_eui, counter, key_id, tbs,
	frame, response, outcome, state, created_at_us, signed_at_us, sent_at_us, responded_at_us, updated_at_us`

func scanCommand(r *sql.Rows) (Command, error) {
	var c Command
	var ro, rt, rc, dev []byte
	var counter, created, updated int64
	var signed, sent, responded sql.NullInt64
	err := r.Scan(&c.ID, &ro, &rt, &rc, &dev, &counter, &c.KeyID, &c.TBS, &c.Frame, &c.Response, &c.Outcome,
		&c.State, &created, &signed, &sent, &responded, &updated)
	if err != nil {
		return Command{}, err
	}
	if rc != nil {
		if c.RequestID.Originator, err = scanEUI(ro); err != nil {
			return Command{}, err
		}
		if c.RequestID.Target, err = scanEUI(rt); err != nil {
			return Command{}, err
		}
		if c.RequestID.Counter, err = scanU64(rc); err != nil {
			return Command{}, err
		}
	}
	if c.Device, err = scanEUI(dev); err != nil {
		return Command{}, err
	}
	c.Counter = uint64(counter)
	c.CreatedAt, c.UpdatedAt = timeOf(created), timeOf(updated)
	c.SignedAt, c.SentAt, c.RespondedAt = nullTimeOf(signed), nullTimeOf(sent), nullTimeOf(responded)
	return c, nil
}
