package adt

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []byte
		legacy bool
		lines  []int  // nil: accepted
		msg    string // in the first problem
		kind   error
	}{
		{"ok/minimal", lines(hdr, "6.23,0,0,1440", fakeSig), false, nil, "", nil},
		{"ok/zero-thresholds", lines(hdr, "6.23,0,0,1440", "1.1.1,0,0,1", fakeSig), false, nil, "", nil},
		{"ok/max-threshold", lines(hdr, "6.23,4294967295,4294967295,1440", fakeSig), false, nil, "", nil},
		{"ok/same-srv-two-intervals", lines(hdr, "6.23,5,10,60", "6.23,50,100,1440", fakeSig), false, nil, "", nil},
		{"ok/legacy-allowed", lines("70-B3-D5-1F-30-00-A0-04", "1.1.1,1,2,60", fakeSig), true, nil, "", nil},
		{"fail/legacy", lines("70-B3-D5-1F-30-00-A0-04", "6.23,1,2,1440", fakeSig), false, []int{1}, "legacy", ErrLegacy},
		{"fail/warning-above-quarantine", lines(hdr, "6.23,101,100,1440", fakeSig), false, []int{2}, "above the quarantine", ErrRule},
		{"fail/interval-0", lines(hdr, "6.23,1,1,1440", "1.1.1,1,1,0", fakeSig), false, []int{3}, "interval 0", ErrRule},
		{"fail/interval-1441", lines(hdr, "6.23,1,1,1440", "1.1.1,1,1,1441", fakeSig), false, []int{3}, "interval 1441", ErrRule},
		{"fail/interval-not-number", lines(hdr, "6.23,1,1,1440", "1.1.1,1,1,x", fakeSig), false, []int{3}, "interval", ErrSyntax},
		{"fail/threshold-over-max", lines(hdr, "6.23,1,4294967296,1440", fakeSig), false, []int{2}, "over the limit", ErrRule},
		{"fail/unknown-srv", lines(hdr, "6.23,1,1,1440", "6.99,1,1,60", fakeSig), false, []int{3}, `SRV "6.99"`, ErrRule},
		{"fail/srv-padded", lines(hdr, "6.23,1,1,1440", " 1.1.1,1,1,60", fakeSig), false, []int{3}, "SRV", ErrRule},
		{"fail/dcc-only-srv", lines(hdr, "6.23,1,1,1440", "DSP.1,1,1,60", fakeSig), false, []int{3}, "SRV", ErrRule},
		{"fail/duplicate", lines(hdr, "6.23,1,1,1440", "1.1.1,1,1,60", "1.1.1,2,2,60", fakeSig), false, []int{4}, "first on line 3", ErrRule},
		{"fail/duplicate-6.23", lines(hdr, "6.23,1,1,1440", "6.23,2,2,1440", fakeSig), false, []int{3}, "duplicate", ErrRule},
		{"fail/no-6.23-daily", lines(hdr, "6.23,1,1,60", "1.1.1,1,1,1440", fakeSig), false, []int{4}, "1440-minute row for SRV 6.23", ErrRule},
		{"fail/no-rows", lines(hdr, fakeSig), false, []int{2}, "6.23", ErrRule},
		{"fail/6.23-daily-broken", lines(hdr, "6.23,9,1,1440", fakeSig), false, []int{2}, "above", ErrRule},
		{"fail/legacy-even-allowed-still-needs-valid-rows", lines("70-B3-D5-1F-30-00-A0-04", "1.1.1,2,1,60", fakeSig), true, []int{2}, "above", ErrRule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ValidateOptions{AllowLegacy: tc.legacy}
			f, err := Read(tc.in, o)
			if tc.lines == nil {
				if err != nil {
					t.Fatal(err)
				}
				// Parse then Validate must agree with Read.
				g, err := Parse(tc.in)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Validate(o); err != nil {
					t.Fatal(err)
				}
				if f == nil {
					t.Fatal("nil File")
				}
				return
			}
			if err == nil || f != nil {
				t.Fatalf("Read accepted %q", tc.in)
			}
			if got := problemLines(t, err); !slices.Equal(got, tc.lines) {
				t.Errorf("problem lines = %v, want %v; error:\n%v", got, tc.lines, err)
			}
			if first := (*err.(*Problems))[0].Msg; !strings.Contains(first, tc.msg) {
				t.Errorf("first problem %q does not mention %q", first, tc.msg)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error is not %v: %v", tc.kind, err)
			}
		})
	}
}

// TestEveryProblemReported: one file, many mistakes, all reported in line
// order with the right line numbers, syntax and rule problems together.
func TestEveryProblemReported(t *testing.T) {
	in := lines(
		"70-B3-D5-1F-30-00-A0-04", // 1: legacy, not allowed
		"6.23,5,1,60",             // 2: warning > quarantine
		"",                        // 3: blank
		"1.1.1,1,1,1441",          // 4: interval
		"9.9.9,1,1,60",            // 5: unknown SRV
		"1.1.2,a,b,c",             // 6: three bad numbers
		"6.23,1,2,60",             // 7: duplicate of line 2
		"1.5,1,1",                 // 8: field count
		fakeSig,                   // 9: and no 6.23 daily row
		"trailing",                // 10: after the signature
	)
	_, err := Read(in, ValidateOptions{})
	if err == nil {
		t.Fatal("accepted")
	}
	want := []int{1, 2, 3, 4, 5, 6, 6, 6, 7, 8, 9, 10}
	if got := problemLines(t, err); !slices.Equal(got, want) {
		t.Errorf("problem lines = %v, want %v; error:\n%v", got, want, err)
	}
	msg := err.Error()
	for _, s := range []string{"line 4: interval 1441", "line 7: duplicate row for SRV 6.23 with a 60-minute interval (first on line 2)", "line 10: content after"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error does not contain %q:\n%s", s, msg)
		}
	}
	// Parse alone reports only the structure, in the same lines.
	_, err = Parse(in)
	if got := problemLines(t, err); !slices.Equal(got, []int{3, 6, 6, 6, 8, 10}) {
		t.Errorf("Parse problem lines = %v; error:\n%v", got, err)
	}
}

func TestKnownAndCriticalSRVs(t *testing.T) {
	if len(knownSRVs) != 129 {
		t.Errorf("%d known SRVs; the DUIS V5.4 enumeration has 129", len(knownSRVs))
	}
	for _, s := range criticalSRVs {
		if !KnownSRV(s) {
			t.Errorf("critical SRV %s is not a known SRV", s)
		}
	}
	for _, s := range []string{"6.23", "1.1.1", "11.3", "8.8.1"} {
		if !CriticalSRV(s) {
			t.Errorf("%s not critical", s)
		}
	}
	for _, s := range []string{"4.1.1", "6.21", "8.5", "6.24.1"} {
		if CriticalSRV(s) {
			t.Errorf("%s critical", s)
		}
	}
	seen := map[string]bool{}
	for _, s := range knownSRVs {
		if seen[s] {
			t.Errorf("SRV %s twice", s)
		}
		seen[s] = true
	}
}
