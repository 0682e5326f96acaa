// Package ecoserr is ecos's one error type: a Reason with a stable machine
// name, a public message that is safe to send to a DCC User, and an
// internal cause that is logged but never sent. Reasons map to DUIS
// response codes in one table (Table), which docs/response-codes.md mirrors.
//
// Trust level: no I/O; used by every role.
package ecoserr

import (
	"errors"
	"fmt"
)

// Error is a refusal or failure with a Reason. Public is what a User may
// see; Err is the internal cause.
type Error struct {
	Reason Reason
	Public string
	Err    error
}

func (e *Error) Error() string {
	msg := e.Public
	if msg == "" {
		msg = e.Reason.Message()
	}
	if e.Err == nil {
		return e.Reason.Name() + ": " + msg
	}
	return e.Reason.Name() + ": " + msg + ": " + e.Err.Error()
}

// Unwrap exposes both the Reason (errors.Is(err, ecoserr.Replay)) and the
// cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// New makes an *Error; public adds detail a User may see (it replaces the
// reason's generic message), cause is kept for logs.
func New(r Reason, cause error, publicFormat string, a ...any) *Error {
	e := &Error{Reason: r, Err: cause}
	if publicFormat != "" {
		e.Public = fmt.Sprintf(publicFormat, a...)
	}
	return e
}

// ReasonOf finds the Reason of err; an error that carries none is Internal,
// so internal detail never leaks as if it were a refusal.
func ReasonOf(err error) Reason {
	if err == nil {
		return 0
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Reason
	}
	if r, ok := errors.AsType[Reason](err); ok {
		return r
	}
	return Internal
}

// PublicMessage is what may be told to the User about err.
func PublicMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e.Reason != Internal {
		if e.Public != "" {
			return e.Public
		}
		return e.Reason.Message()
	}
	return Internal.Message()
}
