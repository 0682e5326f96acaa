package adt

import "strconv"

// Parse reads the structure of an ADT file: header, rows and signature
// line, each field in its one accepted spelling. It does not apply the
// threshold rules (see Validate) nor check the signature (see Verify).
// On failure it returns a nil File and a *Problems listing every structural
// problem found, with line numbers.
//
// The accepted spellings are strict on purpose, so that one file has one
// meaning and Marshal gives back the input: fields are not trimmed or
// quoted; numbers are ASCII digits without sign or leading zeros; the GUID
// is the upper-case dashed DUIS form; the whole file uses one line ending;
// blank lines, a byte-order mark and anything after the signature line are
// refused.
func Parse(b []byte) (*File, error) {
	f, ps := parse(b)
	if len(ps) > 0 {
		return nil, ps.err()
	}
	return f, nil
}

// parse is Parse returning whatever it could read alongside the problems,
// so that Read can also apply the rules to the rows that did parse. f is nil
// only when the file is empty or too big to look at.
func parse(b []byte) (*File, Problems) {
	var ps Problems
	f := &File{}
	fr, ok := scan(b, &ps, func(fields []string) { parseHeader(f, fields, &ps) }, func(fields []string, no int) {
		if r, ok := parseRow(fields, no, &ps); ok {
			f.Rows = append(f.Rows, r)
		}
	})
	if !ok {
		return nil, ps
	}
	f.CRLF, f.Seal = fr.crlf, fr.seal
	return f, ps
}

// parseHeader reads line 1: "GUID,sequence", or "GUID" alone in the legacy
// format.
func parseHeader(f *File, fields []string, ps *Problems) {
	if len(fields) > 2 {
		ps.add(1, ErrSyntax, "header has %d fields; want User GUID,sequence number", len(fields))
		return
	}
	if id, ok := parseUser(fields[0], ps); ok {
		f.User = id
	}
	if len(fields) == 1 {
		f.Legacy = true
		return
	}
	n, ok := parseDecimal(fields[1])
	if !ok {
		ps.add(1, ErrSyntax, "sequence number %q is not a decimal integer (digits only, no sign or leading zeros, at most %d)",
			clip(fields[1]), uint64(1<<64-1))
		return
	}
	f.Sequence = n
}

// parseRow reads "SRV,warning,quarantine,interval". Whether the SRV is known
// and the numbers in range is Validate's business.
func parseRow(fields []string, no int, ps *Problems) (Row, bool) {
	if len(fields) != 4 {
		ps.add(no, ErrSyntax, "row has %d fields; want SRV,warning,quarantine,interval", len(fields))
		return Row{}, false
	}
	r := Row{SRV: fields[0], Line: no}
	ok := true
	if r.SRV == "" {
		ps.add(no, ErrSyntax, "SRV is empty")
		ok = false
	}
	for i, dst := range []*uint64{&r.Warning, &r.Quarantine, &r.Interval} {
		v, good := parseDecimal(fields[i+1])
		if !good {
			ps.add(no, ErrSyntax, "%s %q is not a decimal integer (digits only, no sign or leading zeros)",
				[]string{"warning threshold", "quarantine threshold", "interval"}[i], clip(fields[i+1]))
			ok = false
			continue
		}
		*dst = v
	}
	return r, ok
}

// parseDecimal accepts the one spelling of a uint64: ASCII digits, no sign,
// no leading zeros ("0" itself is fine).
func parseDecimal(s string) (uint64, bool) {
	if !isDigits(s) || len(s) > 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// isDigits reports whether s is a non-empty run of ASCII digits without a
// leading zero, unless s is "0".
func isDigits(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens a field quoted in a problem so that one hostile megabyte
// line does not become a megabyte error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
