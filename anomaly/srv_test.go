package anomaly

import (
	"testing"

	"github.com/ecos-cos/ecos/adt"
)

func TestSRVRoundTrip(t *testing.T) {
	for i := range adt.NumSRVs {
		name := adt.SRVName(i)
		s, ok := SRVOf(name)
		if !ok || int(s) != i || s.String() != name {
			t.Errorf("SRV %d: SRVOf(%q) = %d, %v; String %q", i, name, s, ok, s.String())
		}
		if !adt.KnownSRV(name) {
			t.Errorf("SRVName(%d) = %q, which adt does not know", i, name)
		}
	}
	if s := mustSRV(t, "6.23"); s.String() != adt.SRVCoS {
		t.Errorf("6.23 prints as %q", s)
	}
}

func TestSRVUnknown(t *testing.T) {
	for _, name := range []string{"", "6.99", "6.23 ", "SRV 6.23"} {
		if s, ok := SRVOf(name); ok {
			t.Errorf("SRVOf(%q) = %v, want unknown", name, s)
		}
	}
	if got := SRV(adt.NumSRVs).String(); got != "SRV(129)" {
		t.Errorf("out-of-range SRV prints as %q", got)
	}
	for _, i := range []int{-1, adt.NumSRVs} {
		if n := adt.SRVName(i); n != "" {
			t.Errorf("SRVName(%d) = %q", i, n)
		}
	}
}

func TestOutcomeAndScopeNames(t *testing.T) {
	if (Decision{}).Outcome != Admit {
		t.Error("the zero Decision must read as an Admit: the pipeline's unscreened requests are zero Decisions")
	}
	for v, want := range map[Outcome]string{Admit: "admit", Warn: "warn", Quarantine: "quarantine", 3: "Outcome(3)"} {
		if v.String() != want {
			t.Errorf("Outcome %d prints %q, want %q", v, v.String(), want)
		}
	}
	for v, want := range map[Scope]string{0: "Scope(0)", UserScope: "user", DCCScope: "dcc"} {
		if v.String() != want {
			t.Errorf("Scope %d prints %q, want %q", v, v.String(), want)
		}
	}
}
