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

// ack is an acknowledgement with code, delivered at pushed (zero: not yet).
func ack(code string, pushed time.Time) *store.Response {
	return &store.Response{Kind: store.ResponseAcknowledgement, Code: code, Document: []byte("<Acknowledgement " + code + "/>"), PushedAt: pushed}
}

// responsesTo lists the responses to id, failing the test on error.
func responsesTo(t *testing.T, db *store.DB, id store.RequestID) []store.Response {
	t.Helper()
	rs, err := db.Responses(ctxOf(t), id)
	must(t, err)
	return rs
}

func testRequestRecord(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	id := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 10}
	doc := []byte("<sr:Request>signed, byte for byte</sr:Request>")
	r := store.Received{
		ID: id, At: t0, Document: doc, Party: "SUP1", ExecuteAt: t0.Add(48 * hour),
		State: store.RequestAuthorised, ResponseCode: "I0", Response: ack("I0", t0),
	}
	must(t, db.RecordRequest(ctx, r))
	got, err := db.Request(ctx, id)
	must(t, err)
	want := store.Request{
		ID: id, State: store.RequestAuthorised, ResponseCode: "I0", ReceivedAt: t0, UpdatedAt: t0,
		Document: doc, Party: "SUP1", ExecuteAt: t0.Add(48 * hour),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("recorded request (-want +got):\n%s", d)
	}
	rs := responsesTo(t, db, id)
	if len(rs) != 1 || rs[0].ID == 0 {
		t.Fatalf("responses after RecordRequest: %+v", rs)
	}
	wantResp := store.Response{
		ID: rs[0].ID, RequestID: id, Kind: store.ResponseAcknowledgement, Code: "I0",
		Document: ack("I0", t0).Document, CreatedAt: t0, PushedAt: t0,
	}
	if d := cmp.Diff(wantResp, rs[0]); d != "" {
		t.Fatalf("acknowledgement stored with the request (-want +got):\n%s", d)
	}

	// A replay records nothing: not the request, not its acknowledgement.
	replay := r
	replay.At, replay.Party, replay.Response = t0.Add(time.Second), "SUP2", ack("E1", time.Time{})
	wantIs(t, db.RecordRequest(ctx, replay), store.ErrReplay)
	got, err = db.Request(ctx, id)
	must(t, err)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("request after a replay (-want +got):\n%s", d)
	}
	if rs := responsesTo(t, db, id); len(rs) != 1 {
		t.Fatalf("a replay added a response: %+v", rs)
	}
	older := replay
	older.ID.Counter = 9
	wantIs(t, db.RecordRequest(ctx, older), store.ErrReplay)
	_, err = db.Request(ctx, older.ID)
	wantIs(t, err, store.ErrNotFound)
	_, err = db.Responses(ctx, older.ID)
	wantIs(t, err, store.ErrNotFound)
	if un, err := db.UnpushedResponses(ctx, 0, 10); err != nil || len(un) != 0 {
		t.Fatalf("unpushed after replays: %+v %v", un, err)
	}

	// Refused by a check before it was stored: final, with its reason, code
	// and the acknowledgement saying so. No document or party: both
	// optional.
	rej := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 11}
	must(t, db.RecordRequest(ctx, store.Received{
		ID: rej, At: t0, Cancel: true, State: store.RequestRejected,
		Reason: "mpid-mismatch", ResponseCode: "E062303", Response: ack("E062303", time.Time{}),
	}))
	got, err = db.Request(ctx, rej)
	must(t, err)
	want = store.Request{
		ID: rej, State: store.RequestRejected, Reason: "mpid-mismatch", ResponseCode: "E062303",
		ReceivedAt: t0, UpdatedAt: t0, Cancel: true,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("rejected request (-want +got):\n%s", d)
	}
	wantTransition(t, db.UpdateRequest(ctx, rej, store.RequestUpdate{To: store.RequestAuthorised, At: t0}), "rejected")
	if rs := responsesTo(t, db, rej); len(rs) != 1 || rs[0].Code != "E062303" || !rs[0].PushedAt.IsZero() {
		t.Fatalf("rejection's acknowledgement: %+v", rs)
	}
	// Without a response, the request has none yet.
	plain := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 12}
	must(t, db.RecordRequest(ctx, store.Received{ID: plain, At: t0, State: store.RequestReceived}))
	if rs := responsesTo(t, db, plain); rs == nil || len(rs) != 0 {
		t.Fatalf("responses to a request without any: %#v", rs)
	}

	// Refused arguments spend no counter: the same ID is accepted after.
	bad := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 13}
	for _, b := range []store.Received{
		{ID: bad, At: t0, State: store.RequestSigned},
		{ID: bad, At: t0, State: store.RequestFailed},
		{ID: bad, At: t0},
		{ID: bad, At: t0, State: store.RequestReceived, Response: &store.Response{Kind: store.ResponseAcknowledgement, Code: "I0"}},
		{ID: bad, At: t0, State: store.RequestReceived, Response: &store.Response{Kind: "receipt", Code: "I0", Document: []byte("x")}},
		{ID: bad, At: t0, State: store.RequestReceived, Response: &store.Response{Kind: store.ResponseAcknowledgement, Document: []byte("x")}},
	} {
		wantIs(t, db.RecordRequest(ctx, b), store.ErrInvalid)
	}
	must(t, db.RecordRequest(ctx, store.Received{ID: bad, At: t0, State: store.RequestReceived}))
}

