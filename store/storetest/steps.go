package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// The combined steps the 6.23 pipeline commits once each: reserving a
// counter with its intent, a command's progress carrying its request's,
// and a device's answer with everything it settles.

func testReserveIntent(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 5}
	must(t, db.ReceiveRequest(ctx, req, t0))
	build := func(c uint64) (store.Intent, error) {
		return store.Intent{RequestID: req, Device: req.Target, Counter: c, KeyID: "ecos", TBS: []byte{byte(c)}, CreatedAt: t0}, nil
	}
	in, id, err := db.ReserveIntent(ctx, "cos", build)
	must(t, err)
	if in.Counter != 1 {
		t.Fatalf("first counter %d, want 1", in.Counter)
	}
	if c, err := db.Command(ctx, id); err != nil || c.State != store.CommandIntent || c.Counter != 1 || c.RequestID != req {
		t.Fatalf("recorded intent: %+v %v", c, err)
	}

	// A failing build, a wrong counter or a bad intent records nothing and
	// spends no counter.
	boom := errors.New("cannot build")
	_, _, err = db.ReserveIntent(ctx, "cos", func(uint64) (store.Intent, error) { return store.Intent{}, boom })
	wantIs(t, err, boom)
	_, _, err = db.ReserveIntent(ctx, "cos", func(c uint64) (store.Intent, error) {
		in, _ := build(c)
		in.Counter = c + 1
		return in, nil
	})
	wantIs(t, err, store.ErrInvalid)
	_, _, err = db.ReserveIntent(ctx, "cos", func(c uint64) (store.Intent, error) {
		in, _ := build(c)
		in.TBS = nil
		return in, nil
	})
	wantIs(t, err, store.ErrInvalid)
	// The same device and counter twice cannot happen through a counter,
	// but a duplicate is still refused and spends nothing.
	_, _, err = db.ReserveIntent(ctx, "cos", func(c uint64) (store.Intent, error) {
		in, _ := build(c)
		in.RequestID = store.RequestID{Originator: eu(0x90, 9), Target: eu(0x00, 9), Counter: 9}
		return in, nil
	})
	wantIs(t, err, store.ErrNotFound)
	next, err := db.ReserveCounter(ctx, "cos")
	must(t, err)
	if next != 2 {
		t.Fatalf("counter after four failed reservations %d, want 2", next)
	}
}

func testCommandCarriesRequest(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 6}
	must(t, db.ReceiveRequest(ctx, req, t0))
	must(t, db.UpdateRequest(ctx, req, store.RequestUpdate{To: store.RequestAuthorised, At: t0}))
	id, _ := intentFor(t, db, 1, req)
	state := func(want store.RequestState) {
		t.Helper()
		r, err := db.Request(ctx, req)
		must(t, err)
		if r.State != want {
			t.Fatalf("request %s, want %s", r.State, want)
		}
	}
	must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
	state(store.RequestSigned)
	must(t, db.MarkSent(ctx, id, t0))
	state(store.RequestSent)

	// A finished request is not moved by its command's bookkeeping.
	req2 := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 2), Counter: 7}
	must(t, db.ReceiveRequest(ctx, req2, t0))
	id2, _ := intentFor(t, db, 2, req2)
	must(t, db.UpdateRequest(ctx, req2, store.RequestUpdate{To: store.RequestFailed, At: t0, Reason: "x", ResponseCode: "E21"}))
	must(t, db.MarkSigned(ctx, id2, []byte("frame"), t0))
	must(t, db.MarkSent(ctx, id2, t0))
	if r, err := db.Request(ctx, req2); err != nil || r.State != store.RequestFailed {
		t.Fatalf("failed request after its command moved: %+v %v", r, err)
	}
}

func testRecordAnswer(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	seed(t, db, 3)
	req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 8}
	must(t, db.ReceiveRequest(ctx, req, t0))
	must(t, db.UpdateRequest(ctx, req, store.RequestUpdate{To: store.RequestAuthorised, At: t0}))
	id, in := intentFor(t, db, 1, req)
	must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
	must(t, db.MarkSent(ctx, id, t0))
	tr := t0.Add(time.Second)
	answer := store.Answer{Device: in.Device, Counter: in.Counter, Frame: []byte("response"), Outcome: "success", At: tr,
		Request: &store.RequestUpdate{To: store.RequestResponded, ResponseCode: "I0", At: tr,
			Response: &store.Response{Kind: store.ResponseService, Code: "I0", Document: []byte("doc")}},
		Supplier: "SUP2"}

	// All or none: a supplier note for an unknown device, or a request
	// move the state machine refuses, leaves the command unanswered.
	stray := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 50), Counter: 9}
	must(t, db.ReceiveRequest(ctx, stray, t0))
	must(t, db.UpdateRequest(ctx, stray, store.RequestUpdate{To: store.RequestAuthorised, At: t0}))
	strayID, strayIn := intentFor(t, db, 50, stray) // device 50 is not in the devices table
	must(t, db.MarkSigned(ctx, strayID, []byte("frame"), t0))
	bad := answer
	bad.Device, bad.Counter = strayIn.Device, strayIn.Counter
	_, err := db.RecordAnswer(ctx, bad)
	wantIs(t, err, store.ErrNotFound)
	if c, err := db.Command(ctx, strayID); err != nil || c.State != store.CommandSigned {
		t.Fatalf("command after a refused supplier note: %+v %v", c, err)
	}
	if r, err := db.Request(ctx, stray); err != nil || r.State != store.RequestSigned {
		t.Fatalf("request after a refused supplier note: %+v %v", r, err)
	}
	bad = answer
	bad.Request = &store.RequestUpdate{To: store.RequestAuthorised, At: tr}
	_, err = db.RecordAnswer(ctx, bad)
	wantTransition(t, err, string(store.RequestSent))
	if c, err := db.Command(ctx, id); err != nil || c.State != store.CommandSent {
		t.Fatalf("command after refused answers: %+v %v", c, err)
	}
	if rs, err := db.Responses(ctx, req); err != nil || len(rs) != 0 {
		t.Fatalf("responses after refused answers: %+v %v", rs, err)
	}

	c, err := db.RecordAnswer(ctx, answer)
	must(t, err)
	if c.State != store.CommandResponded || c.RequestID != req || string(c.Response) != "response" {
		t.Fatalf("answered command: %+v", c)
	}
	r, err := db.Request(ctx, req)
	must(t, err)
	rs, err := db.Responses(ctx, req)
	must(t, err)
	d, err := db.Device(ctx, in.Device)
	must(t, err)
	switch {
	case r.State != store.RequestResponded || r.ResponseCode != "I0":
		t.Fatalf("request: %+v", r)
	case len(rs) != 1 || string(rs[0].Document) != "doc" || !rs[0].CreatedAt.Equal(tr):
		t.Fatalf("responses: %+v", rs)
	case d.Supplier != "SUP2" || !d.SupplierSince.Equal(tr):
		t.Fatalf("device: %+v", d)
	}
	_, err = db.RecordAnswer(ctx, answer)
	wantTransition(t, err, string(store.CommandResponded))
}
