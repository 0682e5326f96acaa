package device

import (
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
)

func TestFaultDropCommand(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	d.SetFaults(Faults{Fixed: Fault{Kind: FaultDropCommand}})
	f := frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 1))
	before := snap(d)
	res, err := d.Handle(f)
	if err != nil || !res.Dropped || res.Response != nil || res.Fault.Kind != FaultDropCommand {
		t.Fatalf("dropped command: %+v %v", res, err)
	}
	if !reflect.DeepEqual(before, snap(d)) {
		t.Fatal("a lost command changed the device")
	}
	// The device never saw it, so the very same frame works once the
	// network recovers.
	d.SetFaults(Faults{})
	mustHandle(t, d, f)
}

func TestFaultDropResponse(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	d.SetFaults(Faults{Fixed: Fault{Kind: FaultDropResponse}})
	f := frame(t, p.TCoS, d.EUI(), migration(t, p, p.ECoS.Cert, 1))
	res, err := d.Handle(f)
	if err != nil || !res.Dropped || res.Response != nil {
		t.Fatalf("dropped response: %+v %v", res, err)
	}
	// Applied all the same: this is the "unknown" case the party must read
	// back with CS02a.
	if ski, _ := d.AnchorSKI(cellTransCoSDS.cell()); ski != skiOf(p.ECoS) {
		t.Errorf("command with a lost response was not applied")
	}
	d.SetFaults(Faults{})
	mustReject(t, d, f, BadSignature) // TCoS no longer trusted; a resend cannot apply twice
	r := readDetails(t, d, cs02a(t, p.ECoS, gbcs.RoleTransitionalCoS, d.EUI(), 2, gbcs.RoleTransitionalCoS))
	if r.Parties[0].Credentials.Cells[0].SubjectKeyID != skiOf(p.ECoS) {
		t.Errorf("read-back %+v", r.Parties[0])
	}
}

func TestFaultDelay(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	d.SetFaults(Faults{Fixed: Fault{Delay: 90 * time.Second}})
	res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 1)))
	if res.Delay != 90*time.Second || res.Response == nil || res.Dropped {
		t.Errorf("delayed: %+v", res)
	}
}

func TestFaultBusy(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	d.SetFaults(Faults{Fixed: Fault{Kind: FaultBusy}})
	before := snap(d)
	f := frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 1))
	res := mustHandle(t, d, f)
	_, r := parseResponse(t, d, res.Response)
	s1 := p.Suppliers[0]
	checkOutcomes(t, r.Outcome.Outcomes, []gbcs.ReplacementOutcome{
		wantOutcome(cellSupplierDS, gbcs.StatusResourcesBusy, s1.DS, s1.DS),
		wantOutcome(cellSupplierKA, gbcs.StatusResourcesBusy, s1.KA, s1.KA),
		wantOutcome(cellSupplierKATopUp, gbcs.StatusResourcesBusy, s1.KATopUp, s1.KATopUp),
	})
	if len(r.Outcome.SeqNumberChanges) != 0 {
		t.Errorf("busy device reports seq changes %+v", r.Outcome.SeqNumberChanges)
	}
	if !reflect.DeepEqual(before, snap(d)) {
		t.Fatal("a busy device changed state")
	}
	// Busy CS02a reports every role busy.
	det := readDetails(t, d, cs02a(t, p.TCoS, gbcs.RoleTransitionalCoS, d.EUI(), 1, gbcs.RoleTransitionalCoS))
	if det.Parties[0].Status != gbcs.StatusResourcesBusy || det.Parties[0].Credentials != nil {
		t.Errorf("busy CS02a %+v", det.Parties[0])
	}
	// Once free, the same command (counter not consumed) succeeds.
	d.SetFaults(Faults{})
	if res := mustHandle(t, d, f); statuses(res.Outcome)[0] != gbcs.StatusSuccess {
		t.Errorf("retry: %v", statuses(res.Outcome))
	}
	// An unauthentic command to a busy device is still refused, unanswered.
	d.SetFaults(Faults{Fixed: Fault{Kind: FaultBusy}})
	mustReject(t, d, frame(t, p.ECoS, d.EUI(), cmd623(t, body623(p, 2), 2)), BadSignature)
}

