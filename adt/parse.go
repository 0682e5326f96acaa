package adt

import (
	"bytes"
	"encoding/base64"
	"math/big"
	"net/url"
	"strconv"
	"strings"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// sigTag opens the signature line.
const sigTag = "Signature"

// bom is the UTF-8 byte-order mark some editors put at the start of a CSV.
var bom = []byte{0xEF, 0xBB, 0xBF}

// line is one line of the file and where it sits in the input.
type line struct {
	no    int    // 1-based
	text  []byte // without the line ending
	eol   string // "\n", "\r\n", or "" for a last line with none
	start int    // offset of the line's first byte in the input
}

// splitLines cuts b into lines. A CR counts as part of the line ending only
// directly before LF; anywhere else it stays in the text and is reported.
func splitLines(b []byte) []line {
	var lines []line
	off := 0
	for off < len(b) {
		l := line{no: len(lines) + 1, start: off}
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			l.text = b[off:]
			off = len(b)
		} else {
			l.text = b[off : off+i]
			l.eol = "\n"
			off += i + 1
			if n := len(l.text); n > 0 && l.text[n-1] == '\r' {
				l.text = l.text[:n-1]
				l.eol = "\r\n"
			}
		}
		lines = append(lines, l)
	}
	return lines
}

// Parse reads the structure of an ADT file: header, rows and signature
// line, each field in its one accepted spelling. It does not apply the
// threshold rules (see Validate) nor check the signature (see Verify).
// On failure it returns a nil File and a *Problems listing every structural
// problem found, with line numbers.
//
// The accepted spellings are strict on purpose, so that one file has one
// meaning and Marshal gives back the input: fields are not trimmed or
// quoted; numbers are ASCII digits without sign or leading zeros; the GUID
// is the upper-case dashed DUIS form; the whole file uses one line ending;
// blank lines, a byte-order mark and anything after the signature line are
// refused.
func Parse(b []byte) (*File, error) {
	f, ps := parse(b)
	if len(ps) > 0 {
		return nil, ps.err()
	}
	return f, nil
}

// parse is Parse returning whatever it could read alongside the problems,
// so that Read can also apply the rules to the rows that did parse. f is nil
// only when the file is empty or too big to look at.
func parse(b []byte) (*File, Problems) {
	var ps Problems
	switch {
	case len(b) == 0:
		ps.add(0, ErrSyntax, "file is empty")
		return nil, ps
	case len(b) > MaxSize:
		ps.add(0, ErrSyntax, "file is %d bytes, over the %d-byte limit", len(b), MaxSize)
		return nil, ps
	}
	f := &File{}
	lines := splitLines(b)
	f.CRLF = lines[0].eol == "\r\n"
	for i, l := range lines {
		if f.SignatureLine != 0 {
			ps.add(l.no, ErrSyntax, "content after the signature line (line %d)", f.SignatureLine)
			break
		}
		if l.eol != "" && lines[0].eol != "" && l.eol != lines[0].eol {
			ps.add(l.no, ErrSyntax, "line ends in %s but line 1 ends in %s; use one line ending throughout",
				eolName(l.eol), eolName(lines[0].eol))
		}
		text := l.text
		if i == 0 && bytes.HasPrefix(text, bom) {
			ps.add(1, ErrSyntax, "file starts with a UTF-8 byte-order mark (EF BB BF); save it without one")
			text = text[len(bom):]
		}
		if bytes.IndexByte(text, '\r') >= 0 {
			ps.add(l.no, ErrSyntax, "stray carriage return inside the line")
			continue
		}
		if len(text) == 0 {
			ps.add(l.no, ErrSyntax, "blank line")
			continue
		}
		fields := strings.Split(string(text), ",")
		switch {
		case i == 0:
			parseHeader(f, fields, &ps)
		case fields[0] == sigTag:
			f.SignatureLine = l.no
			f.Signed = b[:l.start]
			f.FinalNewline = l.eol != ""
			parseSignature(f, fields, l.no, &ps)
		case l.eol == "":
			ps.add(l.no, ErrSyntax, "last line has no line ending and is not a signature line: the file is truncated")
		default:
			if r, ok := parseRow(fields, l.no, &ps); ok {
				f.Rows = append(f.Rows, r)
			}
		}
	}
	if f.SignatureLine == 0 {
		ps.add(lines[len(lines)-1].no, ErrSyntax, "file ends without a signature line: it is truncated or unsigned")
	}
	return f, ps
}

