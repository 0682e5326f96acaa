package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// adtDoc is a parsed file of either kind `ecos adt` handles, so that
// validate and sign treat ADT and action files alike.
type adtDoc struct {
	kind       adt.Kind
	thresholds *adt.File       // set for adt.KindThresholds
	actions    *adt.ActionFile // set for adt.KindAction
}

// readADTDoc parses b as the kind adt.Sniff says it is, and applies that
// kind's rules. A file of no recognisable kind is read as an ADT file:
// whatever stops Sniff (an empty file, a missing row, a mangled line) is
// reported just as well by either parser.
func readADTDoc(b []byte, legacy bool) (adtDoc, error) {
	d := adtDoc{kind: adt.Sniff(b)}
	var err error
	if d.kind == adt.KindAction {
		d.actions, err = adt.ParseAction(b)
	} else {
		d.thresholds, err = adt.Read(b, adt.ValidateOptions{AllowLegacy: legacy})
	}
	return d, err
}

func (d adtDoc) user() eui.EUI {
	if d.actions != nil {
		return d.actions.User
	}
	return d.thresholds.User
}

func (d adtDoc) verify(certs *smki.Pool, o adt.VerifyOptions) (*smki.Certificate, error) {
	if d.actions != nil {
		return adt.VerifyAction(d.actions, certs, o)
	}
	return adt.Verify(d.thresholds, certs, o)
}

// summary is one line naming what the file is and does, without the
// verdict on its signature.
func (d adtDoc) summary() string {
	if f := d.actions; f != nil {
		var n [3]int
		for _, r := range f.Rows {
			n[r.Action]++
		}
		return fmt.Sprintf("action file for User %s, %d row(s) (%d release, %d delete), signer serial %s",
			f.User, len(f.Rows), n[adt.Release], n[adt.Delete], f.Signer.Serial)
	}
	f := d.thresholds
	seq := fmt.Sprintf("sequence %d", f.Sequence)
	if f.Legacy {
		seq = "legacy (no sequence number)"
	}
	return fmt.Sprintf("ADT file for User %s, %s, %d row(s), signer serial %s", f.User, seq, len(f.Rows), f.Signer.Serial)
}

// reportProblems writes each problem err carries as FILE:LINE: message, the
// form editors and CI logs link to a line, and returns the exit-1 error.
func reportProblems(w io.Writer, name string, err error) error {
	ps, ok := errors.AsType[*adt.Problems](err)
	if !ok {
		return invalid(err)
	}
	for _, p := range *ps {
		if p.Line == 0 {
			fmt.Fprintf(w, "%s: %s\n", name, p.Msg)
		} else {
			fmt.Fprintf(w, "%s:%d: %s\n", name, p.Line, p.Msg)
		}
	}
	return invalid(fmt.Errorf("%s: %d problem(s)", name, len(*ps)))
}

// displayName is how problems name the input.
func displayName(arg string) string {
	if arg == "-" {
		return "<stdin>"
	}
	return arg
}

// pathList is a repeatable flag whose values may also be comma-separated,
// as --certs is elsewhere.
type pathList []string

func (l *pathList) String() string { return strings.Join(*l, ",") }

func (l *pathList) Set(s string) error {
	for p := range strings.SplitSeq(s, ",") {
		if p == "" {
			return errors.New("empty path")
		}
		*l = append(*l, p)
	}
	return nil
}
