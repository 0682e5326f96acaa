package refdata

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpxn"
	"github.com/ecos-cos/ecos/store"
)

// InventoryColumns are the columns of a migration inventory file.
var InventoryColumns = []string{"device_eui", "type", "manufacturer", "model", "firmware", "mpxn",
	"responsible_supplier", "smi_status", "install_date", "credential"}

// InventoryOptions is what an inventory is read against.
type InventoryOptions struct {
	// TCoSSKI and ECoSSKI are the subject key identifiers of the TCoS and
	// ECoS certificates: a credential cell may name either by its SKI.
	// nil: not known, and a cell giving an SKI is refused.
	TCoSSKI, ECoSSKI []byte
	// GoLive is the day the ECoS Party went live: a device installed on
	// or after it must declare its credential (tcos or ecos, not unknown).
	// Zero: no such rule.
	GoLive time.Time
}

// Inventory reads a migration inventory one line at a time: memory does
// not grow with the file. It is a store.InventorySource: Next yields each
// good line; Err, at the end, lists every bad line (line, column, why),
// and is nil only if there was none.
type Inventory struct {
	t     table
	cr    *csv.Reader
	index map[string]int
	width int
	opts  InventoryOptions
	rows  int
	done  bool
}

// NewInventory reads the header of the inventory in r (named name in
// problems); a bad header ends the file at once, with Err saying why.
func NewInventory(name string, r io.Reader, opts InventoryOptions) *Inventory {
	in := &Inventory{t: table{file: name}, cr: newCSV(&lineGuard{r: r}), opts: opts}
	in.cr.ReuseRecord = true
	header, index := in.t.header(in.cr, InventoryColumns)
	in.index, in.width, in.done = index, len(header), index == nil
	return in
}

// Next returns the next good line's device and line number; ok is false
// at the end of the file (or after 1,000 problems, past which reading on
// is no help).
func (in *Inventory) Next() (line int, d store.InventoryDevice, ok bool) {
	for !in.done {
		rec, err := in.cr.Read()
		if errors.Is(err, io.EOF) {
			in.done = true
			break
		}
		if long, ok := errors.AsType[*longLineError](err); ok {
			in.t.addf(long.line, "longer than %d bytes: not an inventory line", maxLine)
			in.done = true
			break
		}
		if err != nil {
			line := 0
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				line = pe.StartLine
			}
			in.t.addf(line, "%v", err)
			in.done = len(in.t.problems) >= maxProblems
			continue
		}
		line, _ := in.cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		in.rows++
		if len(rec) != in.width {
			in.t.addf(line, "%d fields, want %d", len(rec), in.width)
			continue
		}
		d, good := in.device(line, rec)
		in.done = len(in.t.problems) >= maxProblems
		if good {
			return line, d, true
		}
	}
	return 0, store.InventoryDevice{}, false
}

// Err is nil if every line was good; otherwise an *Error naming each bad
// line (up to 1,000).
func (in *Inventory) Err() error {
	if in.rows == 0 && len(in.t.problems) == 0 {
		in.t.addf(0, "no rows after the header")
	}
	return in.t.err()
}

