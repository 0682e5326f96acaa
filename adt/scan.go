package adt

import (
	"bytes"
	"encoding/base64"
	"math/big"
	"net/url"
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

// frame is what scan reads from the layout that ADT and action files
// share.
type frame struct {
	crlf bool
	seal Seal
}

// scan checks the layout both kinds of file share: the size limit, one
// line ending throughout, no byte-order mark, blank line or stray CR, a
// signature line last and nothing after it. It hands line 1 to header and
// every line between it and the signature line to row, split at commas,
// and adds every problem it finds to ps. It returns false, with nothing
// read, only for an input that is empty or too big to look at.
func scan(b []byte, ps *Problems, header func(fields []string), row func(fields []string, no int)) (frame, bool) {
	switch {
	case len(b) == 0:
		ps.add(0, ErrSyntax, "file is empty")
		return frame{}, false
	case len(b) > MaxSize:
		ps.add(0, ErrSyntax, "file is %d bytes, over the %d-byte limit", len(b), MaxSize)
		return frame{}, false
	}
	var fr frame
	lines := splitLines(b)
	fr.crlf = lines[0].eol == "\r\n"
	for i, l := range lines {
		if fr.seal.SignatureLine != 0 {
			ps.add(l.no, ErrSyntax, "content after the signature line (line %d)", fr.seal.SignatureLine)
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
			header(fields)
		case fields[0] == sigTag:
			fr.seal.SignatureLine = l.no
			fr.seal.Signed = b[:l.start]
			fr.seal.FinalNewline = l.eol != ""
			parseSignature(&fr, fields, l.no, ps)
		case l.eol == "":
			ps.add(l.no, ErrSyntax, "last line has no line ending and is not a signature line: the file is truncated")
		default:
			row(fields, l.no)
		}
	}
	if fr.seal.SignatureLine == 0 {
		ps.add(lines[len(lines)-1].no, ErrSyntax, "file ends without a signature line: it is truncated or unsigned")
	}
	return fr, true
}

func eolName(eol string) string {
	if eol == "\r\n" {
		return "CRLF"
	}
	return "LF"
}

// parseUser reads the User GUID that opens line 1 of either kind of file.
func parseUser(s string, ps *Problems) (eui.EUI, bool) {
	id, err := eui.Parse(s)
	if err != nil || id.String() != s {
		// Only the DUIS spelling: two spellings of one GUID would let two
		// byte strings mean the same file.
		ps.add(1, ErrSyntax, "User GUID %q is not an EUI-64 written like 70-B3-D5-1F-30-00-A0-04", clip(s))
		return eui.EUI{}, false
	}
	return id, true
}

// parseSignature reads "Signature,<form-encoded issuer DN>,<decimal
// serial>,<base64 signature>".
func parseSignature(fr *frame, fields []string, no int, ps *Problems) {
	if len(fields) != 4 {
		ps.add(no, ErrSyntax, "signature line has %d fields; want Signature,issuer,serial,signature", len(fields))
		return
	}
	fr.seal.Signer.Encoded = fields[1]
	dn, err := url.QueryUnescape(fields[1])
	if err != nil {
		ps.add(no, ErrSyntax, "issuer %q is not form-encoded: %v", clip(fields[1]), err)
	} else if name, err := smki.ParseName(dn); err != nil || name.IsEmpty() {
		ps.add(no, ErrSyntax, "issuer %q is not a distinguished name", clip(dn))
	} else {
		fr.seal.Signer.Issuer = name
	}
	// RFC 5280 serials are at most 20 octets, under 49 decimal digits.
	if s := fields[2]; len(s) > 49 || !isDigits(s) || s == "0" {
		ps.add(no, ErrSyntax, "certificate serial %q is not a positive decimal integer without leading zeros", clip(s))
	} else {
		fr.seal.Signer.Serial, _ = new(big.Int).SetString(s, 10)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(fields[3])
	switch {
	case err != nil:
		ps.add(no, ErrSyntax, "signature is not base64: %v", err)
	case len(sig) == 0 || len(sig) > maxSigLen:
		ps.add(no, ErrSyntax, "signature is %d bytes; an ECDSA P-256 signature is 64 (r‖s) or at most %d (DER)", len(sig), maxSigLen)
	default:
		fr.seal.Signature = sig
	}
}
