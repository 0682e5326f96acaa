package device

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
)

// TestLazyDevicesMeetFaults: generated devices of a million-device fleet,
// which exist only once commanded, meet every fault as built devices do,
// including a Choose hook that looks at the device it is deciding for.
func TestLazyDevicesMeetFaults(t *testing.T) {
	p := genPKI(t, pkiNow)
	f, clk := newFleet(t, p, 1_000_000)
	lost, busy, refused, held := FleetEUI(777_777), FleetEUI(777_778), FleetEUI(999_999), FleetEUI(1_000)
	f.SetFaults(Faults{Choose: func(m *gbcs.Message) Fault {
		d, ok := f.Device(m.Recipient)
		if !ok {
			t.Errorf("hook: no device %v", m.Recipient)
			return Fault{}
		}
		switch {
		case m.Recipient == refused:
			return Fault{Kind: FaultReject}
		case m.Recipient == lost && d.Trusts(cellTransCoSDS.cell(), p.TCoS.Cert):
			// Lose the migration's response, once: the device still
			// trusts the TCoS key when the hook looks.
			return Fault{Kind: FaultDropResponse}
		}
		return Fault{}
	}})

	// Response lost after the device applied the migration; a read-back
	// (now authorised by the ECoS key) shows the ECoS certificate.
	res, err := f.Handle(frame(t, p.TCoS, lost, migration(t, p, p.ECoS.Cert, 10)))
	if err != nil || !res.Dropped || res.Response != nil {
		t.Fatalf("lost response: %+v %v", res, err)
	}
	d, _ := f.Device(lost)
	if !d.Trusts(cellTransCoSDS.cell(), p.ECoS.Cert) {
		t.Fatal("the migration whose response was lost was not applied")
	}
	res, err = f.Handle(cs02a(t, p.ECoS, gbcs.RoleTransitionalCoS, lost, 11, gbcs.RoleTransitionalCoS))
	if err != nil || res.Response == nil {
		t.Fatalf("read-back: %+v %v", res, err)
	}
	pub, _ := f.PublicKey(lost)
	m, err := gbcs.ParseMessage(res.Response)
	if err != nil || m.Verify(pub) != nil {
		t.Fatalf("read-back response does not verify: %v", err)
	}
	cells := res.Details.Parties[0].Credentials.Cells
	if len(cells) != 1 || cells[0].SubjectKeyID != skiOf(p.ECoS) {
		t.Errorf("read-back shows %+v, want the ECoS certificate", cells)
	}

	// A per-device fault set before any command reached the device.
	b, _ := f.Device(busy)
	b.SetFaults(Faults{Fixed: Fault{Kind: FaultBusy}})
	res, err = f.Handle(frame(t, p.TCoS, busy, migration(t, p, p.ECoS.Cert, 5)))
	if err != nil || statuses(res.Outcome)[0] != gbcs.StatusResourcesBusy || b.SeqNumber(gbcs.RoleTransitionalCoS) != 0 {
		t.Fatalf("busy: %+v %v", res, err)
	}
	b.SetFaults(Faults{})
	if _, err := f.Handle(frame(t, p.TCoS, busy, migration(t, p, p.ECoS.Cert, 5))); err != nil || !b.Trusts(cellTransCoSDS.cell(), p.ECoS.Cert) {
		t.Fatalf("retry after busy: %v", err)
	}

	// Refused: nothing changes, not even the device's existence.
	r, _ := f.Device(refused)
	before := snap(r)
	if _, err := f.Handle(frame(t, p.TCoS, refused, migration(t, p, p.ECoS.Cert, 1))); !errors.Is(err, Injected) {
		t.Fatalf("refused: %v", err)
	}
	if !reflect.DeepEqual(before, snap(r)) {
		t.Fatal("a refused command changed the device")
	}

	// A future-dated command on a generated device runs at Tick.
	at := deviceNow.Add(time.Hour)
	if _, err := f.Handle(frame(t, p.TCoS, held, cmd623(t, futureBody(t, body623(p, 2), at), 3))); err != nil {
		t.Fatal(err)
	}
	clk.Set(at)
	alerts, err := f.Tick(at)
	if err != nil || len(alerts) != 1 || alerts[0].Device != held || alerts[0].Code != gbcs.AlertFutureDatedSuccess {
		t.Fatalf("alerts %+v %v", alerts, err)
	}
	h, _ := f.Device(held)
	if h.AlertCounter() != 1 || h.Pending() != 0 {
		t.Errorf("after Tick: alert counter %d, %d pending", h.AlertCounter(), h.Pending())
	}
}

// TestFleetConcurrentFreshDevices migrates fresh devices from several
// goroutines at once, neighbours sharing pages, while a party-side
// lookup checks each response with the fleet's own derived keys.
func TestFleetConcurrentFreshDevices(t *testing.T) {
	p := genPKI(t, pkiNow)
	f, _ := newFleet(t, p, 1_000_000)
	const workers, each = 4, 150
	frames := make([][][]byte, workers)
	for w := range frames {
		for i := range each {
			// Interleaved: worker w takes devices w, w+workers, … so that
			// every page is materialised by several goroutines at once.
			id := FleetEUI(500_000 + i*workers + w)
			frames[w] = append(frames[w], frame(t, p.TCoS, id, migration(t, p, p.ECoS.Cert, uint64(1+i))))
		}
	}
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, fr := range frames[w] {
				res, err := f.Handle(fr)
				if err != nil {
					errs <- err
					continue
				}
				m, err := gbcs.ParseMessage(res.Response)
				if err != nil {
					errs <- err
					continue
				}
				pub, err := f.Keys().PublicKey(m.Originator)
				if err != nil || m.Verify(pub) != nil {
					errs <- fmt.Errorf("response from %v does not verify: %v", m.Originator, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range workers * each {
		d, _ := f.Device(FleetEUI(500_000 + i))
		if !d.Trusts(cellTransCoSDS.cell(), p.ECoS.Cert) || d.SeqNumber(gbcs.RoleTransitionalCoS) != uint64(1+i/workers) {
			t.Fatalf("device %d: not migrated, or counter %d", 500_000+i, d.SeqNumber(gbcs.RoleTransitionalCoS))
		}
	}
}
