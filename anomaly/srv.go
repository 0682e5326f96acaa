package anomaly

import (
	"strconv"

	"github.com/ecos-cos/ecos/adt"
)

// SRV is a DUIS Service Reference Variant by its position in the DUIS
// enumeration, so that the per-request path keys its maps with small
// integers rather than hashing strings. Positions change with the DUIS
// version: keep an SRV in memory, never store it.
type SRV uint16

// SRVOf returns the SRV named name ("6.23"), and false if DUIS does not
// define it.
func SRVOf(name string) (SRV, bool) {
	i, ok := adt.SRVIndex(name)
	return SRV(i), ok
}

// String is the DUIS name, "6.23"; an SRV that SRVOf never returns prints
// as SRV(n) so that a bad value is visible in logs rather than blank.
func (s SRV) String() string {
	if n := adt.SRVName(int(s)); n != "" {
		return n
	}
	return "SRV(" + strconv.Itoa(int(s)) + ")"
}

// valid reports whether s names a DUIS SRV; it guards the per-SRV arrays.
func (s SRV) valid() bool { return int(s) < adt.NumSRVs }
