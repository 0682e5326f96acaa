package adt

import (
	"cmp"
	"slices"
)

// ValidateOptions says which exceptions to the current rules apply.
type ValidateOptions struct {
	// AllowLegacy accepts the pre-June 2023 header without a sequence
	// number. Only settings carried over from before June 2023 may use it;
	// a new submission must not.
	AllowLegacy bool
}

// Validate applies the threshold rules of product.md §4 to a parsed file
// and returns a *Problems listing every rule broken, or nil. It does not
// check the signature: see Verify.
//
// A legacy file accepted under AllowLegacy is not required to have the
// 1440-minute 6.23 row, since that rule came with the same June 2023
// change as the sequence number; a legacy file not allowed is judged, and
// reported, as a new submission.
func (f *File) Validate(o ValidateOptions) error {
	return f.rules(o).err()
}

// Read is Parse followed by Validate, reporting the problems of both in
// line order, so a submitter sees a syntax error on one line and a
// duplicate row on another in the same answer.
func Read(b []byte, o ValidateOptions) (*File, error) {
	f, ps := parse(b)
	if f != nil {
		ps = append(ps, f.rules(o)...)
	}
	if len(ps) > 0 {
		slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
		return nil, ps.err()
	}
	return f, nil
}

// rowKey is what makes a row unique: one row per SRV and interval.
type rowKey struct {
	srv      string
	interval uint64
}

func (f *File) rules(o ValidateOptions) Problems {
	var ps Problems
	if f.Legacy && !o.AllowLegacy {
		ps.add(1, ErrLegacy, "header has no sequence number (legacy format), accepted only for settings carried over from before June 2023")
	}
	daily := rowSetRules(f.Rows, &ps)
	if !daily && !(f.Legacy && o.AllowLegacy) {
		at := f.SignatureLine
		if at == 0 {
			at = len(f.Rows) + 1
		}
		ps.add(at, ErrRule, "no 1440-minute row for SRV %s, required since June 2023", SRVCoS)
	}
	return ps
}

// rowSetRules checks every row, and that no two share an SRV and interval;
// daily reports a 1440-minute row for SR 6.23.
func rowSetRules(rows []Row, ps *Problems) (daily bool) {
	first := make(map[rowKey]int, len(rows))
	for _, r := range rows {
		rowRules(r, ps)
		k := rowKey{r.SRV, r.Interval}
		if l, dup := first[k]; dup {
			ps.add(r.Line, ErrRule, "duplicate row for SRV %s with a %d-minute interval (first on line %d)", r.SRV, r.Interval, l)
		} else {
			first[k] = r.Line
		}
		if k == (rowKey{SRVCoS, MaxInterval}) {
			daily = true
		}
	}
	return daily
}

// rowRules checks one row on its own. A row that passes is a valid
// threshold; Effective relies on this to decide which critical SRVs need a
// zero threshold.
func rowRules(r Row, ps *Problems) {
	if !KnownSRV(r.SRV) {
		ps.add(r.Line, ErrRule, "SRV %q is not a DUIS V5.4 service reference variant", clip(r.SRV))
	}
	if r.Warning > MaxThreshold {
		ps.add(r.Line, ErrRule, "warning threshold %d is over the limit of %d", r.Warning, uint64(MaxThreshold))
	}
	if r.Quarantine > MaxThreshold {
		ps.add(r.Line, ErrRule, "quarantine threshold %d is over the limit of %d", r.Quarantine, uint64(MaxThreshold))
	}
	if r.Warning > r.Quarantine {
		ps.add(r.Line, ErrRule, "warning threshold %d is above the quarantine threshold %d", r.Warning, r.Quarantine)
	}
	if r.Interval < 1 || r.Interval > MaxInterval {
		ps.add(r.Line, ErrRule, "interval %d minutes is outside 1..%d", r.Interval, MaxInterval)
	}
}
