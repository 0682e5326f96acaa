package adt

import (
	"cmp"
	"slices"
	"time"
)

// Threshold is one threshold in force for a User.
type Threshold struct {
	SRV        string
	Warning    uint64
	Quarantine uint64
	Interval   uint64 // minutes
	// Default is set on the zero thresholds filled in for critical SRVs
	// the file gave no valid threshold for.
	Default bool
}

// Window is the threshold's interval as a duration.
func (t Threshold) Window() time.Duration { return time.Duration(t.Interval) * time.Minute }

// Effective returns the thresholds a file puts in force, ordered by SRV (in
// DUIS order) and interval: every valid row, plus a zero threshold (warning
// 0, quarantine 0, 1440 minutes) for each SRV that results in a GBCS
// critical command and has no valid row, so that a User cannot raise the
// limit on critical commands by leaving them out. A non-critical SRV with no
// row has no threshold and is absent.
//
// It is meant for a file Validate accepted; on any other file it skips the
// rows Validate would refuse, and keeps the first of duplicate rows.
func (f *File) Effective() []Threshold {
	var out []Threshold
	seen := make(map[rowKey]bool, len(f.Rows))
	covered := make(map[string]bool)
	for _, r := range f.Rows {
		var ps Problems
		rowRules(r, &ps)
		k := rowKey{r.SRV, r.Interval}
		if len(ps) > 0 || seen[k] {
			continue
		}
		seen[k] = true
		covered[r.SRV] = true
		out = append(out, Threshold{SRV: r.SRV, Warning: r.Warning, Quarantine: r.Quarantine, Interval: r.Interval})
	}
	for _, srv := range criticalSRVs {
		if !covered[srv] && !f.Legacy {
			out = append(out, Threshold{SRV: srv, Interval: MaxInterval, Default: true})
		}
	}
	slices.SortFunc(out, func(a, b Threshold) int {
		ia, _ := srvOrder(a.SRV)
		ib, _ := srvOrder(b.SRV)
		return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a.Interval, b.Interval))
	})
	return out
}