func TestFaultReject(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	d.SetFaults(Faults{Fixed: Fault{Kind: FaultReject}})
	mustReject(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 1)), Injected)
}

func TestFaultPartial(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	d.SetFaults(Faults{Fixed: Fault{Kind: FaultPartial, Cell: cellSupplierKA.cell(), Status: gbcs.StatusNoTrustAnchor}})
	res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 1)))
	s1, s2 := p.Suppliers[0], p.Suppliers[1]
	checkOutcomes(t, res.Outcome.Outcomes, []gbcs.ReplacementOutcome{
		wantOutcome(cellSupplierDS, gbcs.StatusSuccess, s1.DS, s2.DS),
		wantOutcome(cellSupplierKA, gbcs.StatusNoTrustAnchor, s1.KA, s1.KA),
		wantOutcome(cellSupplierKATopUp, gbcs.StatusSuccess, s1.KATopUp, s2.KATopUp),
	})
	if got := supplierSKIs(t, d); !slices.Equal(got, []gbcs.KeyID{skiOf(s2.DS), skiOf(s1.KA), skiOf(s2.KATopUp)}) {
		t.Errorf("cells %x", got)
	}

	// Carried to execution for a future-dated command, which then alerts
	// 8F67; a zero Status means other.
	d2, _ := newESME(t, p)
	d2.SetFaults(Faults{Fixed: Fault{Kind: FaultPartial, Cell: cellSupplierDS.cell()}})
	at := deviceNow.Add(time.Hour)
	mustHandle(t, d2, frame(t, p.TCoS, d2.EUI(), cmd623(t, futureBody(t, body623(p, 2), at), 1)))
	d2.SetFaults(Faults{})
	alerts, err := d2.Tick(at)
	if err != nil || len(alerts) != 1 || alerts[0].Code != gbcs.AlertFutureDatedFailure ||
		!slices.Equal(statuses(&alerts[0].Payload.Outcome), []gbcs.Status{gbcs.StatusOther, gbcs.StatusSuccess, gbcs.StatusSuccess}) {
		t.Fatalf("alerts %+v %v", alerts, err)
	}
}

func TestFaultHookIsPerCommand(t *testing.T) {
	p := genPKI(t, pkiNow)
	clk := newClock(deviceNow)
	cfg, _ := ESMEConfig(p, 1, clk.Now)
	var calls atomic.Int32
	var d *Device
	// Deterministic: lose the response of every odd counter. The hook may
	// look at the device itself (it runs outside the device's lock).
	cfg.Faults = Faults{Choose: func(m *gbcs.Message) Fault {
		calls.Add(1)
		if d.SeqNumber(gbcs.RoleTransitionalCoS) != m.Counter-1 {
			t.Errorf("hook sees counter %d before command %d", d.SeqNumber(gbcs.RoleTransitionalCoS), m.Counter)
		}
		if m.Counter%2 == 1 {
			return Fault{Kind: FaultDropResponse}
		}
		return Fault{}
	}}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for c := uint64(1); c <= 4; c++ {
		res, err := d.Handle(frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 1+int(c%2)), c)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Dropped != (c%2 == 1) {
			t.Errorf("counter %d: dropped = %v", c, res.Dropped)
		}
	}
	if calls.Load() != 4 {
		t.Errorf("hook called %d times", calls.Load())
	}
	// A per-device fixed fault takes precedence over the hook.
	d.SetFaults(Faults{Fixed: Fault{Kind: FaultReject}, Choose: cfg.Faults.Choose})
	mustReject(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 6)), Injected)
}
