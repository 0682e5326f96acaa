// Package refdata reads the reference data operators load into ecos, as
// CSV: parties (with their DCC User IDs and MPIDs), devices, the migration
// inventory (read one line at a time: NewInventory), registrations, and
// the certificate serial → MPID table. Parsing is all or nothing: every
// problem in a file is reported with its line number, and a file with any
// problem is refused (Registrations then also returns what the lines
// reference, for the caller to check). docs/import.md describes the
// formats.
//
// Trust level: parses untrusted operator files; writes nothing.
package refdata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// Problem is one fault in a file.
type Problem struct {
	Line int // 1-based; 0 for the file as a whole
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.Msg
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
}

// Error lists every problem found in a file.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s)", e.File, len(e.Problems))
	for i, p := range e.Problems {
		if i == 20 {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-20)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// maxProblems stops a hopeless file from producing a million lines.
const maxProblems = 1000

// table is a CSV file with a required header: rows come back as maps from
// column name to trimmed value, each with its line number.
type table struct {
	file     string
	problems []Problem
}

func (t *table) addf(line int, format string, a ...any) {
	if len(t.problems) < maxProblems {
		t.problems = append(t.problems, Problem{Line: line, Msg: fmt.Sprintf(format, a...)})
	}
}

func (t *table) err() error {
	if len(t.problems) == 0 {
		return nil
	}
	// In line order, as the operator will read the file to fix it.
	sort.SliceStable(t.problems, func(i, j int) bool { return t.problems[i].Line < t.problems[j].Line })
	return &Error{File: t.file, Problems: t.problems}
}

type row struct {
	line   int
	fields map[string]string
}

// read parses the CSV with exactly the columns want (in any order; extra
// or missing columns are problems), skipping blank lines.
func (t *table) read(r io.Reader, want []string) []row {
	cr := newCSV(r)
	header, index := t.header(cr, want)
	if index == nil {
		return nil
	}
	var rows []row
	t.eachRecord(cr, func(line int, rec []string) {
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			return
		}
		if len(rec) != len(header) {
			t.addf(line, "%d fields, want %d", len(rec), len(header))
			return
		}
		f := make(map[string]string, len(want))
		for _, w := range want {
			f[w] = strings.TrimSpace(rec[index[w]])
		}
		rows = append(rows, row{line: line, fields: f})
	})
	if len(rows) == 0 && len(t.problems) == 0 {
		t.addf(0, "no rows after the header")
	}
	return rows
}

// eachRecord hands fn every record of cr with its line, and notes each
// record csv cannot read as a problem of t, until t has maxProblems.
func (t *table) eachRecord(cr *csv.Reader, fn func(line int, rec []string)) {
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// FieldPos is undefined after an error; the error has the line.
			line := 0
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				line = pe.StartLine
			}
			t.addf(line, "%v", err)
			if len(t.problems) >= maxProblems {
				return
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		fn(line, rec)
	}
}

func newCSV(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return cr
}

// header reads the header line: exactly the columns want, in any order.
// It returns the header and each column's index, or a nil index after
// adding the problems.
func (t *table) header(cr *csv.Reader, want []string) ([]string, map[string]int) {
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			t.addf(0, "empty file: want a header line %s", strings.Join(want, ","))
		} else {
			t.addf(1, "%v", err)
		}
		return nil, nil
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := index[h]; dup {
			t.addf(1, "column %q appears twice", h)
		}
		index[h] = i
	}
	for _, w := range want {
		if _, ok := index[w]; !ok {
			t.addf(1, "missing column %q (want %s)", w, strings.Join(want, ","))
		}
	}
	for h := range index {
		if !slices.Contains(want, h) {
			t.addf(1, "unknown column %q (want %s)", h, strings.Join(want, ","))
		}
	}
	if len(t.problems) > 0 {
		return nil, nil
	}
	return header, index
}
