package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// transcript logs a ceremony's steps, each with its UTC time, to the
// custodians' screen and to a file of its own that is never written over.
type transcript struct {
	f   *os.File
	w   io.Writer
	now func() time.Time
}

func openTranscript(path string, screen io.Writer, now func() time.Time) (*transcript, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	return &transcript{f: f, w: io.MultiWriter(screen, f), now: now}, nil
}

func (t *transcript) step(format string, a ...any) {
	fmt.Fprintf(t.w, "%s %s\n", t.now().UTC().Format(time.RFC3339), fmt.Sprintf(format, a...))
}

// say is step for a sentence already made.
func (t *transcript) say(s string) { t.step("%s", s) }

func (t *transcript) close() error {
	return errors.Join(t.f.Sync(), t.f.Close())
}

// transcriptName is a ceremony's default transcript file: its type and
// when it started, so two ceremonies never share one.
func transcriptName(kind string, start time.Time) string {
	return kind + "-" + start.UTC().Format("20060102T150405Z") + ".transcript"
}