// A response given with a state move is added if and only if the move is
// made.
func testRequestUpdateResponse(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	id := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 1}
	must(t, db.ReceiveRequest(ctx, id, t0))
	must(t, db.UpdateRequest(ctx, id, store.RequestUpdate{To: store.RequestAuthorised, At: t0, Response: ack("I0", t0)}))
	at := t0.Add(time.Minute)
	svc := &store.Response{Kind: store.ResponseService, Code: "E062301", Document: []byte("<Response/>")}
	must(t, db.UpdateRequest(ctx, id, store.RequestUpdate{To: store.RequestFailed, Reason: "no-answer", ResponseCode: "E062301", At: at, Response: svc}))
	rs := responsesTo(t, db, id)
	if len(rs) != 2 || rs[0].Kind != store.ResponseAcknowledgement || rs[1].Kind != store.ResponseService ||
		rs[1].RequestID != id || !rs[1].CreatedAt.Equal(at) || !rs[1].PushedAt.IsZero() || rs[0].ID >= rs[1].ID {
		t.Fatalf("responses after two moves: %+v", rs)
	}
	if svc.RequestID != (store.RequestID{}) || !svc.CreatedAt.IsZero() {
		t.Fatalf("UpdateRequest changed the caller's response: %+v", svc)
	}

	// Refused moves add nothing.
	late := &store.Response{Kind: store.ResponseService, Code: "I0", Document: []byte("<Response/>"), CreatedAt: at}
	wantTransition(t, db.UpdateRequest(ctx, id, store.RequestUpdate{To: store.RequestResponded, At: at, Response: late}), "failed")
	wantIs(t, db.UpdateRequest(ctx, store.RequestID{Counter: 99}, store.RequestUpdate{To: store.RequestFailed, At: at, Response: late}), store.ErrNotFound)
	if rs := responsesTo(t, db, id); len(rs) != 2 {
		t.Fatalf("a refused move added a response: %+v", rs)
	}
	if un, err := db.UnpushedResponses(ctx, 0, 10); err != nil || len(un) != 1 || un[0].Kind != store.ResponseService {
		t.Fatalf("unpushed after refused moves: %+v %v", un, err)
	}

	// An invalid response refuses the move too.
	next := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 2}
	must(t, db.ReceiveRequest(ctx, next, t0))
	wantIs(t, db.UpdateRequest(ctx, next, store.RequestUpdate{To: store.RequestRejected, At: at,
		Response: &store.Response{Kind: store.ResponseAcknowledgement, Code: "E1"}}), store.ErrInvalid)
	if got, err := db.Request(ctx, next); err != nil || got.State != store.RequestReceived {
		t.Fatalf("request after a refused move: %+v %v", got, err)
	}
}

func testRequestCount(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	counts, err := db.CountRequests(ctx)
	must(t, err)
	if len(counts) != 0 {
		t.Fatalf("counts of an empty store: %v", counts)
	}
	// The moves each request makes after being received.
	paths := [][]store.RequestState{
		nil,
		{store.RequestAuthorised},
		{store.RequestAuthorised, store.RequestSigned},
		{store.RequestAuthorised, store.RequestSigned, store.RequestSent},
		{store.RequestAuthorised, store.RequestSigned, store.RequestSent, store.RequestResponded},
		{store.RequestAuthorised, store.RequestSigned, store.RequestResponded},
		{store.RequestRejected},
		{store.RequestFailed},
		{store.RequestAuthorised},
	}
	for i, steps := range paths {
		id := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, uint32(i%3)), Counter: uint64(i + 1)}
		must(t, db.ReceiveRequest(ctx, id, t0))
		for _, s := range steps {
			must(t, db.UpdateRequest(ctx, id, store.RequestUpdate{To: s, At: t0}))
		}
	}
	counts, err = db.CountRequests(ctx)
	must(t, err)
	want := map[store.RequestState]int{
		store.RequestReceived: 1, store.RequestAuthorised: 2, store.RequestSigned: 1, store.RequestSent: 1,
		store.RequestResponded: 2, store.RequestRejected: 1, store.RequestFailed: 1,
	}
	if d := cmp.Diff(want, counts); d != "" {
		t.Fatalf("counts (-want +got):\n%s", d)
	}
}
