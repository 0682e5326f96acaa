package adt

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

const user = "70-B3-D5-1F-30-00-A0-04"

func TestParseActionOK(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want func(t *testing.T, f *ActionFile)
	}{
		{"ok/LF", lines(user, "18446744073709551615,Release", "42,Delete", fakeSig), func(t *testing.T, f *ActionFile) {
			if f.User != eui.MustParse(user) || f.CRLF {
				t.Errorf("user %v crlf %v", f.User, f.CRLF)
			}
			want := []ActionRow{{Ref: 1<<64 - 1, Action: Release, Line: 2}, {Ref: 42, Action: Delete, Line: 3}}
			if !slices.Equal(f.Rows, want) {
				t.Errorf("rows = %+v, want %+v", f.Rows, want)
			}
			if f.SignatureLine != 4 || f.Signer.Serial.Int64() != 12345 || len(f.Signature) != 64 || !f.FinalNewline {
				t.Errorf("signature: line %d serial %v len %d", f.SignatureLine, f.Signer.Serial, len(f.Signature))
			}
			if want := user + "\n18446744073709551615,Release\n42,Delete\n"; string(f.Signed) != want {
				t.Errorf("signed = %q, want %q", f.Signed, want)
			}
		}},
		{"ok/CRLF", []byte(user + "\r\n1,Release\r\n" + fakeSig + "\r\n"), func(t *testing.T, f *ActionFile) {
			if !f.CRLF || string(f.Signed) != user+"\r\n1,Release\r\n" {
				t.Errorf("crlf=%v signed=%q", f.CRLF, f.Signed)
			}
		}},
		{"ok/no-final-newline", []byte(user + "\n1,Delete\n" + fakeSig), func(t *testing.T, f *ActionFile) {
			if f.FinalNewline {
				t.Error("FinalNewline set")
			}
		}},
		{"ok/action-any-case", lines(user, "1,release", "2,DELETE", "3,ReLeAsE", fakeSig), func(t *testing.T, f *ActionFile) {
			got := []Action{f.Rows[0].Action, f.Rows[1].Action, f.Rows[2].Action}
			if !slices.Equal(got, []Action{Release, Delete, Release}) || f.Rows[1].Spelling != "DELETE" {
				t.Errorf("rows = %+v", f.Rows)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseAction(tc.in)
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

func TestParseActionMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		lines []int  // line of every problem, in order
		msg   string // in the first problem
		kind  error  // of the first problem
	}{
		{"fail/empty", nil, []int{0}, "empty", ErrSyntax},
		{"fail/oversized", append(lines(user), bytes.Repeat([]byte("1,Release\n"), MaxSize/10+1)...), []int{0}, "limit", ErrSyntax},
		{"fail/truncated-mid-row", []byte(user + "\n1,Release\n2,Del"), []int{3, 3}, "truncated", ErrSyntax},
		{"fail/truncated-header", []byte(user), []int{1}, "without a signature line", ErrSyntax},
		{"fail/missing-signature", lines(user, "1,Release"), []int{2}, "without a signature line", ErrSyntax},
		{"fail/no-rows", lines(user, fakeSig), []int{2}, "no action rows", ErrRule},
		{"fail/ref-0", lines(user, "0,Release", fakeSig), []int{2}, `QuarantineEventRef "0"`, ErrSyntax},
		{"fail/ref-21-digits", lines(user, "100000000000000000000,Release", fakeSig), []int{2}, "QuarantineEventRef", ErrSyntax},
		{"fail/ref-over-uint64", lines(user, "18446744073709551616,Release", fakeSig), []int{2}, "QuarantineEventRef", ErrSyntax},
		{"fail/ref-not-digits", lines(user, "4x2,Release", fakeSig), []int{2}, "QuarantineEventRef", ErrSyntax},
		{"fail/ref-plus", lines(user, "+42,Release", fakeSig), []int{2}, "QuarantineEventRef", ErrSyntax},
		{"fail/ref-minus", lines(user, "-42,Release", fakeSig), []int{2}, "QuarantineEventRef", ErrSyntax},
		{"fail/ref-leading-zero", lines(user, "042,Release", fakeSig), []int{2}, "QuarantineEventRef", ErrSyntax},
		{"fail/ref-empty", lines(user, ",Release", fakeSig), []int{2}, "QuarantineEventRef", ErrSyntax},
		{"fail/ref-and-action", lines(user, "x,Hold", fakeSig), []int{2, 2}, "QuarantineEventRef", ErrSyntax},
		{"fail/unknown-action", lines(user, "1,Hold", fakeSig), []int{2}, `action "Hold"`, ErrSyntax},
		{"fail/action-padded", lines(user, "1, Release", fakeSig), []int{2}, "action", ErrSyntax},
		{"fail/duplicate-ref", lines(user, "7,Release", "8,Delete", "7,Delete", fakeSig), []int{4}, "also on line 2", ErrRule},
		{"fail/row-1-field", lines(user, "7", fakeSig), []int{2}, "row has 1 fields", ErrSyntax},
		{"fail/row-3-fields", lines(user, "7,Release,now", fakeSig), []int{2}, "row has 3 fields", ErrSyntax},
		{"fail/threshold-row", lines(user, "6.23,1,1,1440", fakeSig), []int{2}, "row has 4 fields", ErrSyntax},
		{"fail/header-with-sequence", lines(user+",17", "1,Release", fakeSig), []int{1}, "header has 2 fields", ErrSyntax},
		{"fail/header-lower-case", lines(strings.ToLower(user), "1,Release", fakeSig), []int{1}, "User GUID", ErrSyntax},
		{"fail/mixed-eol", []byte(user + "\r\n1,Release\n" + fakeSig + "\r\n"), []int{2}, "CRLF", ErrSyntax},
		{"fail/after-signature", lines(user, "1,Release", fakeSig, "2,Delete"), []int{4}, "after the signature line (line 3)", ErrSyntax},
		{"fail/blank-after-signature", []byte(user + "\n1,Release\n" + fakeSig + "\n\n"), []int{4}, "after the signature", ErrSyntax},
		{"fail/blank-line", lines(user, "", "1,Release", fakeSig), []int{2}, "blank line", ErrSyntax},
		{"fail/BOM", append([]byte{0xEF, 0xBB, 0xBF}, lines(user, "1,Release", fakeSig)...), []int{1}, "byte-order mark", ErrSyntax},
		{"fail/sig-fields", lines(user, "1,Release", "Signature,CN%3DX,1"), []int{3}, "signature line has 3 fields", ErrSyntax},
		{"fail/every-line", lines("x", "0,Release", "1,Hold", "2,Delete", "2,Release", fakeSig, "more"),
			[]int{1, 2, 3, 5, 7}, "User GUID", ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseAction(tc.in)
			if err == nil {
				t.Fatalf("ParseAction accepted %q", tc.in)
			}
			if f != nil {
				t.Error("ParseAction returned a file with an error")
			}
			if got := problemLines(t, err); !slices.Equal(got, tc.lines) {
				t.Errorf("problem lines = %v, want %v; error:\n%v", got, tc.lines, err)
			}
			first := (*err.(*Problems))[0]
			if !strings.Contains(first.Msg, tc.msg) || !errors.Is(first.Err, tc.kind) {
				t.Errorf("first problem %q (%v), want %v mentioning %q", first.Msg, first.Err, tc.kind, tc.msg)
			}
		})
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{Release: "Release", Delete: "Delete", 0: "Action(0)", 9: "Action(9)"} {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", uint8(a), got, want)
		}
	}
}

// TestActionAppendBody: rows built in code write their canonical action.
func TestActionAppendBody(t *testing.T) {
	f := &ActionFile{User: eui.MustParse(user), CRLF: true, Rows: []ActionRow{{Ref: 5, Action: Release}, {Ref: 6, Action: Delete}}}
	if got, want := string(f.AppendBody(nil)), user+"\r\n5,Release\r\n6,Delete\r\n"; got != want {
		t.Errorf("AppendBody = %q, want %q", got, want)
	}
}
