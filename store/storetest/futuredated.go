package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

func testPendingFutureDated(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	dev := eu(0x00, 1)
	var counter uint64
	// record stores a request for target from party, received at, to
	// execute at execute (zero: immediately), moved through moves.
	record := func(target eui.EUI, party string, received, execute time.Time, cancel bool, moves ...store.RequestState) store.RequestID {
		t.Helper()
		counter++
		id := store.RequestID{Originator: eu(0x90, 1), Target: target, Counter: counter}
		must(t, db.RecordRequest(ctx, store.Received{ID: id, At: received, Party: party, ExecuteAt: execute, Cancel: cancel, State: store.RequestReceived}))
		for _, s := range moves {
			must(t, db.UpdateRequest(ctx, id, store.RequestUpdate{To: s, At: received}))
		}
		return id
	}
	// asker is the cancellation asking; by default one not recorded.
	asker := store.RequestID{Originator: eu(0x90, 9), Target: dev, Counter: 1}
	want := func(now time.Time, parties ...string) {
		t.Helper()
		got, err := db.PendingFutureDated(ctx, dev, asker, now)
		must(t, err)
		if !slices.Equal(got, parties) {
			t.Fatalf("at %v: pending future-dated from %q; want %q", now, got, parties)
		}
	}
	authorised := store.RequestAuthorised

	want(t0)
	record(dev, "SUP1", t0, time.Time{}, false, authorised) // immediate
	want(t0)

	exec1 := t0.Add(48 * hour)
	record(dev, "SUP1", t0, exec1, false, authorised)
	want(t0.Add(hour), "SUP1")
	want(exec1.Add(-time.Microsecond), "SUP1")
	want(exec1) // due now: no longer future-dated
	want(exec1.Add(hour))

	// Received later, but none of these will execute: one not yet
	// authorised, one rejected, one failed; nor is another device's
	// request about dev.
	later := t0.Add(hour)
	record(dev, "SUP2", later, exec1, false)
	record(dev, "SUP2", later, exec1, false, store.RequestRejected)
	record(dev, "SUP2", later, exec1, false, authorised, store.RequestSigned, store.RequestFailed)
	record(eu(0x00, 2), "SUP2", later, exec1, false, authorised)
	want(later, "SUP1")

	// A rejected cancellation cancels nothing.
	record(dev, "SUP2", later, time.Time{}, true, store.RequestRejected)
	want(later, "SUP1")

	// A second party's pending request on the same device: both are
	// pending, whichever was received last, as they go out and are
	// answered.
	exec2 := t0.Add(24 * hour)
	second := record(dev, "SUP2", t0.Add(2*hour), exec2, false, authorised)
	want(t0.Add(3*hour), "SUP1", "SUP2")
	for _, s := range []store.RequestState{store.RequestSigned, store.RequestSent, store.RequestResponded} {
		must(t, db.UpdateRequest(ctx, second, store.RequestUpdate{To: s, At: t0.Add(3 * hour)}))
		want(t0.Add(3*hour), "SUP1", "SUP2")
	}
	// A quarantine's DCC alert, stored with a request held and then
	// released, says nothing about the device: still pending.
	_, err := db.AddResponse(ctx, store.Response{RequestID: second, Kind: store.ResponseAlert, Code: "AD1", Document: []byte("<alert/>"), CreatedAt: t0.Add(3 * hour)})
	must(t, err)
	want(t0.Add(3*hour), "SUP1", "SUP2")
	// Once the device reports it executed (or did not), it is no longer
	// pending.
	_, err = db.AddResponse(ctx, store.Response{RequestID: second, Kind: store.ResponseAlert, Code: store.AlertFutureDatedActioned, Document: []byte("<alert/>"), CreatedAt: t0.Add(4 * hour)})
	must(t, err)
	want(t0.Add(4*hour), "SUP1")
	notActioned := record(dev, "SUP4", t0.Add(4*hour), exec2, false, authorised)
	want(t0.Add(4*hour), "SUP1", "SUP4")
	_, err = db.AddResponse(ctx, store.Response{RequestID: notActioned, Kind: store.ResponseAlert, Code: store.AlertFutureDatedNotActioned, Document: []byte("<alert/>"), CreatedAt: t0.Add(4 * hour)})
	must(t, err)
	want(t0.Add(4*hour), "SUP1")

	// An authorised cancellation received after it cancels it (the device
	// drops every pending command); a request received after the
	// cancellation is pending again.
	record(dev, "SUP1", t0.Add(5*hour), time.Time{}, true, authorised)
	want(t0.Add(5 * hour))
	record(dev, "SUP3", t0.Add(6*hour), exec1, false, authorised)
	want(t0.Add(6*hour), "SUP3")

	// A request held while a cancellation is authorised, and released
	// after it, goes to the device after the cancellation: it counts from
	// its release, not its receipt.
	ref, err := db.ReserveCounter(ctx, store.QuarantineRefCounter)
	must(t, err)
	held := store.RequestID{Originator: eu(0x90, 5), Target: dev, Counter: 1}
	must(t, db.RecordRequest(ctx, store.Received{ID: held, At: t0.Add(7 * hour), Party: "SUP5", ExecuteAt: exec1,
		State: store.RequestQuarantined, ResponseCode: "I0", Response: ack("I0", t0.Add(7*hour)), Hold: holdFor(ref, exec1)}))
	want(t0.Add(7*hour), "SUP3")
	record(dev, "SUP3", t0.Add(8*hour), time.Time{}, true, authorised)
	want(t0.Add(8 * hour))
	_, err = db.DecideHolds(ctx, nil, []store.HoldDecision{{Ref: ref, To: store.HoldReleased}}, t0.Add(9*hour), "operator")
	must(t, err)
	want(t0.Add(9*hour), "SUP5")

	// One that failed after its command was handed on may be held by the
	// device: pending. One whose command never left is not.
	lost := record(dev, "SUP6", t0.Add(10*hour), exec1, false, authorised, store.RequestSigned, store.RequestSent)
	must(t, db.UpdateRequest(ctx, lost, store.RequestUpdate{To: store.RequestFailed, Reason: "no-response", ResponseCode: "E21", At: t0.Add(10 * hour)}))
	unsent := record(dev, "SUP7", t0.Add(10*hour), exec1, false, authorised, store.RequestSigned, store.RequestSent)
	must(t, db.UpdateRequest(ctx, unsent, store.RequestUpdate{To: store.RequestFailed, Reason: "device-unreachable", ResponseCode: "E20", At: t0.Add(10 * hour)}))
	want(t0.Add(10*hour), "SUP5", "SUP6")

	// The device takes commands in counter order, whatever order their
	// requests arrived in: a cancellation received after a future-dated
	// request but signed before it (two workers racing for the device)
	// does not cancel it; one signed after it, or still to be signed once
	// it is, does.
	dev2 := eu(0x00, 3)
	want2 := func(now time.Time, parties ...string) {
		t.Helper()
		got, err := db.PendingFutureDated(ctx, dev2, store.RequestID{Originator: eu(0x90, 9), Target: dev2, Counter: 1}, now)
		must(t, err)
		if !slices.Equal(got, parties) {
			t.Fatalf("at %v: pending future-dated on %s from %q; want %q", now, dev2, got, parties)
		}
	}
	sign := func(id store.RequestID) {
		t.Helper()
		_, cid, err := db.ReserveIntent(ctx, "cos", func(c uint64) (store.Intent, error) {
			return store.Intent{RequestID: id, Device: dev2, Counter: c, KeyID: "tcos", TBS: []byte("tbs"), CreatedAt: t0}, nil
		})
		must(t, err)
		must(t, db.MarkSigned(ctx, cid, []byte("frame"), t0.Add(12*hour)))
	}
	fd := record(dev2, "SUP8", t0.Add(11*hour), exec1, false, authorised)
	early := record(dev2, "SUP9", t0.Add(12*hour), time.Time{}, true, authorised)
	want2(t0.Add(12 * hour)) // neither signed: the receipt order stands in
	sign(early)
	want2(t0.Add(12*hour), "SUP8") // the cancellation is ahead of it
	sign(fd)
	want2(t0.Add(12*hour), "SUP8")
	late := record(dev2, "SUP9", t0.Add(13*hour), time.Time{}, true, authorised)
	want2(t0.Add(13 * hour)) // to be signed after it
	sign(late)
	want2(t0.Add(13 * hour))
}
