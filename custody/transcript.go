package custody

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Transcript is a ceremony's log: every step with its UTC time, written to
// the console and to a file of its own that is never overwritten. It
// begins with the ceremony file's SHA-256 and the effective ceremony, so
// the transcript proves which reviewed file was run. Nothing secret is
// ever written to it.
type Transcript struct {
	f    *os.File
	echo io.Writer
	now  func() time.Time
	path string
	err  error
}

// Source is where a ceremony came from: a reviewed file and its SHA-256
// (LoadCeremony), or, with File "", command-line flags.
type Source struct {
	File   string
	SHA256 [sha256.Size]byte
}

// DefaultTranscript is a ceremony's transcript file when its ceremony
// names none: KIND-yyyymmddThhmmssZ.transcript in the current directory.
func DefaultTranscript(kind string, now time.Time) string {
	return kind + "-" + now.UTC().Format("20060102T150405Z") + ".transcript"
}

// TranscriptFile is c's transcript file: the one it names, else
// DefaultTranscript.
func TranscriptFile(c Ceremony, now time.Time) string {
	if f := c.transcript(); f != "" {
		return f
	}
	return DefaultTranscript(c.Kind(), now)
}

// OpenTranscript creates the transcript at path (O_CREATE|O_EXCL) and
// writes its head: the ceremony's source and SHA-256, then the effective
// ceremony as JSON. Every line also goes to echo. now is the clock.
func OpenTranscript(path string, echo io.Writer, now func() time.Time, src Source, c Ceremony) (*Transcript, error) {
	effective, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("transcript %s %w", path, ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the transcript: %w", err)
	}
	t := &Transcript{f: f, echo: echo, now: now, path: path}
	if src.File != "" {
		abs, aerr := filepath.Abs(src.File)
		if aerr != nil {
			abs = src.File
		}
		t.Logf("%s ceremony from file %s, sha256 %s", c.Kind(), abs, hex.EncodeToString(src.SHA256[:]))
	} else {
		sum := sha256.Sum256(effective)
		t.Logf("%s ceremony from command-line flags (no reviewed file); sha256 of the effective ceremony below %s", c.Kind(), hex.EncodeToString(sum[:]))
	}
	t.Logf("effective ceremony:\n%s", effective)
	if t.err != nil {
		err := t.err
		_ = f.Close()
		return nil, err
	}
	return t, nil
}

// Path is the transcript's file.
func (t *Transcript) Path() string { return t.path }

// Logf writes one step, stamped with the current UTC time, to the file and
// the console. A failed write is kept and returned by Err and Close: a
// ceremony whose transcript cannot be written must stop.
func (t *Transcript) Logf(format string, a ...any) {
	if t == nil {
		return
	}
	line := t.now().UTC().Format(time.RFC3339) + " " + fmt.Sprintf(format, a...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	if t.err != nil {
		return
	}
	if _, err := io.WriteString(t.f, line); err != nil {
		t.err = fmt.Errorf("writing the transcript %s: %w", t.path, err)
		return
	}
	if t.echo != nil {
		_, _ = io.WriteString(t.echo, line)
	}
}

// Err is the first failed write, if any.
func (t *Transcript) Err() error { return t.err }

// Fail logs why the ceremony stopped and returns err, for
// `return t.Fail(err)`.
func (t *Transcript) Fail(err error) error {
	t.Logf("REFUSED: %v", err)
	return err
}

// Close syncs and closes the file; it returns the first error met.
func (t *Transcript) Close() error {
	err := t.err
	if serr := t.f.Sync(); err == nil && serr != nil {
		err = serr
	}
	if cerr := t.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}
