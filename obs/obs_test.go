package obs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestNewLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("dropped")
	log.Info("started", "listen", "127.0.0.1:8079")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %v\n%s", err, buf.Bytes())
	}
	if rec["level"] != "INFO" || rec["msg"] != "started" || rec["listen"] != "127.0.0.1:8079" {
		t.Errorf("record %v", rec)
	}
}

func TestNewLoggerTextAndLevel(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "text", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("dropped")
	log.Warn("kept")
	if got := buf.String(); strings.Contains(got, "dropped") || !strings.Contains(got, "level=WARN msg=kept") {
		t.Errorf("output %q", got)
	}
}

func TestNewLoggerRefuses(t *testing.T) {
	for _, tc := range []struct{ format, level, want string }{
		{"xml", "info", `format "xml"`},
		{"json", "INFO", `level "INFO"`},
		{"json", "info+2", `level "info+2"`},
		{"", "", "level"},
	} {
		log, err := NewLogger(&bytes.Buffer{}, tc.format, tc.level)
		if err == nil || log != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewLogger(%q, %q) = %v, %v; want error naming %s", tc.format, tc.level, log, err, tc.want)
		}
	}
}

func TestDiscard(t *testing.T) {
	log := Discard()
	log.Error("nowhere")
	if log.Handler().Enabled(t.Context(), 12) {
		t.Error("Discard is enabled")
	}
}

// TestAuditAppends: a restart must add to the audit trail, never replace
// it, and the file must not be readable by others.
func TestAuditAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	for i := range 2 {
		w, err := OpenAudit(path)
		if err != nil {
			t.Fatal(err)
		}
		NewAudit(w).Info("signed", "request_id", fmt.Sprint(i))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	recs := readRecords(t, path)
	if len(recs) != 2 || recs[0]["request_id"] != "0" || recs[1]["request_id"] != "1" {
		t.Fatalf("records %v", recs)
	}
	for _, r := range recs {
		if r["stream"] != "audit" || r["level"] != "INFO" || r["msg"] != "signed" {
			t.Errorf("record %v", r)
		}
	}
}

func TestAuditKeepsInfoAndAbove(t *testing.T) {
	var buf bytes.Buffer
	a := NewAudit(&buf)
	a.Debug("dropped")
	a.Warn("kept")
	if got := buf.String(); strings.Contains(got, "dropped") || !strings.Contains(got, `"msg":"kept"`) {
		t.Errorf("output %q", got)
	}
}

func TestOpenAuditStderr(t *testing.T) {
	w, err := OpenAudit("-")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Close must have left standard error open.
	if _, err := os.Stderr.Stat(); err != nil {
		t.Fatalf("stderr after Close: %v", err)
	}
}

func TestOpenAuditError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "audit.log")
	if _, err := OpenAudit(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err %v, want one naming %s", err, path)
	}
}

// TestAuditConcurrent: records from many goroutines come out as whole JSON
// lines, both through loggers derived with With (one shared mutex) and
// through a second OpenAudit of the same file (only O_APPEND between them,
// as with a second process). Records are large, so a split write would show
// up as a broken line.
func TestAuditConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	var audits []*slog.Logger
	for range 2 {
		w, err := OpenAudit(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		audits = append(audits, NewAudit(w))
	}
	const goroutines, each = 8, 200
	pad := strings.Repeat("x", 8<<10)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			log := audits[g%2].With("worker", g)
			for i := range each {
				log.Info("decision", "seq", i, "pad", pad)
			}
		})
	}
	wg.Wait()
	recs := readRecords(t, path)
	if len(recs) != goroutines*each {
		t.Fatalf("%d records, want %d", len(recs), goroutines*each)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if r["pad"] != pad || r["stream"] != "audit" {
			t.Fatalf("damaged record %.200v", r)
		}
		seen[fmt.Sprint(r["worker"], "/", r["seq"])] = true
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct records, want %d", len(seen), goroutines*each)
	}
}

func readRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d is not a whole JSON record: %v", n, err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestNewRegistry(t *testing.T) {
	mfs, err := NewRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"go_goroutines", "go_memstats_alloc_bytes"} {
		if !names[want] {
			t.Errorf("no %s among %d metric families", want, len(mfs))
		}
	}
}

// TestAuditReopen: after the file is renamed away (log rotation), Reopen
// sends new records to a new file at the path; the old one keeps the old.
func TestAuditReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	w, err := OpenAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a := NewAudit(w)
	a.Info("before")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	a.Info("after")
	if got := readRecords(t, path+".1"); len(got) != 1 || got[0]["msg"] != "before" {
		t.Errorf("rotated file %v", got)
	}
	if got := readRecords(t, path); len(got) != 1 || got[0]["msg"] != "after" {
		t.Errorf("new file %v", got)
	}
}

// TestAuditDiscard: a failed start removes the audit file only if it made
// it and nothing was written; an operator's existing file is never removed.
func TestAuditDiscard(t *testing.T) {
	dir := t.TempDir()
	made := filepath.Join(dir, "new.log")
	w, err := OpenAudit(made)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(made); !os.IsNotExist(err) {
		t.Errorf("a created, empty audit file survived Discard: %v", err)
	}
	existing := filepath.Join(dir, "old.log")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if w, err = OpenAudit(existing); err != nil {
		t.Fatal(err)
	}
	if err := w.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("Discard removed a file it did not create: %v", err)
	}
	written := filepath.Join(dir, "written.log")
	if w, err = OpenAudit(written); err != nil {
		t.Fatal(err)
	}
	NewAudit(w).Info("kept")
	if err := w.Discard(); err != nil {
		t.Fatal(err)
	}
	if got := readRecords(t, written); len(got) != 1 {
		t.Errorf("Discard dropped records: %v", got)
	}
}
