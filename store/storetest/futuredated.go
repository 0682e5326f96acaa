package storetest

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

func testFutureDatedSender(t *testing.T, open Opener) {
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
	want := func(now time.Time, wantParty string, wantOK bool) {
		t.Helper()
		party, ok, err := db.FutureDatedSender(ctx, dev, now)
		must(t, err)
		if party != wantParty || ok != wantOK {
			t.Fatalf("at %v: future-dated sender %q, %v; want %q, %v", now, party, ok, wantParty, wantOK)
		}
	}
	none := func(now time.Time) {
		t.Helper()
		want(now, "", false)
	}
	authorised := store.RequestAuthorised

	none(t0)
	record(dev, "SUP1", t0, time.Time{}, false, authorised) // immediate
	none(t0)

	exec1 := t0.Add(48 * hour)
	record(dev, "SUP1", t0, exec1, false, authorised)
	want(t0.Add(hour), "SUP1", true)
	want(exec1.Add(-time.Microsecond), "SUP1", true)
	none(exec1) // due now: no longer future-dated
	none(exec1.Add(hour))

	// Received later, but none of these will execute: a cancellation, one
	// not yet authorised, one rejected, one failed; nor is another
	// device's request about dev.
	later := t0.Add(hour)
	record(dev, "SUP2", later, exec1, true, authorised)
	record(dev, "SUP2", later, exec1, false)
	record(dev, "SUP2", later, exec1, false, store.RequestRejected)
	record(dev, "SUP2", later, exec1, false, authorised, store.RequestSigned, store.RequestFailed)
	record(eu(0x00, 2), "SUP2", later, exec1, false, authorised)
	want(later, "SUP1", true)

	// The newest pending one wins, whatever its execution time, and keeps
	// winning as its command goes out and is answered.
	exec2 := t0.Add(24 * hour)
	newest := record(dev, "SUP2", t0.Add(2*hour), exec2, false, authorised)
	want(t0.Add(3*hour), "SUP2", true)
	for _, s := range []store.RequestState{store.RequestSigned, store.RequestSent, store.RequestResponded} {
		must(t, db.UpdateRequest(ctx, newest, store.RequestUpdate{To: s, At: t0.Add(3 * hour)}))
		want(t0.Add(3*hour), "SUP2", true)
	}
	// Once it is past, the older one, still future-dated, is the newest.
	want(exec2.Add(hour), "SUP1", true)
}
