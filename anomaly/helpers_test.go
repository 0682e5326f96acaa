package anomaly

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

var (
	// t0 is on a slice boundary of every window whose interval divides a
	// day, at the default 60 slices.
	t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

	alice = eui.MustParse("90-B3-D5-1F-30-00-00-01")
	bob   = eui.MustParse("90-B3-D5-1F-30-00-00-02")
)

// th is a threshold row.
func th(srv string, warning, quarantine, interval uint64) adt.Threshold {
	return adt.Threshold{SRV: srv, Warning: warning, Quarantine: quarantine, Interval: interval}
}

func mustSRV(t testing.TB, name string) SRV {
	t.Helper()
	s, ok := SRVOf(name)
	if !ok {
		t.Fatalf("SRVOf(%q) unknown", name)
	}
	return s
}

// countOf is the count Counts reports for user's window of srv and
// interval, failing if there is no such window.
func countOf(t testing.TB, c *Counter, user eui.EUI, srv string, interval uint64, at time.Time) uint64 {
	t.Helper()
	for _, wc := range c.Counts(user, at) {
		if wc.Rule.SRV == srv && wc.Rule.Interval == interval {
			return wc.Count
		}
	}
	t.Fatalf("%s has no %s/%d window; it has %+v", user, srv, interval, c.Counts(user, at))
	return 0
}

func dccCountOf(t testing.TB, c *Counter, srv string, interval uint64, at time.Time) uint64 {
	t.Helper()
	for _, wc := range c.DCCCounts(at) {
		if wc.Rule.SRV == srv && wc.Rule.Interval == interval {
			return wc.Count
		}
	}
	t.Fatalf("the DCC has no %s/%d window; it has %+v", srv, interval, c.DCCCounts(at))
	return 0
}
