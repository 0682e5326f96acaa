package adt

import (
	"slices"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

var userEUI = eui.MustParse("70-B3-D5-1F-30-00-A0-04")

func TestEffective(t *testing.T) {
	f, err := Read(lines(hdr,
		"6.23,50,100,1440",
		"4.1.1,10,20,60", // non-critical, kept
		"1.1.1,5,6,60",   // critical with a row at 60 only: no zero added
		"1.1.1,7,8,30",
		"11.3,1,1,1440",
		fakeSig), ValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := f.Effective()
	byKey := map[rowKey]Threshold{}
	for _, th := range got {
		byKey[rowKey{th.SRV, th.Interval}] = th
	}
	for _, want := range []Threshold{
		{SRV: "6.23", Warning: 50, Quarantine: 100, Interval: 1440},
		{SRV: "4.1.1", Warning: 10, Quarantine: 20, Interval: 60},
		{SRV: "1.1.1", Warning: 5, Quarantine: 6, Interval: 60},
		{SRV: "1.1.1", Warning: 7, Quarantine: 8, Interval: 30},
		{SRV: "11.3", Warning: 1, Quarantine: 1, Interval: 1440},
		{SRV: "1.1.2", Interval: 1440, Default: true},
		{SRV: "8.8.1", Interval: 1440, Default: true},
		{SRV: "6.24.2", Interval: 1440, Default: true},
	} {
		if th := byKey[rowKey{want.SRV, want.Interval}]; th != want {
			t.Errorf("threshold for %s/%d = %+v, want %+v", want.SRV, want.Interval, th, want)
		}
	}
	// Non-critical SRVs without a row have no threshold.
	for _, srv := range []string{"4.1.2", "6.21", "8.5"} {
		for _, th := range got {
			if th.SRV == srv {
				t.Errorf("threshold for non-critical %s without a row: %+v", srv, th)
			}
		}
	}
	// One entry per row given plus one per critical SRV not covered.
	if want := 5 + len(criticalSRVs) - 3; len(got) != want {
		t.Errorf("%d thresholds, want %d", len(got), want)
	}
	// DUIS order, then interval.
	if !slices.IsSortedFunc(got, func(a, b Threshold) int {
		ia, _ := srvOrder(a.SRV)
		ib, _ := srvOrder(b.SRV)
		if ia != ib {
			return ia - ib
		}
		return int(a.Interval) - int(b.Interval)
	}) {
		t.Errorf("thresholds out of order: %v", got)
	}
	if got[0].SRV != "1.1.1" || got[0].Interval != 30 {
		t.Errorf("first threshold %+v, want 1.1.1 at 30 minutes", got[0])
	}
}

// TestEffectiveSkipsInvalid: on an unvalidated file an invalid row is not a
// valid threshold, so its critical SRV falls back to zero.
func TestEffectiveSkipsInvalid(t *testing.T) {
	f := &File{Rows: []Row{
		{SRV: "1.1.1", Warning: 9, Quarantine: 1, Interval: 60},
		{SRV: "6.23", Warning: 1, Quarantine: 1, Interval: 0},
		{SRV: "4.1.1", Warning: 1, Quarantine: 1, Interval: 60},
		{SRV: "4.1.1", Warning: 2, Quarantine: 2, Interval: 60},
	}}
	for _, th := range f.Effective() {
		switch th.SRV {
		case "1.1.1", "6.23":
			if th != (Threshold{SRV: th.SRV, Interval: 1440, Default: true}) {
				t.Errorf("%s: %+v, want the zero default", th.SRV, th)
			}
		case "4.1.1":
			if th.Warning != 1 {
				t.Errorf("4.1.1: %+v, want the first row", th)
			}
		}
	}
}

// TestEffectiveLegacy: a legacy file's settings carry over as they were,
// without the June 2023 zeros for critical SRVs it has no row for.
func TestEffectiveLegacy(t *testing.T) {
	f, err := Read(lines(userEUI.String(), "1.1.1,5,6,60", fakeSig), ValidateOptions{AllowLegacy: true})
	if err != nil {
		t.Fatal(err)
	}
	got := f.Effective()
	if want := []Threshold{{SRV: "1.1.1", Warning: 5, Quarantine: 6, Interval: 60}}; !slices.Equal(got, want) {
		t.Errorf("legacy thresholds %+v, want %+v", got, want)
	}
	f.Legacy = false
	if len(f.Effective()) != len(criticalSRVs) {
		t.Errorf("a June 2023 file with the same row should get the zeros too")
	}
}
