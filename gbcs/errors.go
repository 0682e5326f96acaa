package gbcs

import (
	"errors"
	"fmt"
)

// ParseError is the only error type the decoders return for malformed input.
// Callers (authz, the CLI) map it to their own "malformed" kind; the message
// names the structure that failed so an operator can find the bad byte.
type ParseError struct {
	err error
}

func (e *ParseError) Error() string { return "gbcs: " + e.err.Error() }

// Unwrap exposes a wrapped cause, if errorf was given a %w verb.
func (e *ParseError) Unwrap() error { return errors.Unwrap(e.err) }

// errorf builds every *ParseError, so all malformed-input errors look alike.
func errorf(format string, args ...any) error {
	return &ParseError{err: fmt.Errorf(format, args...)}
}

// ErrBadSignature is returned by Verify when the KRP signature does not
// verify, and ErrBadMAC by VerifyMAC when the GMAC tag does not match. Both
// are sentinels so callers can use errors.Is through any wrapping.
var (
	ErrBadSignature = errors.New("gbcs: signature verification failed")
	ErrBadMAC       = errors.New("gbcs: MAC verification failed")
)
