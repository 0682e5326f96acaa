package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

// intentFor reserves a counter and records an intent for device n, serving
// request req (zero: none).
func intentFor(t *testing.T, db *store.DB, n uint32, req store.RequestID) (store.CommandID, store.Intent) {
	t.Helper()
	ctx := ctxOf(t)
	c, err := db.ReserveCounter(ctx, "cos")
	must(t, err)
	in := store.Intent{RequestID: req, Device: eu(0x00, n), Counter: c, KeyID: "ecos", TBS: []byte{0xDF, 0x09, byte(c)}, CreatedAt: t0}
	id, err := db.RecordIntent(ctx, in)
	must(t, err)
	return id, in
}

func testCommandLifecycle(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 1006}
	must(t, db.ReceiveRequest(ctx, req, t0))
	id, in := intentFor(t, db, 1, req)

	got, err := db.Command(ctx, id)
	must(t, err)
	want := store.Command{ID: id, Intent: in, State: store.CommandIntent, UpdatedAt: t0}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("intent (-want +got):\n%s", d)
	}

	frame := []byte("signed frame")
	ts, tx, tr := t0.Add(time.Millisecond), t0.Add(2*time.Millisecond), t0.Add(time.Second)
	must(t, db.MarkSigned(ctx, id, frame, ts))
	must(t, db.MarkSent(ctx, id, tx))
	resp, err := db.RecordResponse(ctx, in.Device, in.Counter, []byte("response"), "success", tr)
	must(t, err)
	want = store.Command{
		ID: id, Intent: in, State: store.CommandResponded, Frame: frame, Response: []byte("response"),
		Outcome: "success", SignedAt: ts, SentAt: tx, RespondedAt: tr, UpdatedAt: tr,
	}
	if d := cmp.Diff(want, resp); d != "" {
		t.Fatalf("RecordResponse result (-want +got):\n%s", d)
	}
	got, err = db.Command(ctx, id)
	must(t, err)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("answered command (-want +got):\n%s", d)
	}

	// The party's own commands serve no request. A device may answer before
	// the send is recorded.
	own, ownIn := intentFor(t, db, 2, store.RequestID{})
	must(t, db.MarkSigned(ctx, own, frame, ts))
	resp, err = db.RecordResponse(ctx, ownIn.Device, ownIn.Counter, nil, "busy", tr)
	must(t, err)
	if !resp.RequestID.IsZero() || resp.State != store.CommandResponded || !resp.SentAt.IsZero() {
		t.Fatalf("own command answered: %+v", resp)
	}
}

func testCommandIllegal(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	id, in := intentFor(t, db, 1, store.RequestID{})

	// One command per device and counter.
	_, err := db.RecordIntent(ctx, in)
	wantIs(t, err, store.ErrDuplicate)
	// An intent must name a stored request, if any.
	bad := in
	bad.Counter++
	bad.RequestID = store.RequestID{Originator: eu(0x90, 9), Target: eu(0x00, 9), Counter: 9}
	_, err = db.RecordIntent(ctx, bad)
	wantIs(t, err, store.ErrNotFound)
	for _, b := range []store.Intent{
		{Device: in.Device, Counter: 7, KeyID: "ecos"},
		{Device: in.Device, Counter: 7, TBS: []byte{1}},
		{Counter: 7, KeyID: "ecos", TBS: []byte{1}},
		{Device: in.Device, Counter: 1 << 63, KeyID: "ecos", TBS: []byte{1}},
	} {
		_, err := db.RecordIntent(ctx, b)
		wantIs(t, err, store.ErrInvalid)
	}

	// Out of order, twice, and after the end.
	wantTransition(t, db.MarkSent(ctx, id, t0), "intent")
	_, err = db.RecordResponse(ctx, in.Device, in.Counter, nil, "x", t0)
	wantTransition(t, err, "intent")
	wantIs(t, db.MarkSigned(ctx, id, nil, t0), store.ErrInvalid)
	must(t, db.MarkSigned(ctx, id, []byte("f1"), t0))
	wantTransition(t, db.MarkSigned(ctx, id, []byte("f2"), t0), "signed") // never signed twice
	must(t, db.MarkSent(ctx, id, t0))
	wantTransition(t, db.MarkSent(ctx, id, t0), "sent")
	wantTransition(t, db.MarkSigned(ctx, id, []byte("f3"), t0), "sent")
	_, err = db.RecordResponse(ctx, in.Device, in.Counter, nil, "success", t0)
	must(t, err)
	_, err = db.RecordResponse(ctx, in.Device, in.Counter, nil, "success", t0)
	wantTransition(t, err, "responded")
	wantTransition(t, db.MarkFailed(ctx, id, "late", t0), "responded")
	got, err := db.Command(ctx, id)
	must(t, err)
	if string(got.Frame) != "f1" {
		t.Fatalf("frame %q after refused re-signs, want f1", got.Frame)
	}

	// Failed is final.
	id2, _ := intentFor(t, db, 2, store.RequestID{})
	must(t, db.MarkFailed(ctx, id2, "hsm unavailable", t0))
	wantTransition(t, db.MarkSigned(ctx, id2, []byte("f"), t0), "failed")

	// Unknown commands.
	wantIs(t, db.MarkSigned(ctx, 999999, []byte("f"), t0), store.ErrNotFound)
	wantIs(t, db.MarkSent(ctx, 999999, t0), store.ErrNotFound)
	_, err = db.RecordResponse(ctx, in.Device, in.Counter+1000, nil, "x", t0)
	wantIs(t, err, store.ErrNotFound)
	_, err = db.RecordResponse(ctx, in.Device, 1<<63, nil, "x", t0)
	wantIs(t, err, store.ErrNotFound)
	_, err = db.Command(ctx, 999999)
	wantIs(t, err, store.ErrNotFound)
}

