package obs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
)

// AuditFile is the audit stream's file. It can be reopened (SIGHUP, after
// logrotate renamed it) and, when a start fails, discarded if this
// process created it and wrote nothing to it, so a failed start leaves no
// empty audit file behind.
type AuditFile struct {
	path    string
	created bool // this process created the file

	mu sync.Mutex // held across each Write, so a Reopen never splits one
	f  io.WriteCloser
}

// OpenAudit opens the audit file for appending, creating it with mode 0600
// (audit records name Users and devices). O_APPEND makes every write land
// at the end, so records written whole are never interleaved, even with
// another process appending. Path "-" is standard error, which Close leaves
// open.
func OpenAudit(path string) (*AuditFile, error) {
	if path == "-" {
		return &AuditFile{path: path, f: nopCloser{os.Stderr}}, nil
	}
	f, created, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &AuditFile{path: path, created: created, f: f}, nil
}

// openAppend opens path for appending and says whether it created it.
func openAppend(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, false, fmt.Errorf("opening audit stream: %w", err)
	}
	if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, false, fmt.Errorf("opening audit stream: %w", err)
	}
	return f, false, nil
}

// Path is the file's path, or "-" for standard error.
func (a *AuditFile) Path() string { return a.path }

func (a *AuditFile) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Write(p)
}

// Reopen closes the file and opens its path again, creating it if it was
// renamed away: after rotation, new records go to the new file. Records
// being written finish in the old one first. If the path cannot be opened
// the old file is kept, so no record is lost.
func (a *AuditFile) Reopen() error {
	if a.path == "-" {
		return nil
	}
	f, _, err := openAppend(a.path)
	if err != nil {
		return err
	}
	a.mu.Lock()
	old := a.f
	a.f = f
	a.mu.Unlock()
	return old.Close()
}

// Close closes the file.
func (a *AuditFile) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}

// Discard closes the file and removes it if this process created it and
// it is still empty: what a start that failed calls, so it leaves nothing
// behind. A file that holds records is kept whatever happened.
func (a *AuditFile) Discard() error {
	err := a.Close()
	if !a.created {
		return err
	}
	if fi, serr := os.Stat(a.path); serr == nil && fi.Size() == 0 {
		return errors.Join(err, os.Remove(a.path))
	}
	return err
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
