package adt

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; on failure it returns a nil File and a
// *Problems whose lines exist in the input; on success Marshal gives back
// the input exactly, the signed part is a prefix of it, and Validate, Read
// and Effective agree and do not panic.
func FuzzParse(f *testing.F) {
	for _, seed := range [][]byte{
		lines(hdr, "6.23,50,100,1440", "1.1.1,999999,999999,1440", fakeSig),
		[]byte(hdr + "\r\n6.23,0,0,1440\r\n" + fakeSig + "\r\n"),
		[]byte(hdr + "\n6.23,0,0,1440\n" + fakeSig),
		lines("70-B3-D5-1F-30-00-A0-04", "6.23,1,2,60", fakeSig),
		lines(hdr, "6.23,5,1,0", "6.23,5,1,0", "x,y", "", fakeSig, "after"),
		[]byte("\xEF\xBB\xBF" + hdr + "\n"),
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(in)
		n := strings.Count(string(in), "\n") + 1
		if err != nil {
			if file != nil {
				t.Fatal("File returned with an error")
			}
			var ps *Problems
			if !errors.As(err, &ps) || len(*ps) == 0 {
				t.Fatalf("error %v is not a non-empty *Problems", err)
			}
			for _, p := range *ps {
				if p.Line < 0 || p.Line > n {
					t.Fatalf("problem on line %d of a %d-line input: %v", p.Line, n, p)
				}
			}
			if _, err := Read(in, ValidateOptions{AllowLegacy: true}); err == nil {
				t.Fatal("Read accepted what Parse refused")
			}
			return
		}
		if got := file.Marshal(); !bytes.Equal(got, in) {
			t.Fatalf("Marshal = %q, want %q", got, in)
		}
		if !bytes.HasPrefix(in, file.Signed) || file.SignatureLine < 2 {
			t.Fatalf("signed part %q / line %d", file.Signed, file.SignatureLine)
		}
		o := ValidateOptions{AllowLegacy: true}
		verr := file.Validate(o)
		if _, rerr := Read(in, o); (verr == nil) != (rerr == nil) {
			t.Fatalf("Validate = %v but Read = %v", verr, rerr)
		}
		for _, th := range file.Effective() {
			if !KnownSRV(th.SRV) || th.Warning > th.Quarantine || th.Interval < 1 || th.Interval > MaxInterval {
				t.Fatalf("effective threshold breaks the rules: %+v", th)
			}
		}
	})
}