// Racing signers, half on a second handle: exactly one records its frame.
func testCommandSignOnce(t *testing.T, open Opener) {
	db := open(t)
	dbs := []*store.DB{db, reopen(t, db)}
	ctx := ctxOf(t)
	for round := range 20 {
		id, _ := intentFor(t, db, uint32(round+1), store.RequestID{})
		results := make([]error, 8)
		var wg sync.WaitGroup
		for r := range results {
			wg.Go(func() { results[r] = dbs[r%2].MarkSigned(ctx, id, []byte{byte(r + 1)}, t0) })
		}
		wg.Wait()
		winner := -1
		for r, err := range results {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: signers %d and %d both recorded", round, winner, r)
			case err == nil:
				winner = r
			case !errors.Is(err, store.ErrTransition):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no signer recorded", round)
		}
		got, err := db.Command(ctx, id)
		must(t, err)
		if len(got.Frame) != 1 || got.Frame[0] != byte(winner+1) {
			t.Fatalf("round %d: frame %x, want the winner's %d", round, got.Frame, winner+1)
		}
	}
}

func testCommandPendingUnsent(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	intentOnly, _ := intentFor(t, db, 1, store.RequestID{})
	signed, _ := intentFor(t, db, 2, store.RequestID{})
	sent, _ := intentFor(t, db, 3, store.RequestID{})
	failed, _ := intentFor(t, db, 4, store.RequestID{})
	must(t, db.MarkSigned(ctx, signed, []byte("f"), t0))
	must(t, db.MarkSigned(ctx, sent, []byte("f"), t0))
	must(t, db.MarkSent(ctx, sent, t0))
	must(t, db.MarkFailed(ctx, failed, "gave up", t0))

	pending, err := db.PendingUnsent(ctx)
	must(t, err)
	if len(pending) != 2 || pending[0].ID != intentOnly || pending[1].ID != signed ||
		pending[0].State != store.CommandIntent || string(pending[1].Frame) != "f" {
		t.Fatalf("pending unsent: %+v", pending)
	}
}

// Racing intents for one device and counter, mixed with intents for other
// devices: exactly one of the clashing ones is recorded and every other
// intent is, whatever batches or transactions they share.
func testCommandDuplicateConcurrent(t *testing.T, open Opener) {
	db := open(t)
	dbs := []*store.DB{db, reopen(t, db)}
	ctx := ctxOf(t)
	const racers = 16
	results := make([]error, racers)
	var wg sync.WaitGroup
	for r := range racers {
		wg.Go(func() {
			in := store.Intent{Device: eu(0x00, 1), Counter: 42, KeyID: "ecos", TBS: []byte{byte(r)}, CreatedAt: t0}
			if r%2 == 1 { // the odd ones are all distinct
				in.Device = eu(0x00, uint32(100+r))
			}
			_, results[r] = dbs[r%2].RecordIntent(ctx, in)
		})
	}
	wg.Wait()
	won := 0
	for r, err := range results {
		switch {
		case r%2 == 1 && err != nil:
			t.Errorf("distinct intent %d: %v", r, err)
		case r%2 == 0 && err == nil:
			won++
		case r%2 == 0 && !errors.Is(err, store.ErrDuplicate):
			t.Errorf("clashing intent %d: %v", r, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d clashing intents recorded, want 1", won)
	}
	pending, err := db.PendingUnsent(ctx)
	must(t, err)
	if len(pending) != 1+racers/2 {
		t.Fatalf("%d intents stored, want %d", len(pending), 1+racers/2)
	}
}

func testCommandLookup(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 1006}
	other := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 1007}
	must(t, db.ReceiveRequest(ctx, req, t0))
	must(t, db.ReceiveRequest(ctx, other, t0))
	first, _ := intentFor(t, db, 1, req)
	must(t, db.MarkFailed(ctx, first, "abandoned unsigned", t0)) // as recovery does, so a second may follow
	own, ownIn := intentFor(t, db, 1, store.RequestID{})
	second, in := intentFor(t, db, 1, req)
	must(t, db.MarkSigned(ctx, second, []byte("frame"), t0))

	cs, err := db.CommandsForRequest(ctx, req)
	must(t, err)
	if len(cs) != 2 || cs[0].ID != first || cs[1].ID != second || cs[1].State != store.CommandSigned || cs[1].RequestID != req {
		t.Fatalf("commands for the request: %+v", cs)
	}
	for _, id := range []store.RequestID{other, {Originator: eu(0x90, 9), Target: eu(0x00, 9), Counter: 1}} {
		cs, err := db.CommandsForRequest(ctx, id)
		must(t, err)
		if cs == nil || len(cs) != 0 {
			t.Fatalf("commands for %s: %#v, want an empty slice", id, cs)
		}
	}

	byID, err := db.Command(ctx, second)
	must(t, err)
	got, err := db.CommandByCounter(ctx, in.Device, in.Counter)
	must(t, err)
	if d := cmp.Diff(byID, got); d != "" {
		t.Fatalf("command by counter (-by ID +by counter):\n%s", d)
	}
	if got, err := db.CommandByCounter(ctx, ownIn.Device, ownIn.Counter); err != nil || got.ID != own || !got.RequestID.IsZero() {
		t.Fatalf("own command by counter: %+v %v", got, err)
	}
	for _, c := range []struct {
		device  uint32
		counter uint64
	}{{2, in.Counter}, {1, in.Counter + 100}, {1, 1 << 63}} {
		_, err := db.CommandByCounter(ctx, eu(0x00, c.device), c.counter)
		wantIs(t, err, store.ErrNotFound)
	}
}
