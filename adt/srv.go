package adt

// criticalSRVs are the SRVs whose request results in a GBCS critical command:
// the DUIS "Critical = Yes" list of domain.md §3.4 (from
// duis-parser/src/duis-request-matrix.json), plus 6.23, which DUIS calls
// non-critical but whose CS02b carries a KRP signature and so is a critical
// command on the device side (product.md §4). An SRV here with no valid
// threshold row gets a zero threshold rather than none.
var criticalSRVs = [...]string{
	"1.1.1", "1.1.2", "1.2.1", "1.2.2", "1.5", "1.6", "1.7",
	"2.1", "2.3", "2.5",
	"6.4.1", "6.6", "6.7", "6.8", "6.11", "6.14.1", "6.14.2", "6.14.3",
	"6.15.1", "6.15.2", "6.17", "6.23", "6.24.2", "6.25", "6.26",
	"7.1", "7.2", "7.3", "7.5", "7.6", "7.8", "7.12", "7.13", "7.16",
	"8.1.1", "8.7.1", "8.8.1", "11.3",
}

// SRVCoS is the Update Security Credentials (CoS) SRV, which since June 2023
// must have a daily (1440-minute) row in every ADT file.
const SRVCoS = "6.23"

// srvOrder returns the position of srv in the DUIS enumeration, and false
// if DUIS does not define it. The position gives thresholds a stable order
// that reads like the DUIS documents (1.1.1 before 1.10, 6.2.10 after 6.2.9).
func srvOrder(srv string) (int, bool) { return SRVIndex(srv) }

// NumSRVs is how many Service Reference Variants DUIS defines; SRVIndex
// returns 0..NumSRVs-1, so a caller can keep per-SRV state in an array.
const NumSRVs = len(knownSRVs)

// srvIndexes inverts knownSRVs once, at start-up, and is never written
// again: the anomaly counter turns an SRV name into an index per request,
// and a scan of 129 strings there would cost more than the counting.
var srvIndexes = func() map[string]int {
	m := make(map[string]int, len(knownSRVs))
	for i, s := range knownSRVs {
		m[s] = i
	}
	return m
}()

// SRVIndex returns the position of srv in the DUIS enumeration, and false if
// DUIS does not define it. The position is stable within one build but moves
// when the table moves to a new DUIS version: use it as an in-memory key,
// never store it.
func SRVIndex(srv string) (int, bool) {
	i, ok := srvIndexes[srv]
	return i, ok
}

// SRVName is the SRV at position i of the DUIS enumeration (the inverse of
// SRVIndex), or "" if there is none.
func SRVName(i int) string {
	if i < 0 || i >= len(knownSRVs) {
		return ""
	}
	return knownSRVs[i]
}

// KnownSRV reports whether srv is a DUIS V5.4 Service Reference Variant.
func KnownSRV(srv string) bool {
	_, ok := srvOrder(srv)
	return ok
}

// CriticalSRV reports whether srv results in a GBCS critical command, so
// that having no threshold for it means a threshold of zero.
func CriticalSRV(srv string) bool {
	for _, s := range criticalSRVs {
		if s == srv {
			return true
		}
	}
	return false
}
