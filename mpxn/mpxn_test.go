package mpxn

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		kind Kind
		want string // substring of the error, "" for success
	}{
		// MPRN worked example: 3,9,3,8,4,2,4,4 weighted 8..1 sums to 179; 179 mod 11 = 3.
		{"3938424403", MPRN, ""},
		{"3938424404", 0, "check digits 04, want 03"},
		// MPAN: 1,2,0,0,0,2,3,3,0,5,9,6 weighted 3,5,7,…,43 sums to 1019; 1019 mod 11 = 7.
		{"1200023305967", MPAN, ""},
		{"1200023305968", 0, "check digit 8, want 7"},
		// The RTDS 6.23 templates' ImportMPxN is not a valid MPAN core.
		{"1312345678333", 0, "check digit 3, want 0"},
		{"", 0, "0 digits"},
		{"12345", 0, "5 digits"},
		{"123456789012", 0, "12 digits"},
		{"12345678901234", 0, "14 digits"},
		{"12345678901 3", 0, "non-digit at position 12"},
		{"١٢٣٤٥٦", 0, "non-digit"},
	}
	for _, tc := range cases {
		id, err := Parse(tc.in)
		if tc.want == "" {
			if err != nil || id.Kind != tc.kind || id.Value != tc.in {
				t.Errorf("Parse(%q) = %+v, %v", tc.in, id, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error %v, want %q", tc.in, err, tc.want)
		}
		if id != (ID{}) {
			t.Errorf("Parse(%q) returned %+v with an error", tc.in, id)
		}
	}
}

// TestEverySingleDigitErrorIsCaught: the MPAN weights are all coprime to 11,
// so changing any one digit changes the check digit unless the sum moves by
// a multiple of 11 that the final mod 10 folds; count how many slip through.
func TestMPANDetectsSingleDigitErrors(t *testing.T) {
	const valid = "1200023305967"
	missed := 0
	for i := 0; i < 12; i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == valid[i] {
				continue
			}
			mutated := valid[:i] + string(d) + valid[i+1:]
			if _, err := Parse(mutated); err == nil {
				missed++
			}
		}
	}
	// A mod-11 sum folded mod 10 maps residues 0 and 10 to the same digit,
	// so roughly one change in eleven goes unseen; more means a bug.
	if missed > 108/10+2 {
		t.Errorf("%d of 108 single-digit errors pass the check", missed)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"3938424403", "1200023305967", "1312345678333", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			if id != (ID{}) {
				t.Fatal("value with error")
			}
			return
		}
		switch id.Kind {
		case MPAN:
			if len(s) != 13 || MPANCheckDigit(s[:12]) != s[12] {
				t.Fatalf("accepted bad MPAN %q", s)
			}
		case MPRN:
			if MPRNCheckDigits(s[:len(s)-2]) != s[len(s)-2:] {
				t.Fatalf("accepted bad MPRN %q", s)
			}
		default:
			t.Fatalf("unknown kind for %q", s)
		}
	})
}
