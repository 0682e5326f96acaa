package adt

import "strings"

// ParseAction reads a Quarantined Communications Action File and applies
// its rules: at least one row, one row per QuarantineEventRef. It does not
// check the signature (see VerifyAction), nor whether the refs name
// requests the User has in quarantine, which only the quarantine store
// knows. On failure it returns a nil ActionFile and a *Problems listing
// every problem found, in line order.
//
// Spellings are as strict as Parse's, so that Marshal gives back the input:
// the GUID is the upper-case dashed DUIS form, alone on line 1; a ref is
// 1 to 20 ASCII digits without sign or leading zeros, from 1 to 2^64-1. The
// action alone is read without regard to case, as people type it.
func ParseAction(b []byte) (*ActionFile, error) {
	var ps Problems
	f := &ActionFile{}
	first := make(map[uint64]int)
	rows := 0
	fr, ok := scan(b, &ps, func(fields []string) {
		if len(fields) != 1 {
			ps.add(1, ErrSyntax, "header has %d fields; want the User GUID alone", len(fields))
			return
		}
		f.User, _ = parseUser(fields[0], &ps)
	}, func(fields []string, no int) {
		rows++
		r, ok := parseActionRow(fields, no, &ps)
		if !ok {
			return
		}
		// Two actions on one request would leave its fate to the order
		// they are applied in; the same action twice hides a typo.
		if l, dup := first[r.Ref]; dup {
			ps.add(no, ErrRule, "QuarantineEventRef %d is also on line %d; one row per ref", r.Ref, l)
			return
		}
		first[r.Ref] = no
		f.Rows = append(f.Rows, r)
	})
	// With no signature line the file is truncated, which says enough.
	if ok && rows == 0 && fr.seal.SignatureLine != 0 {
		ps.add(fr.seal.SignatureLine, ErrRule, "no action rows before the signature line; want at least one QuarantineEventRef,action")
	}
	if len(ps) > 0 {
		return nil, ps.err()
	}
	f.CRLF, f.Seal = fr.crlf, fr.seal
	return f, nil
}

// parseActionRow reads "QuarantineEventRef,action".
func parseActionRow(fields []string, no int, ps *Problems) (ActionRow, bool) {
	if len(fields) != 2 {
		ps.add(no, ErrSyntax, "row has %d fields; want QuarantineEventRef,action", len(fields))
		return ActionRow{}, false
	}
	r := ActionRow{Line: no}
	ok := true
	if ref, good := parseDecimal(fields[0]); !good || ref == 0 {
		ps.add(no, ErrSyntax, "QuarantineEventRef %q is not a whole number from 1 to %d (digits only, no sign or leading zeros)",
			clip(fields[0]), uint64(1<<64-1))
		ok = false
	} else {
		r.Ref = ref
	}
	switch s := fields[1]; {
	case strings.EqualFold(s, Release.String()):
		r.Action = Release
	case strings.EqualFold(s, Delete.String()):
		r.Action = Delete
	default:
		ps.add(no, ErrSyntax, "action %q is neither Release nor Delete", clip(s))
		return r, false
	}
	if fields[1] != r.Action.String() {
		r.Spelling = fields[1]
	}
	return r, ok
}