func eolName(eol string) string {
	if eol == "\r\n" {
		return "CRLF"
	}
	return "LF"
}

// parseHeader reads line 1: "GUID,sequence", or "GUID" alone in the legacy
// format.
func parseHeader(f *File, fields []string, ps *Problems) {
	if len(fields) > 2 {
		ps.add(1, ErrSyntax, "header has %d fields; want User GUID,sequence number", len(fields))
		return
	}
	id, err := eui.Parse(fields[0])
	if err != nil || id.String() != fields[0] {
		// Only the DUIS spelling: two spellings of one GUID would let two
		// byte strings mean the same file.
		ps.add(1, ErrSyntax, "User GUID %q is not an EUI-64 written like 70-B3-D5-1F-30-00-A0-04", clip(fields[0]))
	} else {
		f.User = id
	}
	if len(fields) == 1 {
		f.Legacy = true
		return
	}
	n, ok := parseDecimal(fields[1])
	if !ok {
		ps.add(1, ErrSyntax, "sequence number %q is not a decimal integer (digits only, no sign or leading zeros, at most %d)",
			clip(fields[1]), uint64(1<<64-1))
		return
	}
	f.Sequence = n
}

// parseRow reads "SRV,warning,quarantine,interval". Whether the SRV is known
// and the numbers in range is Validate's business.
func parseRow(fields []string, no int, ps *Problems) (Row, bool) {
	if len(fields) != 4 {
		ps.add(no, ErrSyntax, "row has %d fields; want SRV,warning,quarantine,interval", len(fields))
		return Row{}, false
	}
	r := Row{SRV: fields[0], Line: no}
	ok := true
	if r.SRV == "" {
		ps.add(no, ErrSyntax, "SRV is empty")
		ok = false
	}
	for i, dst := range []*uint64{&r.Warning, &r.Quarantine, &r.Interval} {
		v, good := parseDecimal(fields[i+1])
		if !good {
			ps.add(no, ErrSyntax, "%s %q is not a decimal integer (digits only, no sign or leading zeros)",
				[]string{"warning threshold", "quarantine threshold", "interval"}[i], clip(fields[i+1]))
			ok = false
			continue
		}
		*dst = v
	}
	return r, ok
}

// parseSignature reads "Signature,<form-encoded issuer DN>,<decimal
// serial>,<base64 signature>".
func parseSignature(f *File, fields []string, no int, ps *Problems) {
	if len(fields) != 4 {
		ps.add(no, ErrSyntax, "signature line has %d fields; want Signature,issuer,serial,signature", len(fields))
		return
	}
	f.Signer.Encoded = fields[1]
	dn, err := url.QueryUnescape(fields[1])
	if err != nil {
		ps.add(no, ErrSyntax, "issuer %q is not form-encoded: %v", clip(fields[1]), err)
	} else if name, err := smki.ParseName(dn); err != nil || name.IsEmpty() {
		ps.add(no, ErrSyntax, "issuer %q is not a distinguished name", clip(dn))
	} else {
		f.Signer.Issuer = name
	}
	// RFC 5280 serials are at most 20 octets, under 49 decimal digits.
	if s := fields[2]; len(s) > 49 || !isDigits(s) || s == "0" {
		ps.add(no, ErrSyntax, "certificate serial %q is not a positive decimal integer without leading zeros", clip(s))
	} else {
		f.Signer.Serial, _ = new(big.Int).SetString(s, 10)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(fields[3])
	switch {
	case err != nil:
		ps.add(no, ErrSyntax, "signature is not base64: %v", err)
	case len(sig) == 0 || len(sig) > maxSigLen:
		ps.add(no, ErrSyntax, "signature is %d bytes; an ECDSA P-256 signature is 64 (r‖s) or at most %d (DER)", len(sig), maxSigLen)
	default:
		f.Signature = sig
	}
}

// parseDecimal accepts the one spelling of a uint64: ASCII digits, no sign,
// no leading zeros ("0" itself is fine).
func parseDecimal(s string) (uint64, bool) {
	if !isDigits(s) || len(s) > 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// isDigits reports whether s is a non-empty run of ASCII digits without a
// leading zero, unless s is "0".
func isDigits(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens a field quoted in a problem so that one hostile megabyte
// line does not become a megabyte error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
