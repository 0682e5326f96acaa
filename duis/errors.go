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