// device checks one line, adding a problem per bad column.
func (in *Inventory) device(line int, rec []string) (store.InventoryDevice, bool) {
	before := len(in.t.problems)
	field := func(col string) string { return strings.TrimSpace(rec[in.index[col]]) }
	bad := func(col, format string, a ...any) {
		in.t.addf(line, "column %s: %s", col, fmt.Sprintf(format, a...))
	}
	var d store.InventoryDevice
	var err error
	if d.EUI, err = eui.Parse(field("device_eui")); err != nil {
		bad("device_eui", "%v", err)
	} else if d.EUI.IsZero() {
		bad("device_eui", "the zero EUI-64 is no device")
	}
	switch d.Type = store.DeviceType(strings.ToUpper(field("type"))); d.Type {
	case store.ESME, store.GSME:
	default:
		bad("type", "%q: want ESME or GSME", field("type"))
	}
	for _, c := range []struct {
		col string
		to  *string
	}{{"manufacturer", &d.Manufacturer}, {"model", &d.Model}, {"firmware", &d.Firmware}, {"responsible_supplier", &d.ResponsibleSupplier}} {
		*c.to = field(c.col)
		switch {
		case *c.to == "":
			bad(c.col, "empty")
		case len(*c.to) > maxText:
			bad(c.col, "%d bytes, at most %d", len(*c.to), maxText)
		case strings.ContainsFunc(*c.to, unicode.IsControl):
			bad(c.col, "%q has a control character", *c.to)
		}
	}
	if d.MPxN = field("mpxn"); d.MPxN != "" {
		if _, err := mpxn.Parse(d.MPxN); err != nil {
			bad("mpxn", "%v", err)
		}
	}
	if d.SMIStatus = store.SMIStatus(strings.ToLower(field("smi_status"))); !knownSMI(d.SMIStatus) {
		bad("smi_status", "%q is not an SMI status", field("smi_status"))
	}
	installed, dateErr := time.Parse("2006-01-02", field("install_date"))
	if dateErr != nil {
		bad("install_date", "%q: want YYYY-MM-DD", field("install_date"))
	}
	d.Installed = installed
	var why string
	if d.Credential, d.CredentialSKI, why = in.credential(field("credential")); why != "" {
		bad("credential", "%s", why)
	}
	if dateErr == nil && d.Credential == store.CredentialUnknown && !in.opts.GoLive.IsZero() && !installed.Before(in.opts.GoLive) {
		bad("credential", "unknown for a device installed %s, on or after go-live (%s): a device added since must declare tcos or ecos",
			installed.Format(time.DateOnly), in.opts.GoLive.Format(time.DateOnly))
	}
	return d, len(in.t.problems) == before
}

// maxText bounds the free-text columns, as the store does.
const maxText = 256

// credential reads a credential cell: a word, or the SKI of the TCoS or
// the ECoS certificate in hex (colons, dashes and spaces between bytes
// allowed). A word gives the configured SKI, when known, with it.
func (in *Inventory) credential(s string) (store.Credential, []byte, string) {
	switch c := store.Credential(strings.ToLower(s)); c {
	case store.CredentialTCoS:
		return c, in.opts.TCoSSKI, ""
	case store.CredentialECoS:
		return c, in.opts.ECoSSKI, ""
	case store.CredentialUnknown:
		return c, nil, ""
	}
	ski, err := hex.DecodeString(strings.NewReplacer(":", "", "-", "", " ", "").Replace(s))
	if err != nil || len(ski) == 0 {
		return "", nil, fmt.Sprintf("%q: want tcos, ecos, unknown, or the SKI of the TCoS or ECoS certificate in hex", s)
	}
	switch {
	case in.opts.TCoSSKI == nil && in.opts.ECoSSKI == nil:
		return "", nil, fmt.Sprintf("SKI %X: the TCoS and ECoS certificates are not known here to resolve it (import with --config)", ski)
	case in.opts.TCoSSKI != nil && bytes.Equal(ski, in.opts.TCoSSKI):
		return store.CredentialTCoS, ski, ""
	case in.opts.ECoSSKI != nil && bytes.Equal(ski, in.opts.ECoSSKI):
		return store.CredentialECoS, ski, ""
	}
	return "", nil, fmt.Sprintf("SKI %X is neither the TCoS certificate's (%X) nor the ECoS certificate's (%X)", ski, in.opts.TCoSSKI, in.opts.ECoSSKI)
}

// maxLine bounds one physical line of an inventory (a good one is about
// 100 bytes): the CSV reader holds a whole record, so without a bound one
// endless line would hold the whole file.
const maxLine = 64 << 10

// lineGuard fails a read that would make a line longer than maxLine.
type lineGuard struct {
	r    io.Reader
	run  int // bytes since the last newline
	line int // newlines so far
}

type longLineError struct{ line int }

func (e *longLineError) Error() string {
	return fmt.Sprintf("line %d is longer than %d bytes", e.line, maxLine)
}

func (g *lineGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for rest := p[:n]; ; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			g.run += len(rest)
			break
		}
		if g.run+i > maxLine {
			g.run += i
			break
		}
		g.run, g.line, rest = 0, g.line+1, rest[i+1:]
	}
	if g.run > maxLine {
		return 0, &longLineError{line: g.line + 1}
	}
	return n, err
}
