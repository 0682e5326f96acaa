package adt

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel causes a Problem may carry, for callers that must react to one
// kind of rejection (a replay is answered differently from a typo).
var (
	ErrSyntax    = errors.New("adt: malformed file")
	ErrRule      = errors.New("adt: file rule broken")
	ErrLegacy    = errors.New("adt: legacy file without a sequence number")
	ErrSignature = errors.New("adt: bad signature")
	ErrSigner    = errors.New("adt: signing certificate not acceptable")
	ErrReplay    = errors.New("adt: sequence number not greater than the last accepted")
)

// Problem is one thing wrong with an ADT or action file. Line is 1-based; 0
// means the file as a whole (its size, or it being empty), where no line can
// be blamed.
type Problem struct {
	Line int
	Msg  string
	Err  error // one of the Err sentinels
}

func (p Problem) String() string {
	if p.Line == 0 {
		return "file: " + p.Msg
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
}

// Problems is every problem found in a rejected file. The submitter gets
// them all at once, so one round trip fixes the file rather than one per
// mistake.
type Problems []Problem

func (ps *Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "adt: file rejected, %d problem(s)", len(*ps))
	for _, p := range *ps {
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrReplay) ask about any one problem.
func (ps *Problems) Unwrap() []error {
	var errs []error
	for _, p := range *ps {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// add records a problem; kind is the sentinel it wraps.
func (ps *Problems) add(line int, kind error, format string, args ...any) {
	*ps = append(*ps, Problem{Line: line, Msg: fmt.Sprintf(format, args...), Err: kind})
}

// err returns ps as an error, or nil when there is nothing to report.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ps
}
