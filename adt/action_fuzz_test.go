package adt

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParseAction: ParseAction never panics; on failure it returns a nil
// file and a *Problems whose lines exist in the input; on success Marshal
// gives back the input exactly, the signed part is a prefix of it, and
// the rules hold: at least one row, no ref twice, no ref 0.
func FuzzParseAction(f *testing.F) {
	for _, seed := range [][]byte{
		lines(user, "18446744073709551615,Release", "42,Delete", fakeSig),
		[]byte(user + "\r\n1,release\r\n" + fakeSig + "\r\n"),
		[]byte(user + "\n1,DELETE\n" + fakeSig),
		lines(user, "0,Release", "7,Hold", "7,Delete", "7,Delete", "", fakeSig, "after"),
		lines(user, fakeSig),
		lines(hdr, "6.23,50,100,1440", fakeSig),
		[]byte("\xEF\xBB\xBF" + user + "\n"),
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := ParseAction(in)
		if err != nil {
			if file != nil {
				t.Fatal("ActionFile returned with an error")
			}
			var ps *Problems
			if !errors.As(err, &ps) || len(*ps) == 0 {
				t.Fatalf("error %v is not a non-empty *Problems", err)
			}
			n := strings.Count(string(in), "\n") + 1
			for _, p := range *ps {
				if p.Line < 0 || p.Line > n {
					t.Fatalf("problem on line %d of a %d-line input: %v", p.Line, n, p)
				}
			}
			return
		}
		if got := file.Marshal(); !bytes.Equal(got, in) {
			t.Fatalf("Marshal = %q, want %q", got, in)
		}
		if !bytes.HasPrefix(in, file.Signed) || file.SignatureLine != len(file.Rows)+2 {
			t.Fatalf("signed part %q / line %d with %d rows", file.Signed, file.SignatureLine, len(file.Rows))
		}
		seen := make(map[uint64]bool)
		for _, r := range file.Rows {
			if r.Ref == 0 || seen[r.Ref] || (r.Action != Release && r.Action != Delete) {
				t.Fatalf("accepted row breaks the rules: %+v", r)
			}
			seen[r.Ref] = true
		}
		if len(file.Rows) == 0 {
			t.Fatal("accepted a file with no rows")
		}
		if Sniff(in) != KindAction {
			t.Fatalf("Sniff = %v for an accepted action file", Sniff(in))
		}
	})
}
