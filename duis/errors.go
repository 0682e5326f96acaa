package duis

import "fmt"

// ParseError is returned for every malformed document. Path names the
// element at fault, e.g. "Request/Header/RequestID".
type ParseError struct {
	Path string
	Err  error
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return "duis: " + e.Err.Error()
	}
	return "duis: " + e.Path + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

func errorf(path, format string, a ...any) error {
	return &ParseError{Path: path, Err: fmt.Errorf(format, a...)}
}

// ValueError is returned by Validate, the constructors and the encoders
// for a value the schema (or GBCS behind it) does not allow: nothing this
// package writes can fail XSD validation or decode differently. Path names
// the element at fault, as in ParseError.
type ValueError struct {
	Path string
	Err  error
}

func (e *ValueError) Error() string { return "duis: invalid " + e.Path + ": " + e.Err.Error() }

func (e *ValueError) Unwrap() error { return e.Err }

func invalidf(path, format string, a ...any) error {
	return &ValueError{Path: path, Err: fmt.Errorf(format, a...)}
}
