package adt

import "strings"

// ParseRows reads threshold rows without a file around them: the DCC-wide
// thresholds an operator configures use the ADT row format, so one parser
// and one set of rules serve both. Line numbers in the *Problems are
// 1-based positions in rows. No row for 6.23 is required here: that rule
// binds Users' files.
func ParseRows(rows []string) ([]Threshold, error) {
	var ps Problems
	parsed := make([]Row, 0, len(rows))
	for i, s := range rows {
		r, ok := parseRow(strings.Split(s, ","), i+1, &ps)
		if ok {
			parsed = append(parsed, r)
		}
	}
	rowSetRules(parsed, &ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	out := make([]Threshold, len(parsed))
	for i, r := range parsed {
		out[i] = Threshold{SRV: r.SRV, Warning: r.Warning, Quarantine: r.Quarantine, Interval: r.Interval}
	}
	return out, nil
}
