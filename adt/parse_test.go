package adt

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

const hdr = "70-B3-D5-1F-30-00-A0-04,17"

func TestParseOK(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want func(t *testing.T, f *File)
	}{
		{"ok/LF", lines(hdr, "6.23,50,100,1440", "1.1.1,999999,999999,1440", fakeSig), func(t *testing.T, f *File) {
			if f.User != eui.MustParse("70-B3-D5-1F-30-00-A0-04") || f.Sequence != 17 || f.Legacy || f.CRLF {
				t.Errorf("header = %v,%d legacy=%v crlf=%v", f.User, f.Sequence, f.Legacy, f.CRLF)
			}
			want := []Row{{"6.23", 50, 100, 1440, 2}, {"1.1.1", 999999, 999999, 1440, 3}}
			if !slices.Equal(f.Rows, want) {
				t.Errorf("rows = %v, want %v", f.Rows, want)
			}
			if f.SignatureLine != 4 || f.Signer.Serial.Int64() != 12345 || len(f.Signature) != 64 || !f.FinalNewline {
				t.Errorf("signature: line %d serial %v len %d", f.SignatureLine, f.Signer.Serial, len(f.Signature))
			}
			if got := f.Signer.Issuer.String(); got != "CN=IKI File Signing CA,OU=issuingAuthority,O=DCC" {
				t.Errorf("issuer = %q", got)
			}
			if want := hdr + "\n6.23,50,100,1440\n1.1.1,999999,999999,1440\n"; string(f.Signed) != want {
				t.Errorf("signed = %q, want %q", f.Signed, want)
			}
		}},
		{"ok/CRLF", []byte(hdr + "\r\n6.23,0,0,1440\r\n" + fakeSig + "\r\n"), func(t *testing.T, f *File) {
			if !f.CRLF || string(f.Signed) != hdr+"\r\n6.23,0,0,1440\r\n" {
				t.Errorf("crlf=%v signed=%q", f.CRLF, f.Signed)
			}
		}},
		{"ok/no-final-newline", []byte(hdr + "\n6.23,0,0,1440\n" + fakeSig), func(t *testing.T, f *File) {
			if f.FinalNewline {
				t.Error("FinalNewline set")
			}
		}},
		{"ok/legacy", lines("70-B3-D5-1F-30-00-A0-04", "6.23,1,2,60", fakeSig), func(t *testing.T, f *File) {
			if !f.Legacy || f.Sequence != 0 {
				t.Errorf("legacy=%v seq=%d", f.Legacy, f.Sequence)
			}
		}},
		{"ok/no-rows", lines(hdr, fakeSig), func(t *testing.T, f *File) {
			if len(f.Rows) != 0 {
				t.Errorf("rows = %v", f.Rows)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			tc.want(t, f)
			if got := f.Marshal(); !bytes.Equal(got, tc.in) {
				t.Errorf("Marshal = %q, want the input %q", got, tc.in)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		lines []int  // line of every problem, in order
		msg   string // in the first problem
	}{
		{"fail/empty", nil, []int{0}, "empty"},
		{"fail/oversized", append(lines(hdr), bytes.Repeat([]byte("6.23,1,1,1\n"), MaxSize/10)...), []int{0}, "limit"},
		{"fail/BOM", append([]byte{0xEF, 0xBB, 0xBF}, lines(hdr, "6.23,1,1,1440", fakeSig)...), []int{1}, "byte-order mark"},
		{"fail/no-signature", lines(hdr, "6.23,1,1,1440"), []int{2}, "without a signature line"},
		{"fail/header-only", []byte(hdr), []int{1}, "without a signature line"},
		{"fail/partial-line", []byte(hdr + "\n6.23,1,1,1440\n1.1.1,5,"), []int{3, 3}, "truncated"},
		{"fail/after-signature", lines(hdr, "6.23,1,1,1440", fakeSig, "1.1.1,1,1,1440"), []int{4}, "after the signature line (line 3)"},
		{"fail/blank-after-signature", []byte(hdr + "\n6.23,1,1,1440\n" + fakeSig + "\n\n"), []int{4}, "after the signature"},
		{"fail/blank-line", lines(hdr, "", "6.23,1,1,1440", fakeSig), []int{2}, "blank line"},
		{"fail/guid-lower-case", lines("70-b3-d5-1f-30-00-a0-04,17", fakeSig), []int{1}, "User GUID"},
		{"fail/guid-compact", lines("70B3D51F3000A004,17", fakeSig), []int{1}, "User GUID"},
		{"fail/guid-short", lines("70-B3-D5-1F-30-00-A0,17", fakeSig), []int{1}, "User GUID"},
		{"fail/seq-negative", lines("70-B3-D5-1F-30-00-A0-04,-1", fakeSig), []int{1}, "sequence number"},
		{"fail/seq-plus", lines("70-B3-D5-1F-30-00-A0-04,+5", fakeSig), []int{1}, "sequence number"},
		{"fail/seq-leading-zero", lines("70-B3-D5-1F-30-00-A0-04,007", fakeSig), []int{1}, "sequence number"},
		{"fail/seq-overflow", lines("70-B3-D5-1F-30-00-A0-04,18446744073709551616", fakeSig), []int{1}, "sequence number"},
		{"fail/seq-empty", lines("70-B3-D5-1F-30-00-A0-04,", fakeSig), []int{1}, "sequence number"},
		{"fail/header-fields", lines(hdr+",9", fakeSig), []int{1}, "header has 3 fields"},
		{"fail/row-3-fields", lines(hdr, "6.23,1,1440", fakeSig), []int{2}, "row has 3 fields"},
		{"fail/row-5-fields", lines(hdr, "6.23,1,1,1440,", fakeSig), []int{2}, "row has 5 fields"},
		{"fail/interval-not-number", lines(hdr, "6.23,1,1,daily", fakeSig), []int{2}, `interval "daily"`},
		{"fail/warning-negative", lines(hdr, "6.23,-1,1,1440", fakeSig), []int{2}, "warning threshold"},
		{"fail/quarantine-spaces", lines(hdr, "6.23,1, 1,1440", fakeSig), []int{2}, "quarantine threshold"},
		{"fail/empty-srv", lines(hdr, ",1,1,1440", fakeSig), []int{2}, "SRV is empty"},
		{"fail/mixed-eol", []byte(hdr + "\r\n6.23,1,1,1440\n" + fakeSig + "\r\n"), []int{2}, "CRLF"},
		{"fail/stray-cr", lines(hdr, "6.23,1\r,1,1440", fakeSig), []int{2}, "carriage return"},
		{"fail/sig-fields", lines(hdr, "6.23,1,1,1440", "Signature,CN%3DX,1"), []int{3}, "signature line has 3 fields"},
		{"fail/sig-base64", lines(hdr, "6.23,1,1,1440", "Signature,CN%3DX,1,!!!!"), []int{3}, "base64"},
		{"fail/sig-empty", lines(hdr, "6.23,1,1,1440", "Signature,CN%3DX,1,"), []int{3}, "0 bytes"},
		{"fail/sig-serial", lines(hdr, "6.23,1,1,1440", strings.Replace(fakeSig, ",12345,", ",0x3039,", 1)), []int{3}, "serial"},
		{"fail/sig-issuer-escape", lines(hdr, "6.23,1,1,1440", strings.Replace(fakeSig, "CN%3D", "CN%zz", 1)), []int{3}, "form-encoded"},
		{"fail/sig-issuer-not-dn", lines(hdr, "6.23,1,1,1440", strings.Replace(fakeSig, "CN%3DIKI", "CNIKI", 1)), []int{3}, "distinguished name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse accepted %q", tc.in)
			}
			if f != nil {
				t.Error("Parse returned a File with an error")
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v is not ErrSyntax", err)
			}
			if got := problemLines(t, err); !slices.Equal(got, tc.lines) {
				t.Errorf("problem lines = %v, want %v; error:\n%v", got, tc.lines, err)
			}
			if first := (*err.(*Problems))[0].Msg; !strings.Contains(first, tc.msg) {
				t.Errorf("first problem %q does not mention %q", first, tc.msg)
			}
		})
	}
}

// TestParseHostileLineClipped: a huge bad field is quoted in part only.
func TestParseHostileLineClipped(t *testing.T) {
	_, err := Parse(lines(hdr, "6.23,1,1,"+strings.Repeat("x", 100000), fakeSig))
	if err == nil || len(err.Error()) > 500 {
		t.Fatalf("error is %d bytes: %.200v", len(err.Error()), err)
	}
}
