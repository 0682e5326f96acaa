package devicesim

import (
	"testing"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

func TestFaultsFromConfig(t *testing.T) {
	a, b, c := eui.EUI{0xEE, 1}, eui.EUI{0xEE, 2}, eui.EUI{0xEE, 3}
	fs, err := Faults(map[string]string{a.String(): "bad-certificate", b.String(): "drop-response-once"})
	if err != nil {
		t.Fatal(err)
	}
	to := func(d eui.EUI) *gbcs.Message { return &gbcs.Message{Recipient: d} }
	for i := range 3 {
		if f := fs.Choose(to(a)); f.Kind != device.FaultPartial || f.Status != gbcs.StatusBadCertificate || f.Cell != transCoS {
			t.Errorf("command %d to a: %+v", i, f)
		}
	}
	if f := fs.Choose(to(b)); f.Kind != device.FaultDropResponse {
		t.Errorf("first command to b: %+v", f)
	}
	if f := fs.Choose(to(b)); f.Kind != device.FaultNone {
		t.Errorf("second command to b met %+v: -once is the first only", f)
	}
	if f := fs.Choose(to(c)); f.Kind != device.FaultNone {
		t.Errorf("a meter without a fault met %+v", f)
	}
	for _, bad := range []map[string]string{{"nope": "busy"}, {a.String(): "explode"}, {a.String(): "-once"}} {
		if _, err := Faults(bad); err == nil {
			t.Errorf("Faults(%v) accepted", bad)
		}
	}
	if fs, err := Faults(nil); err != nil || fs.Choose != nil {
		t.Errorf("no faults: %+v %v", fs, err)
	}
}
