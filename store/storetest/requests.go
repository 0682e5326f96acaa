package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

func testRequestReceive(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	id := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 1 << 63}
	must(t, db.ReceiveRequest(ctx, id, t0))
	got, err := db.Request(ctx, id)
	must(t, err)
	want := store.Request{ID: id, State: store.RequestReceived, ReceivedAt: t0, UpdatedAt: t0}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("stored request (-want +got):\n%s", d)
	}
	// A replay is refused and leaves the stored request alone.
	wantIs(t, db.ReceiveRequest(ctx, id, t0.Add(time.Second)), store.ErrReplay)
	older := id
	older.Counter--
	wantIs(t, db.ReceiveRequest(ctx, older, t0), store.ErrReplay)
	_, err = db.Request(ctx, older)
	wantIs(t, err, store.ErrNotFound)
	// ReceiveRequest and AcceptRequestID share one guard.
	wantIs(t, db.AcceptRequestID(ctx, id.Originator, id.Target, id.Counter), store.ErrReplay)
	next := id
	next.Counter++
	must(t, db.AcceptRequestID(ctx, next.Originator, next.Target, next.Counter))
	wantIs(t, db.ReceiveRequest(ctx, next, t0), store.ErrReplay)
}

func testRequestTransitions(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	req := func(n uint64) store.RequestID {
		id := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: n}
		must(t, db.ReceiveRequest(ctx, id, t0.Add(time.Duration(n)*time.Second)))
		return id
	}
	at := t0.Add(time.Minute)

	// The happy path, with the reason and code kept when a later step
	// leaves them empty.
	ok := req(1)
	for _, u := range []store.RequestUpdate{
		{To: store.RequestAuthorised, At: at},
		{To: store.RequestSigned, At: at},
		{To: store.RequestSent, At: at},
		{To: store.RequestResponded, ResponseCode: "I0", At: at.Add(time.Second)},
	} {
		must(t, db.UpdateRequest(ctx, ok, u))
	}
	got, err := db.Request(ctx, ok)
	must(t, err)
	if got.State != store.RequestResponded || got.ResponseCode != "I0" || !got.UpdatedAt.Equal(at.Add(time.Second)) || !got.ReceivedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("after the happy path: %+v", got)
	}

	// Rejected with a reason; final.
	rej := req(2)
	must(t, db.UpdateRequest(ctx, rej, store.RequestUpdate{To: store.RequestRejected, Reason: "mpid-mismatch", ResponseCode: "E062303", At: at}))
	wantTransition(t, db.UpdateRequest(ctx, rej, store.RequestUpdate{To: store.RequestAuthorised, At: at}), "rejected")
	wantTransition(t, db.UpdateRequest(ctx, rej, store.RequestUpdate{To: store.RequestRejected, At: at}), "rejected")
	got, err = db.Request(ctx, rej)
	must(t, err)
	if got.Reason != "mpid-mismatch" || got.ResponseCode != "E062303" {
		t.Fatalf("rejected request lost its reason: %+v", got)
	}

	// Skipping a step, going backwards, and leaving a final state are refused.
	skip := req(3)
	wantTransition(t, db.UpdateRequest(ctx, skip, store.RequestUpdate{To: store.RequestSigned, At: at}), "received")
	must(t, db.UpdateRequest(ctx, skip, store.RequestUpdate{To: store.RequestAuthorised, At: at}))
	wantTransition(t, db.UpdateRequest(ctx, skip, store.RequestUpdate{To: store.RequestAuthorised, At: at}), "authorised")
	must(t, db.UpdateRequest(ctx, skip, store.RequestUpdate{To: store.RequestFailed, Reason: "internal", At: at}))
	wantTransition(t, db.UpdateRequest(ctx, skip, store.RequestUpdate{To: store.RequestSent, At: at}), "failed")
	wantIs(t, db.UpdateRequest(ctx, skip, store.RequestUpdate{To: store.RequestReceived, At: at}), store.ErrInvalid)

	wantIs(t, db.UpdateRequest(ctx, store.RequestID{Counter: 99}, store.RequestUpdate{To: store.RequestAuthorised, At: at}), store.ErrNotFound)

	// Unfinished: only 4 and 5 (received, authorised), oldest first.
	r4 := req(4)
	r5 := req(5)
	must(t, db.UpdateRequest(ctx, r5, store.RequestUpdate{To: store.RequestAuthorised, At: at}))
	open5, err := db.UnfinishedRequests(ctx, 10)
	must(t, err)
	if len(open5) != 2 || open5[0].ID != r4 || open5[1].ID != r5 {
		t.Fatalf("unfinished requests: %+v", open5)
	}
}
