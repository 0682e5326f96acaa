package refdata

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestMPIDBySerial(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		problems []string // each a whole "line N: …" problem, in order
	}{
		{name: "ok/header", in: "serial,mpid\n0A,SUPA\n1b2c,SUPB\n", want: map[string]string{"a": "SUPA", "1b2c": "SUPB"}},
		{name: "ok/no-header", in: "0A,SUPA\n", want: map[string]string{"a": "SUPA"}},
		{name: "ok/canonical", in: "\ufeffSerial , MPID\r\n  0x000A\t, SUPA \r\n00FF,SUPB\r\n\r\n", want: map[string]string{"a": "SUPA", "ff": "SUPB"}},
		{name: "ok/20-octets", in: strings.Repeat("f", 40) + ",SUPA\n", want: map[string]string{strings.Repeat("f", 40): "SUPA"}},
		{name: "fail/blank-and-plain", in: "serial,mpid\n 0A,SUPA\n0A,SUPB\n", problems: []string{"line 3: serial a is already on line 2"}},
		{name: "fail/case", in: "0a,SUPA\n0A,SUPA\n", problems: []string{"line 2: serial a is already on line 1"}},
		{name: "fail/leading-zeros", in: "a,SUPA\n000A,SUPB\n0x0a,SUPC\n", problems: []string{"line 2: serial a is already on line 1", "line 3: serial a is already on line 1"}},
		{name: "fail/every-problem", in: "serial,mpid\nzz,SUPA\n0,SUPB\n-1,SUPC\n0A,\n0B,SU PB\n0C\n" + strings.Repeat("1", 41) + ",X\n\u00a00D,SUPD\n", problems: []string{
			`line 2: serial "zz" is not a certificate serial in hex (1 to 40 digits, not zero)`,
			`line 3: serial "0" is not a certificate serial in hex (1 to 40 digits, not zero)`,
			`line 4: serial "-1" is not a certificate serial in hex (1 to 40 digits, not zero)`,
			`line 5: MPID "": want letters and digits`,
			`line 6: MPID "SU PB": want letters and digits`,
			`line 7: 1 fields, want 2 (serial,mpid)`,
			`line 8: serial "` + strings.Repeat("1", 41) + `" is not a certificate serial in hex (1 to 40 digits, not zero)`,
			`line 9: serial "\u00a00D" is not a certificate serial in hex (1 to 40 digits, not zero)`,
		}},
		{name: "fail/bad-header", in: "serial,mpid,party\n0A,SUPA,X\n", problems: []string{`line 1: header "serial,mpid,party": want serial,mpid`, "line 2: 3 fields, want 2 (serial,mpid)"}},
		{name: "fail/mpid-quoted-comma", in: "0A,\",\"\n", problems: []string{`line 1: MPID ",": want letters and digits`}},
		{name: "fail/empty", in: "", problems: []string{"no rows: want serial,mpid lines"}},
		{name: "fail/header-only", in: "serial,mpid\n", problems: []string{"no rows: want serial,mpid lines"}},
		{name: "fail/quote", in: "0A,\"SUPA\n", problems: []string{`line 1: parse error on line 1, column 10: extraneous or missing " in quoted-field`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MPIDBySerial("mpid.csv", strings.NewReader(tc.in))
			if tc.problems == nil {
				if err != nil || !maps.Equal(got, tc.want) {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			e, ok := errors.AsType[*Error](err)
			if got != nil || !ok {
				t.Fatalf("got %v, %v; want nil and *Error", got, err)
			}
			var ps []string
			for _, p := range e.Problems {
				ps = append(ps, p.String())
			}
			if !slices.Equal(ps, tc.problems) {
				t.Errorf("problems\n%s\nwant\n%s", strings.Join(ps, "\n"), strings.Join(tc.problems, "\n"))
			}
			if !strings.HasPrefix(err.Error(), "mpid.csv: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

var (
	canonical = regexp.MustCompile(`^[1-9a-f][0-9a-f]{0,39}$`)
	mpidChars = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// FuzzMPIDBySerial: a table is refused with every problem on a line of
// its own, or every serial comes back canonical, with an MPID, and the
// table written back reads the same.
func FuzzMPIDBySerial(f *testing.F) {
	f.Add("serial,mpid\n0A,SUPA\n1b2c,SUPB\n")
	f.Add(" 0A,SUPA\n0A,SUPB\n")
	f.Add("\ufeffserial,mpid\r\n0x00ff,X\r\n")
	f.Add("0A,\"SU\nPA\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := MPIDBySerial("f", strings.NewReader(in))
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			if m != nil || !ok || len(e.Problems) == 0 {
				t.Fatalf("got %v, %v; want nil and *Error with problems", m, err)
			}
			return
		}
		var b strings.Builder
		b.WriteString("serial,mpid\n")
		for _, s := range slices.Sorted(maps.Keys(m)) {
			if !canonical.MatchString(s) || !mpidChars.MatchString(m[s]) {
				t.Fatalf("row %q → %q is not canonical", s, m[s])
			}
			fmt.Fprintf(&b, "%s,%s\n", s, m[s])
		}
		again, err := MPIDBySerial("f", strings.NewReader(b.String()))
		if err != nil || !maps.Equal(again, m) {
			t.Fatalf("written back: %v, %v; want %v", again, err, m)
		}
	})
}
