package role

import "testing"

func TestNames(t *testing.T) {
	for r, want := range map[Role]string{TransitionalCoS: "transitionalCoS", XMLSign: "xmlSign", None: "none", 9: "RemotePartyRole(0x09)"} {
		if r.String() != want {
			t.Errorf("%d: %q, want %q", uint8(r), r, want)
		}
	}
	if None.Known() || Role(9).Known() || !LoadController.Known() {
		t.Error("Known")
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Role
		ok   bool
	}{
		{"transitionalCoS", TransitionalCoS, true}, {"TRANSITIONALCOS", TransitionalCoS, true}, {"05", TransitionalCoS, true},
		{"supplier", Supplier, true}, {"87", XMLSign, true}, {"7f", Other, true},
		{"none", None, false}, {"FF", None, false}, {"42", None, false}, {"5", None, false}, {"", None, false}, {"tcos", None, false},
	} {
		got, err := Parse(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts is a known role
// whose name or OU digits read back to it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"transitionalCoS", "05", "ff", "none", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if !r.Known() {
			t.Fatalf("Parse(%q) = %v, not a known role", s, r)
		}
		if back, err := Parse(r.String()); err != nil || back != r {
			t.Fatalf("Parse(%q) = %v, whose name reads back as %v, %v", s, r, back, err)
		}
	})
}
