package obs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// OpenAudit opens the audit file for appending, creating it with mode 0600
// (audit records name Users and devices). O_APPEND makes every write land
// at the end, so records written whole are never interleaved, even with
// another process appending. Path "-" is standard error, which Close leaves
// open.
func OpenAudit(path string) (io.WriteCloser, error) {
	if path == "-" {
		return nopCloser{os.Stderr}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening audit stream: %w", err)
	}
	return f, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// NewAudit returns the audit logger: JSON, one line per record, every
// record at Info or above kept whatever the operational log level, each
// tagged stream=audit so a shared collector can tell the streams apart.
//
// slog's JSON handler formats a record completely and then writes it with
// one Write call under a mutex that loggers derived with With and
// WithGroup share, so concurrent records never interleave. Separate
// NewAudit calls on one writer have separate mutexes and rely on the
// writer: a file from OpenAudit is O_APPEND, which keeps each Write whole.
func NewAudit(w io.Writer) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})
	return slog.New(h).With("stream", "audit")
}
