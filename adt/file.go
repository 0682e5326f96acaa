package adt

import (
	"encoding/base64"
	"math/big"
	"strconv"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// Limits of the format. product.md §4 gives none; these are ours.
const (
	// MaxSize bounds a file before any parsing: 1 MiB holds every DUIS
	// SRV at dozens of intervals many times over, and refusing more keeps
	// an untrusted upload from costing unbounded memory.
	MaxSize = 1 << 20
	// MaxThreshold bounds warning and quarantine counts at 2^32-1, so
	// that counters sized for them cannot overflow and an absurd value is
	// caught as a probable typo rather than treated as "no limit".
	MaxThreshold = 1<<32 - 1
	// MaxInterval is one day in minutes, the longest window the format
	// allows; the shortest is one minute.
	MaxInterval = 1440
)

// File is a parsed ADT file. Parse fills every field from the bytes; Marshal
// writes the same bytes back from the fields.
type File struct {
	User     eui.EUI // the submitting User's GUID
	Sequence uint64  // file sequence number; 0 and meaningless when Legacy
	Legacy   bool    // the header has no sequence number (pre-June 2023 format)
	CRLF     bool    // lines end in CRLF rather than LF
	Rows     []Row

	Seal
}

// Seal is the signature line of an ADT or action file, and what it
// covers.
type Seal struct {
	Signer        IssuerSerial
	Signature     []byte // the decoded signature: 64-byte r‖s, or DER
	SignatureLine int    // 1-based line number of the signature line
	// FinalNewline says whether the signature line ends with a line
	// ending. Either is accepted: the signature does not cover it.
	FinalNewline bool

	// Signed is the exact bytes the signature covers: every line before
	// the signature line, line endings included.
	Signed []byte
}

// Row is one threshold line: SRV,warning,quarantine,interval.
type Row struct {
	SRV        string
	Warning    uint64
	Quarantine uint64
	Interval   uint64 // window length in minutes, 1..MaxInterval once validated
	Line       int    // 1-based line number in the file; 0 for rows built in code
}

// Window is the row's interval as a duration.
func (r Row) Window() time.Duration { return time.Duration(r.Interval) * time.Minute }

// IssuerSerial names the signing certificate the way the signature line
// does, mirroring XMLDSig's X509IssuerSerial.
type IssuerSerial struct {
	Issuer smki.Name
	Serial *big.Int
	// Encoded is the issuer field exactly as written in the file, still
	// form-encoded, so that Marshal gives back the bytes it was parsed
	// from. Empty means "encode Issuer the way Sign does".
	Encoded string
}

// eol is the file's line ending.
func (f *File) eol() string {
	if f.CRLF {
		return "\r\n"
	}
	return "\n"
}

// AppendBody appends the signed part of the file (header and rows, every
// line terminated) to dst. It does not check the rows: tests use it to
// write bad files on purpose.
func (f *File) AppendBody(dst []byte) []byte {
	eol := f.eol()
	dst = append(dst, f.User.String()...)
	if !f.Legacy {
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, f.Sequence, 10)
	}
	dst = append(dst, eol...)
	for _, r := range f.Rows {
		dst = append(dst, r.SRV...)
		for _, n := range []uint64{r.Warning, r.Quarantine, r.Interval} {
			dst = append(dst, ',')
			dst = strconv.AppendUint(dst, n, 10)
		}
		dst = append(dst, eol...)
	}
	return dst
}

// Marshal returns the whole file, signature line included. For a File that
// Parse returned it gives back exactly the parsed bytes.
func (f *File) Marshal() []byte {
	b := f.AppendBody(nil)
	return append(b, f.Seal.line(f.eol())...)
}

// line formats the signature line, ended with eol if FinalNewline.
func (s *Seal) line(eol string) string {
	issuer := s.Signer.Encoded
	if issuer == "" {
		issuer = encodeIssuer(s.Signer.Issuer)
	}
	serial := "0"
	if s.Signer.Serial != nil {
		serial = s.Signer.Serial.String()
	}
	l := sigTag + "," + issuer + "," + serial + "," + base64.StdEncoding.EncodeToString(s.Signature)
	if s.FinalNewline {
		l += eol
	}
	return l
}
