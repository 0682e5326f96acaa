package device

import (
	"bytes"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

func newFleet(t testing.TB, p *testpki.PKI, n int) (*Fleet, *clock) {
	t.Helper()
	clk := newClock(deviceNow)
	f, err := NewFleet(FleetConfig{PKI: p, Devices: n, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f, clk
}

func TestFleetEUIMatchesTestPKI(t *testing.T) {
	for _, n := range []int{1, 2, 255, 256, 9999, 65535} {
		if FleetEUI(n) != testpki.DeviceEUI(n) {
			t.Errorf("FleetEUI(%d) = %v, testpki.DeviceEUI = %v", n, FleetEUI(n), testpki.DeviceEUI(n))
		}
	}
	if FleetEUI(65536) == FleetEUI(0) || FleetEUI(100000) == FleetEUI(100000&0xFFFF) {
		t.Error("FleetEUI wraps at 16 bits")
	}
}

func TestFleetRoutesAndSharesNothingMutable(t *testing.T) {
	p := genPKI(t, pkiNow)
	f, _ := newFleet(t, p, 5) // 2 devices from the PKI, 3 generated
	if f.Len() != 5 {
		t.Fatalf("Len %d", f.Len())
	}
	ids := f.EUIs()
	if ids[0] != p.Devices[0].EUI || ids[1] != p.Devices[1].EUI || ids[4] != FleetEUI(5) {
		t.Fatalf("EUIs %v", ids)
	}
	for i, id := range ids {
		res, err := f.Handle(frame(t, p.TCoS, id, cmd623(t, body623(p, 2), uint64(10+i))))
		if err != nil {
			t.Fatalf("device %v: %v", id, err)
		}
		pub, ok := f.PublicKey(id)
		if !ok {
			t.Fatalf("no public key for %v", id)
		}
		m, err := gbcs.ParseMessage(res.Response)
		if err != nil || m.Verify(pub) != nil || m.Originator != id {
			t.Fatalf("device %v response: %v", id, err)
		}
		d, _ := f.Device(id)
		if i < 2 {
			if !pub.Equal(&p.Devices[i].DS.Key.PublicKey) || d.Certificate() == nil {
				t.Errorf("PKI device %v does not use its PKI key and certificate", id)
			}
		} else {
			want, err := DeriveKey([]byte(DefaultKeySeed), id)
			if err != nil || !pub.Equal(&want.PublicKey) || d.Certificate() != nil {
				t.Errorf("generated device %v: key not the documented derivation", id)
			}
		}
		// Every other device still trusts supplier 1: the shared table was
		// copied, not changed.
		if i+1 < len(ids) {
			next, _ := f.Device(ids[i+1])
			if got := supplierSKIs(t, next); !slices.Equal(got, supplierCredSKIs(p, 1)) {
				t.Fatalf("device %v changed by a command to %v", ids[i+1], id)
			}
		}
	}
	if _, err := f.Handle(frame(t, p.TCoS, FleetEUI(6), cmd623(t, body623(p, 2), 1))); !isReason(err, UnknownDevice) {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := f.Handle([]byte{0xDD}); !isReason(err, Malformed) {
		t.Errorf("garbage: %v", err)
	}
}

func TestFleetTickAndFaults(t *testing.T) {
	p := genPKI(t, pkiNow)
	f, _ := newFleet(t, p, 4)
	at := deviceNow.Add(time.Hour)
	ids := f.EUIs()
	for i, id := range []int{3, 0} {
		if _, err := f.Handle(frame(t, p.TCoS, ids[id], cmd623(t, futureBody(t, body623(p, 2), at), uint64(1+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if next, ok := f.NextDue(); !ok || !next.Equal(at) {
		t.Errorf("NextDue %v %v", next, ok)
	}
	if alerts, err := f.Tick(at.Add(-time.Second)); err != nil || len(alerts) != 0 {
		t.Fatalf("early: %v %v", alerts, err)
	}
	alerts, err := f.Tick(at)
	if err != nil || len(alerts) != 2 || alerts[0].Device != ids[0] || alerts[1].Device != ids[3] {
		t.Fatalf("alerts %+v %v", alerts, err)
	}
	for _, a := range alerts {
		pub, _ := f.PublicKey(a.Device)
		m, err := gbcs.ParseMessage(a.Frame)
		if err != nil || m.Verify(pub) != nil {
			t.Errorf("alert from %v does not verify", a.Device)
		}
	}
	f.pmu.Lock()
	left := len(f.pending)
	f.pmu.Unlock()
	if left != 0 {
		t.Errorf("%d devices still indexed as pending", left)
	}
	if _, ok := f.NextDue(); ok {
		t.Error("NextDue after everything ran")
	}

	// Fleet-wide faults, with a per-device hook choice by recipient.
	f.SetFaults(Faults{Choose: func(m *gbcs.Message) Fault {
		if m.Recipient == ids[1] {
			return Fault{Kind: FaultBusy}
		}
		return Fault{}
	}})
	res, err := f.Handle(frame(t, p.TCoS, ids[1], cmd623(t, body623(p, 2), 5)))
	if err != nil || statuses(res.Outcome)[0] != gbcs.StatusResourcesBusy {
		t.Errorf("busy device: %+v %v", res, err)
	}
	res, err = f.Handle(frame(t, p.TCoS, ids[2], cmd623(t, body623(p, 2), 5)))
	if err != nil || statuses(res.Outcome)[0] != gbcs.StatusSuccess {
		t.Errorf("healthy device: %+v %v", res, err)
	}
}

func TestFleetConcurrent(t *testing.T) {
	p := genPKI(t, pkiNow)
	f, _ := newFleet(t, p, 8)
	ids := f.EUIs()
	frames := make([][]byte, 0, 2*len(ids))
	for _, id := range ids {
		for c := uint64(1); c <= 2; c++ {
			frames = append(frames, frame(t, p.TCoS, id, cmd623(t, body623(p, int(c)), c)))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(frames))
	for _, fr := range frames {
		wg.Go(func() {
			if _, err := f.Handle(fr); err != nil && !isReason(err, Replay) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range ids {
		d, _ := f.Device(id)
		if d.SeqNumber(gbcs.RoleTransitionalCoS) != 2 {
			t.Errorf("%v: counter %d", id, d.SeqNumber(gbcs.RoleTransitionalCoS))
		}
	}
}

func TestFleetAdd(t *testing.T) {
	p := genPKI(t, pkiNow)
	f, _ := newFleet(t, p, 1)
	d, _ := newESME(t, p)
	if err := f.Add(d); err == nil {
		t.Error("added a second device with the same EUI-64")
	}
	cfg, _ := ESMEConfig(p, 2, newClock(deviceNow).Now)
	d2, _ := New(cfg)
	if err := f.Add(d2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Handle(frame(t, p.TCoS, d2.EUI(), cmd623(t, body623(p, 2), 1))); err != nil {
		t.Fatal(err)
	}
}

// TestFleetMemory builds the 100,000-device fleet the simulator must hold
// and checks that a device no command has reached costs nothing but its
// share of the page table (8 bytes per pageSize devices): generated
// devices exist as a range of EUI-64s until commanded. What a commanded
// device costs is TestFleetMemoryMigrated's.
func TestFleetMemory(t *testing.T) {
	p := genPKI(t, pkiNow)
	const n = 100_000
	before := heapInUse()
	f, _ := newFleet(t, p, n)
	perDevice := float64(heapInUse()-before) / n
	t.Logf("fleet of %d devices: %.2f bytes/device", n, perDevice)
	if perDevice > 1 {
		t.Errorf("%.2f bytes per device before any command, want at most 1", perDevice)
	}
	// The last device works (a derived key, found by EUI-64), and asking
	// for a device does not allocate its state.
	last := FleetEUI(n)
	d, _ := f.Device(last)
	if d.Pending() != 0 || f.stateIfAny(n-len(p.Devices)-1) != nil {
		t.Fatal("looking at a device gave it a state")
	}
	if _, err := f.Handle(frame(t, p.TCoS, last, cmd623(t, body623(p, 2), 1))); err != nil {
		t.Fatal(err)
	}
	if f.stateIfAny(n-len(p.Devices)-1) == nil || d.SeqNumber(gbcs.RoleTransitionalCoS) != 1 {
		t.Fatal("a command left no state, or a handle taken before it does not see it")
	}
	runtime.KeepAlive(f)
}

func isReason(err error, r Reason) bool {
	re, ok := err.(*RejectError)
	return ok && re.Reason == r
}

// TestFleetTCoSAnchor: a fleet given another transitionalCoS anchor obeys
// that certificate's key and no longer the PKI's TCoS key.
func TestFleetTCoSAnchor(t *testing.T) {
	p := genPKI(t, pkiNow)
	other, err := smki.Parse(p.ECoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock(deviceNow)
	f, err := NewFleet(FleetConfig{PKI: p, Devices: 2, Now: c.Now, TCoSAnchor: other})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.Device(p.Devices[0].EUI)
	if cert, ok := d.TransitionalCoS(); !ok || !bytes.Equal(cert.Raw, p.ECoS.Cert) {
		t.Fatalf("the transitionalCoS cell holds %v, want the given anchor", cert)
	}
	mustReject(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 1)), BadSignature)
	mustHandle(t, d, frame(t, p.ECoS, d.EUI(), cmd623(t, body623(p, 2), 2)))
}
