package store

import (
	"errors"
	"fmt"
)

// Sentinels. Every error a method returns for one of these conditions wraps
// the matching sentinel, so callers can use errors.Is through any context.
var (
	// ErrNotFound: the row asked for does not exist (or, for a
	// registration, no period covers the time asked about).
	ErrNotFound = errors.New("store: not found")

	// ErrReplay: a RequestID's counter is not strictly greater than the last
	// one accepted from that originator for that target; or an ADT file's
	// sequence number is not greater than its User's last accepted.
	ErrReplay = errors.New("store: replayed request counter")

	// ErrDuplicate: a row with the same key already exists, e.g. a second
	// command intent for the same device and originator counter.
	ErrDuplicate = errors.New("store: duplicate")

	// ErrLiveCommand: a command intent for a request that already has a
	// live one (every command is, but an intent abandoned unsigned). A
	// request is signed once: the database refuses the second command
	// whatever the code above it does. Errors wrapping it wrap
	// ErrDuplicate too.
	ErrLiveCommand = errors.New("store: the request already has a live command")

	// ErrTransition: a state change the state machine does not allow,
	// including repeating one (signing an already signed command). The
	// error is a *TransitionError.
	ErrTransition = errors.New("store: illegal state transition")

	// ErrInvalid: an argument or import row store refuses to write.
	ErrInvalid = errors.New("store: invalid")

	// ErrNoDatabase: Config.NoCreate was set and the SQLite file does not
	// exist. The error is a *NoDatabaseError.
	ErrNoDatabase = errors.New("store: no such database")

	// ErrCounterExhausted: an originator counter reached 2⁶³−1.
	ErrCounterExhausted = errors.New("store: originator counter exhausted")
)

// TransitionError reports a refused state change. From is the state the
// row was in when the change was refused.
type TransitionError struct {
	Entity string // "command", "request" or "hold"
	Key    string // the row's key, for the log
	From   string
	To     string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("store: %s %s: cannot go from %s to %s", e.Entity, e.Key, e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrTransition) hold.
func (e *TransitionError) Unwrap() error { return ErrTransition }

// ImportError names the row of a bulk import that could not be written.
// Nothing of that import was written. Row is the index in the slice passed
// to the Import method; the caller maps it to a file line.
type ImportError struct {
	Table string
	Row   int
	Err   error
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("store: import %s: row %d: %v", e.Table, e.Row, e.Err)
}

func (e *ImportError) Unwrap() error { return e.Err }

func invalidf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// ImportErrors lists every row of an import that could not be written,
// in row order; nothing of that import was written. errors.As finds the
// first as an *ImportError.
type ImportErrors struct {
	Rows []*ImportError
}

// maxImportErrors stops a hopeless file from producing a million rows.
const maxImportErrors = 1000

func (e *ImportErrors) add(table string, row int, err error) {
	if len(e.Rows) < maxImportErrors {
		e.Rows = append(e.Rows, &ImportError{Table: table, Row: row, Err: err})
	}
}

func (e *ImportErrors) err() error {
	if len(e.Rows) == 0 {
		return nil
	}
	return e
}

func (e *ImportErrors) Error() string {
	if len(e.Rows) == 1 {
		return e.Rows[0].Error()
	}
	return fmt.Sprintf("%s (and %d more rows)", e.Rows[0], len(e.Rows)-1)
}

func (e *ImportErrors) Unwrap() []error {
	errs := make([]error, len(e.Rows))
	for i, r := range e.Rows {
		errs[i] = r
	}
	return errs
}

// NoDatabaseError is Open's refusal of a SQLite file that does not exist.
type NoDatabaseError struct{ Path string }

func (e *NoDatabaseError) Error() string {
	return fmt.Sprintf("the database %s does not exist", e.Path)
}

// Unwrap makes errors.Is(err, ErrNoDatabase) hold.
func (e *NoDatabaseError) Unwrap() error { return ErrNoDatabase }
