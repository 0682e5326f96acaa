package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/signer"
	"github.com/ecos-cos/ecos/store"
)

// TestCancellationByAnyName drives the attack of issue 11 through the
// pipeline. Supplier 1 gains MPAN 1 in two days and supplier 3 a month
// later. Supplier 1's future-dated change is pending on the meter when
// supplier 3, registered at 9999-12-31, sends GBCS's cancellation time
// 9999-12-31T23:59:59Z as an ordinary ExecutionDateTime: the meter would
// execute it as a cancellation, so it goes through the cancellation
// rules and is refused. Supplier 1 may cancel its own pending change,
// once; a cancellation passes step 6's MPxN checks; a date beyond the
// horizon has its own reason.
func TestCancellationByAnyName(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	d := demoworld.Device(1)
	gain1, gain3 := t0.Add(48*time.Hour), t0.Add(30*24*time.Hour)
	if err := f.db.ImportRegistrations(ctx, []store.Registration{
		{MPxN: demoworld.MPAN(1), From: gain1, Supplier: demoworld.PartyID(1), MPID: demoworld.MPID(1), Device: d},
		{MPxN: demoworld.MPAN(1), From: gain3, Supplier: demoworld.PartyID(3), MPID: demoworld.MPID(3), Device: d},
	}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	gbcsCancel := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	beyond := t0.AddDate(11, 0, 0)
	exec := gain1.Add(time.Hour)

	steps := []struct {
		name   string
		r      demoworld.Request
		reason ecoserr.Reason // 0: accepted
		code   duis.ResponseCode
	}{
		{"supplier 1's future-dated change", demoworld.Request{Supplier: 1, Device: d, Counter: 1, ExecuteAt: &exec}, 0, duis.ResponseAcknowledged},
		{"supplier 3 cancels by GBCS's time", demoworld.Request{Supplier: 3, Device: d, Counter: 1, ExecuteAt: &gbcsCancel}, ecoserr.CancelNotOwner, "E4"},
		{"supplier 3 cancels by DUIS's date", demoworld.Request{Supplier: 3, Device: d, Counter: 2, ExecuteAt: &duis.Cancellation}, ecoserr.CancelNotOwner, "E4"},
		{"supplier 1 cancels naming another device's MPxN", demoworld.Request{Supplier: 1, Device: d, Counter: 2, MPxN: demoworld.MPAN(2), ExecuteAt: &gbcsCancel}, ecoserr.MPxNNotAssociated, "E4"},
		{"supplier 1 cancels with an invalid MPxN", demoworld.Request{Supplier: 1, Device: d, Counter: 3, MPxN: "1200023305968", ExecuteAt: &duis.Cancellation}, ecoserr.InvalidMPxN, "E062304"},
		{"supplier 3 dates beyond the horizon", demoworld.Request{Supplier: 3, Device: d, Counter: 3, ExecuteAt: &beyond}, ecoserr.BeyondHorizon, "E062304"},
		{"supplier 1 cancels its own", demoworld.Request{Supplier: 1, Device: d, Counter: 4, ExecuteAt: &gbcsCancel}, 0, duis.ResponseAcknowledged},
		{"supplier 1 cancels again: nothing pending", demoworld.Request{Supplier: 1, Device: d, Counter: 5, ExecuteAt: &duis.Cancellation}, ecoserr.CancelNotOwner, "E4"},
	}
	for _, s := range steps {
		ack, err := f.p.Submit(ctx, f.sign(t, s.r))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		id := store.RequestID(*ack.RequestID)
		if s.reason == 0 {
			if !ack.Accepted {
				t.Fatalf("%s: refused %s (%v)", s.name, ack.Code, ack.Err)
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			req, err := f.p.WaitFinal(wctx, id)
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if req.State != store.RequestResponded {
				t.Fatalf("%s: %s %s %s, want responded", s.name, req.State, req.Reason, req.ResponseCode)
			}
			continue
		}
		if ack.Accepted || ecoserr.ReasonOf(ack.Err) != s.reason || ack.Code != s.code {
			t.Fatalf("%s: got accepted=%v %s (%v), want %s %s", s.name, ack.Accepted, ack.Code, ack.Err, s.reason.Name(), s.code)
		}
		req, err := f.db.Request(ctx, id)
		if err != nil || req.State != store.RequestRejected || req.Reason != s.reason.Name() {
			t.Errorf("%s: recorded %+v %v", s.name, req, err)
		}
		if cmds, _ := f.db.CommandsForRequest(ctx, id); len(cmds) != 0 {
			t.Errorf("%s: %d commands signed", s.name, len(cmds))
		}
	}
	// What was recorded as a cancellation is what the meter executes as one.
	for counter, want := range map[uint64]bool{4: true, 1: false} {
		req, err := f.db.Request(ctx, store.RequestID{Originator: f.world.PKI.Suppliers[0].EUI, Target: d, Counter: counter})
		if err != nil {
			t.Fatal(err)
		}
		if req.Cancel != want || (want && !req.ExecuteAt.IsZero()) {
			t.Errorf("counter %d recorded cancel=%v execute %v", counter, req.Cancel, req.ExecuteAt)
		}
	}
}

// TestKeyNotHeldRefusedBeforeAck: a service that holds only the ECoS key
// refuses a request for a meter that trusts TCoS at step 5, recorded
// with its reason, instead of acknowledging it and failing in the signer.
func TestKeyNotHeldRefusedBeforeAck(t *testing.T) {
	f := newFixture(t, options{
		authorise: func(c *authorise.Config) { c.Credentials = []store.Credential{store.CredentialECoS} },
		pipeline:  func(c *pipeline.Config) { c.Signer = ecosOnly{c.Signer} },
	})
	f.run(t)
	ctx := context.Background()
	ack, err := f.p.Submit(ctx, f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Accepted || ecoserr.ReasonOf(ack.Err) != ecoserr.DeviceState || ack.Code != "E5" {
		t.Fatalf("got accepted=%v %s (%v), want device-state E5", ack.Accepted, ack.Code, ack.Err)
	}
}

// ecosOnly is a signer without the TCoS key, as signer.Signer answers.
type ecosOnly struct{ pipeline.Signer }

func (s ecosOnly) SignCoS(ctx context.Context, a *authorise.Approved) (*signer.Signed, error) {
	if a.Credential() != store.CredentialECoS {
		return nil, signer.ErrNoKey
	}
	return s.Signer.SignCoS(ctx, a)
}

// TestCancellationRecheckedBeforeSigning closes the window between
// authorising a cancellation and signing it. Supplier 1's cancellation of
// its own pending change is authorised; before it is signed, supplier 3's
// future-dated change is accepted and signed first (workers took the
// jobs in another order). Signed now, supplier 1's cancellation would
// drop supplier 3's change from the meter: it is asked again under the
// device's lock, fails cancel-not-owner, and nothing is signed for it.
func TestCancellationRecheckedBeforeSigning(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	d := demoworld.Device(1)
	gain1, gain3 := t0.Add(48*time.Hour), t0.Add(30*24*time.Hour)
	if err := f.db.ImportRegistrations(ctx, []store.Registration{
		{MPxN: demoworld.MPAN(1), From: gain1, Supplier: demoworld.PartyID(1), MPID: demoworld.MPID(1), Device: d},
		{MPxN: demoworld.MPAN(1), From: gain3, Supplier: demoworld.PartyID(3), MPID: demoworld.MPID(3), Device: d},
	}); err != nil {
		t.Fatal(err)
	}
	exec1, exec3 := gain1.Add(time.Hour), gain3.Add(time.Hour)
	submit := func(r demoworld.Request) store.RequestID {
		t.Helper()
		ack, err := f.p.Submit(ctx, f.sign(t, r))
		if err != nil || !ack.Accepted {
			t.Fatalf("supplier %d counter %d: %v %s", r.Supplier, r.Counter, err, ack.Code)
		}
		return store.RequestID(*ack.RequestID)
	}
	submit(demoworld.Request{Supplier: 1, Device: d, Counter: 1, ExecuteAt: &exec1})
	if n := f.p.Drain(ctx); n != 1 {
		t.Fatalf("drained %d jobs, want supplier 1's change", n)
	}
	cancel := submit(demoworld.Request{Supplier: 1, Device: d, Counter: 2, ExecuteAt: &duis.Cancellation})
	change3 := submit(demoworld.Request{Supplier: 3, Device: d, Counter: 1, ExecuteAt: &exec3})
	if n := f.p.DrainNewestFirst(ctx); n != 2 {
		t.Fatalf("drained %d jobs, want the cancellation and supplier 3's change", n)
	}

	req, err := f.db.Request(ctx, cancel)
	if err != nil {
		t.Fatal(err)
	}
	if req.State != store.RequestFailed || req.Reason != ecoserr.CancelNotOwner.Name() || req.ResponseCode != "E4" {
		t.Errorf("supplier 1's cancellation ended %s %s %s, want failed cancel-not-owner E4", req.State, req.Reason, req.ResponseCode)
	}
	if cmds, _ := f.db.CommandsForRequest(ctx, cancel); len(cmds) != 0 {
		t.Errorf("%d commands signed for the cancellation", len(cmds))
	}
	if req, err := f.db.Request(ctx, change3); err != nil || req.State != store.RequestResponded {
		t.Errorf("supplier 3's change: %+v %v, want responded", req, err)
	}
	meter, _ := f.fleet.Device(d)
	if n := meter.Pending(); n != 2 {
		t.Errorf("the meter holds %d future-dated changes, want supplier 1's and supplier 3's", n)
	}
}
