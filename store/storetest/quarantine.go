package storetest

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// Requests held by anomaly detection (product.md §4): recorded with their
// hold and alert at once, left alone by recovery, and moved on only by
// deciding the hold.

// holdFor is a hold under ref of a 6.23 request that took its User's daily
// count to 101, expiring at exp.
func holdFor(ref uint64, exp time.Time) *store.Hold {
	return &store.Hold{
		Ref: ref, SRV: "6.23", Breach: store.BreachUser, Interval: 1440, Warning: 50, Quarantine: 100, Count: 101,
		ExpiresAt: exp,
		Alert: &store.Response{Kind: store.ResponseAlert, Code: "I0",
			Document: fmt.Appendf(nil, "<QuarantinedRequest ref=%d/>", ref)},
	}
}

// holdRequest records request n from user, received at at, as held under
// a freshly reserved ref until exp.
func holdRequest(t *testing.T, db *store.DB, user eui.EUI, n uint64, at, exp time.Time) (store.RequestID, uint64) {
	t.Helper()
	ctx := ctxOf(t)
	ref, err := db.ReserveCounter(ctx, store.QuarantineRefCounter)
	must(t, err)
	id := store.RequestID{Originator: user, Target: eu(0x00, uint32(n)), Counter: n}
	must(t, db.RecordRequest(ctx, store.Received{
		ID: id, At: at, Party: "SUP1", State: store.RequestQuarantined, ResponseCode: "I0",
		Response: ack("I0", at), Hold: holdFor(ref, exp),
	}))
	return id, ref
}

// rejection is the response telling a User its held request was dropped.
func rejection(code string) *store.Response {
	return &store.Response{Kind: store.ResponseService, Code: code, Document: []byte("<Response " + code + "/>")}
}

func requestState(t *testing.T, db *store.DB, id store.RequestID) store.RequestState {
	t.Helper()
	r, err := db.Request(ctxOf(t), id)
	must(t, err)
	return r.State
}

func testQuarantineRecord(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	user := eu(0x90, 1)
	exp := t0.Add(72 * hour)
	id, ref := holdRequest(t, db, user, 1, t0, exp)
	if ref != 1 {
		t.Fatalf("first QuarantineEventRef %d, want 1", ref)
	}
	if s := requestState(t, db, id); s != store.RequestQuarantined {
		t.Fatalf("held request in state %q", s)
	}
	got, err := db.Hold(ctx, ref)
	must(t, err)
	want := store.Held{
		Ref: ref, Request: id, User: user, Party: "SUP1", SRV: "6.23", Breach: store.BreachUser,
		Interval: 1440, Warning: 50, Quarantine: 100, Count: 101,
		State: store.HoldHeld, HeldAt: t0, ExpiresAt: exp,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("stored hold (-want +got):\n%s", d)
	}
	rs := responsesTo(t, db, id)
	if len(rs) != 2 || rs[0].Kind != store.ResponseAcknowledgement || rs[1].Kind != store.ResponseAlert ||
		rs[1].RequestID != id || !rs[1].CreatedAt.Equal(t0) || string(rs[1].Document) != "<QuarantinedRequest ref=1/>" {
		t.Fatalf("responses to a held request: %+v", rs)
	}
	_, err = db.Hold(ctx, 99)
	wantIs(t, err, store.ErrNotFound)

	// Recovery leaves it alone; counting sees it.
	plain := store.RequestID{Originator: user, Target: eu(0x00, 2), Counter: 2}
	must(t, db.ReceiveRequest(ctx, plain, t0))
	un, err := db.UnfinishedRequests(ctx, 10)
	must(t, err)
	if len(un) != 1 || un[0].ID != plain {
		t.Fatalf("unfinished requests with one held: %+v", un)
	}
	counts, err := db.CountRequests(ctx)
	must(t, err)
	if counts[store.RequestQuarantined] != 1 {
		t.Fatalf("counts: %v", counts)
	}
	// Only deciding the hold moves the request.
	for _, to := range []store.RequestState{store.RequestAuthorised, store.RequestRejected, store.RequestFailed} {
		wantTransition(t, db.UpdateRequest(ctx, id, store.RequestUpdate{To: to, At: t0, Response: rejection("E1")}), "quarantined")
	}
	wantIs(t, db.UpdateRequest(ctx, plain, store.RequestUpdate{To: store.RequestQuarantined, At: t0}), store.ErrInvalid)
	if rs := responsesTo(t, db, id); len(rs) != 2 {
		t.Fatalf("refused moves added responses: %+v", rs)
	}

	// A taken ref records nothing: no request, no acknowledgement, no
	// alert, and the request's counter is not spent.
	dup := store.RequestID{Originator: user, Target: eu(0x00, 3), Counter: 3}
	wantIs(t, db.RecordRequest(ctx, store.Received{
		ID: dup, At: t0, State: store.RequestQuarantined, Response: ack("I0", time.Time{}), Hold: holdFor(ref, exp),
	}), store.ErrDuplicate)
	_, err = db.Request(ctx, dup)
	wantIs(t, err, store.ErrNotFound)
	if un, err := db.UnpushedResponses(ctx, 0, 10); err != nil || len(un) != 1 || un[0].Kind != store.ResponseAlert || un[0].RequestID != id {
		t.Fatalf("unpushed after a refused hold: %+v %v", un, err)
	}
	if hs, err := db.Holds(ctx, store.HoldQuery{}); err != nil || len(hs) != 1 {
		t.Fatalf("holds after a refused hold: %+v %v", hs, err)
	}

	// Refused arguments spend no counter either.
	bad := func(mod func(*store.Received)) store.Received {
		r := store.Received{ID: dup, At: t0, State: store.RequestQuarantined, Hold: holdFor(7, exp)}
		mod(&r)
		return r
	}
	for name, r := range map[string]store.Received{
		"no hold":         bad(func(r *store.Received) { r.Hold = nil }),
		"hold, not held":  bad(func(r *store.Received) { r.State = store.RequestAuthorised }),
		"ref 0":           bad(func(r *store.Received) { r.Hold.Ref = 0 }),
		"another user":    bad(func(r *store.Received) { r.Hold.User = eu(0x90, 2) }),
		"no SRV":          bad(func(r *store.Received) { r.Hold.SRV = "" }),
		"breach":          bad(func(r *store.Received) { r.Hold.Breach = "both" }),
		"interval 0":      bad(func(r *store.Received) { r.Hold.Interval = 0 }),
		"count too big":   bad(func(r *store.Received) { r.Hold.Count = math.MaxInt64 + 1 }),
		"expires at once": bad(func(r *store.Received) { r.Hold.ExpiresAt = t0 }),
		"no alert":        bad(func(r *store.Received) { r.Hold.Alert = nil }),
		"alert kind":      bad(func(r *store.Received) { r.Hold.Alert.Kind = store.ResponseService }),
		"empty alert":     bad(func(r *store.Received) { r.Hold.Alert.Document = nil }),
	} {
		if err := db.RecordRequest(ctx, r); err == nil || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	// The User may be left out: it is the originator.
	h := holdFor(7, exp)
	must(t, db.RecordRequest(ctx, store.Received{ID: dup, At: t0, State: store.RequestQuarantined, Hold: h}))
	if got, err := db.Hold(ctx, 7); err != nil || got.User != user || got.Request != dup || got.Party != "" {
		t.Fatalf("hold without a User: %+v %v", got, err)
	}
	if h.Alert.RequestID != (store.RequestID{}) || !h.Alert.CreatedAt.IsZero() || h.User != (eui.EUI{}) {
		t.Fatalf("RecordRequest changed the caller's hold: %+v %+v", h, h.Alert)
	}
}

func testQuarantineDecide(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	user := eu(0x90, 1)
	exp := t0.Add(72 * hour)
	rel, relRef := holdRequest(t, db, user, 1, t0, exp)
	del, delRef := holdRequest(t, db, user, 2, t0, exp)
	old, oldRef := holdRequest(t, db, user, 3, t0, exp)
	at := t0.Add(hour)

	decided, err := db.DecideHolds(ctx, &user, []store.HoldDecision{
		{Ref: delRef, To: store.HoldDeleted, Reason: "quarantine-deleted", ResponseCode: "E20", Response: rejection("E20")},
		{Ref: relRef, To: store.HoldReleased},
	}, at, "action-file:0123abcd")
	must(t, err)
	if len(decided) != 2 || decided[0].Ref != delRef || decided[0].State != store.HoldDeleted ||
		decided[1].Ref != relRef || decided[1].State != store.HoldReleased || decided[1].Request != rel ||
		!decided[1].DecidedAt.Equal(at) || decided[1].DecidedBy != "action-file:0123abcd" {
		t.Fatalf("decided holds: %+v", decided)
	}
	if got, err := db.Hold(ctx, relRef); err != nil || got != decided[1] {
		t.Fatalf("released hold as stored: %+v %v", got, err)
	}

	// Released: authorised, and so back in recovery's hands, with nothing
	// said to the User yet.
	if s := requestState(t, db, rel); s != store.RequestAuthorised {
		t.Fatalf("released request in state %q", s)
	}
	un, err := db.UnfinishedRequests(ctx, 10)
	must(t, err)
	if len(un) != 1 || un[0].ID != rel {
		t.Fatalf("unfinished after a release: %+v", un)
	}
	if rs := responsesTo(t, db, rel); len(rs) != 2 {
		t.Fatalf("responses to a released request: %+v", rs)
	}
	must(t, db.UpdateRequest(ctx, rel, store.RequestUpdate{To: store.RequestSigned, At: at}))

	// Deleted: rejected with its reason, code and the User told.
	r, err := db.Request(ctx, del)
	must(t, err)
	if r.State != store.RequestRejected || r.Reason != "quarantine-deleted" || r.ResponseCode != "E20" || !r.UpdatedAt.Equal(at) {
		t.Fatalf("deleted request: %+v", r)
	}
	if rs := responsesTo(t, db, del); len(rs) != 3 || rs[2].Kind != store.ResponseService || rs[2].Code != "E20" || !rs[2].CreatedAt.Equal(at) {
		t.Fatalf("responses to a deleted request: %+v", rs)
	}

	// Expired, by the sweep (no User): the same, recorded as expiry.
	decided, err = db.DecideHolds(ctx, nil, []store.HoldDecision{
		{Ref: oldRef, To: store.HoldExpired, Reason: "quarantine-expired", ResponseCode: "E21", Response: rejection("E21")},
	}, exp, "expiry")
	must(t, err)
	if len(decided) != 1 || decided[0].State != store.HoldExpired || decided[0].DecidedBy != "expiry" {
		t.Fatalf("expired: %+v", decided)
	}
	if r, err := db.Request(ctx, old); err != nil || r.State != store.RequestRejected || r.Reason != "quarantine-expired" {
		t.Fatalf("expired request: %+v %v", r, err)
	}
	if ds, err := db.DecideHolds(ctx, nil, nil, at, "operator:alice"); err != nil || len(ds) != 0 {
		t.Fatalf("no decisions: %+v %v", ds, err)
	}
}

// One refused decision refuses the call: nothing decided, nothing moved,
// nothing said, and every offending ref named.
func testQuarantineAllOrNothing(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	a, b := eu(0x90, 1), eu(0x90, 2)
	exp := t0.Add(72 * hour)
	_, done := holdRequest(t, db, a, 1, t0, exp)
	keep1, ref1 := holdRequest(t, db, a, 2, t0, exp)
	keep2, ref2 := holdRequest(t, db, a, 3, t0, exp)
	_, others := holdRequest(t, db, b, 4, t0, exp)
	_, err := db.DecideHolds(ctx, &a, []store.HoldDecision{{Ref: done, To: store.HoldReleased}}, t0, "operator:alice")
	must(t, err)
	unpushed, err := db.UnpushedResponses(ctx, 0, 100)
	must(t, err)

	_, err = db.DecideHolds(ctx, &a, []store.HoldDecision{
		{Ref: ref1, To: store.HoldReleased},
		{Ref: 99, To: store.HoldReleased},
		{Ref: others, To: store.HoldDeleted, Response: rejection("E20")},
		{Ref: ref2, To: store.HoldExpired, Response: rejection("E21")},
		{Ref: done, To: store.HoldDeleted, Response: rejection("E20")},
	}, t0.Add(hour), "action-file:0123abcd")
	de, ok := errors.AsType[*store.DecisionError](err)
	if !ok {
		t.Fatalf("got %v, want a *store.DecisionError", err)
	}
	wantIs(t, err, store.ErrNotFound)
	wantTransition(t, err, "released")
	refused := map[uint64]store.HoldState{}
	for _, r := range de.Refused {
		refused[r.Ref] = r.State
	}
	// Another User's hold is not told apart from a missing one.
	if d := cmp.Diff(map[uint64]store.HoldState{done: store.HoldReleased, 99: "", others: ""}, refused); d != "" {
		t.Fatalf("refused refs (-want +got):\n%s", d)
	}
	for _, ref := range []uint64{done, 99, others} {
		if !regexp.MustCompile(`\b` + fmt.Sprint(ref) + `\b`).MatchString(err.Error()) {
			t.Errorf("error %q does not name ref %d", err, ref)
		}
	}
	for _, id := range []store.RequestID{keep1, keep2} {
		if s := requestState(t, db, id); s != store.RequestQuarantined {
			t.Fatalf("request %s in state %q after a refused call", id, s)
		}
	}
	held, err := db.Holds(ctx, store.HoldQuery{States: []store.HoldState{store.HoldHeld}})
	must(t, err)
	if len(held) != 3 {
		t.Fatalf("held after a refused call: %+v", held)
	}
	if un, err := db.UnpushedResponses(ctx, 0, 100); err != nil || len(un) != len(unpushed) {
		t.Fatalf("a refused call added responses: %d, want %d (%v)", len(un), len(unpushed), err)
	}

	// An operator (no User) may decide any User's hold.
	ds, err := db.DecideHolds(ctx, nil, []store.HoldDecision{{Ref: others, To: store.HoldReleased}}, t0, "operator:alice")
	must(t, err)
	if ds[0].User != b {
		t.Fatalf("operator decision: %+v", ds)
	}

	// Malformed calls are refused before anything is read.
	for name, c := range map[string]struct {
		ds []store.HoldDecision
		by string
	}{
		"twice":               {[]store.HoldDecision{{Ref: ref1, To: store.HoldReleased}, {Ref: ref1, To: store.HoldReleased}}, "operator:alice"},
		"release, response":   {[]store.HoldDecision{{Ref: ref1, To: store.HoldReleased, Response: rejection("E1")}}, "operator:alice"},
		"release, reason":     {[]store.HoldDecision{{Ref: ref1, To: store.HoldReleased, Reason: "x"}}, "operator:alice"},
		"delete, no response": {[]store.HoldDecision{{Ref: ref1, To: store.HoldDeleted}}, "operator:alice"},
		"bad response":        {[]store.HoldDecision{{Ref: ref1, To: store.HoldDeleted, Response: &store.Response{Kind: store.ResponseService}}}, "operator:alice"},
		"to held":             {[]store.HoldDecision{{Ref: ref1, To: store.HoldHeld}}, "operator:alice"},
		"nobody":              {[]store.HoldDecision{{Ref: ref1, To: store.HoldReleased}}, ""},
	} {
		if _, err := db.DecideHolds(ctx, nil, c.ds, t0, c.by); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if s := requestState(t, db, keep1); s != store.RequestQuarantined {
		t.Fatalf("request after malformed calls: %q", s)
	}
}

func testQuarantineExpiry(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	user := eu(0x90, 1)
	_, late := holdRequest(t, db, user, 1, t0, t0.Add(2*hour))
	_, early1 := holdRequest(t, db, user, 2, t0, t0.Add(hour))
	_, early2 := holdRequest(t, db, user, 3, t0, t0.Add(hour))
	refs := func(now time.Time, limit int) []uint64 {
		t.Helper()
		hs, err := db.ExpiredHolds(ctx, now, limit)
		must(t, err)
		out := []uint64{}
		for _, h := range hs {
			out = append(out, h.Ref)
		}
		return out
	}
	for _, c := range []struct {
		now   time.Time
		limit int
		want  []uint64
	}{
		{t0.Add(hour - time.Microsecond), 10, []uint64{}},
		{t0.Add(hour), 10, []uint64{early1, early2}},
		{t0.Add(2 * hour), 10, []uint64{early1, early2, late}},
		{t0.Add(2 * hour), 1, []uint64{early1}},
	} {
		if d := cmp.Diff(c.want, refs(c.now, c.limit)); d != "" {
			t.Errorf("expired at %v, limit %d (-want +got):\n%s", c.now, c.limit, d)
		}
	}
	_, err := db.DecideHolds(ctx, nil, []store.HoldDecision{{Ref: early1, To: store.HoldExpired, Response: rejection("E21")}}, t0.Add(hour), "expiry")
	must(t, err)
	if d := cmp.Diff([]uint64{early2, late}, refs(t0.Add(3*hour), 10)); d != "" {
		t.Errorf("expired after one was (-want +got):\n%s", d)
	}
	_, err = db.ExpiredHolds(ctx, t0, 0)
	wantIs(t, err, store.ErrInvalid)
}

func testQuarantineHolds(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	a, b := eu(0x90, 1), eu(0x90, 2)
	exp := t0.Add(72 * hour)
	var refs []uint64
	for i, u := range []eui.EUI{a, a, b, a, b} {
		_, ref := holdRequest(t, db, u, uint64(i+1), t0, exp)
		refs = append(refs, ref)
	}
	_, err := db.DecideHolds(ctx, nil, []store.HoldDecision{
		{Ref: refs[1], To: store.HoldReleased},
		{Ref: refs[4], To: store.HoldDeleted, Response: rejection("E20")},
	}, t0, "operator:alice")
	must(t, err)
	query := func(q store.HoldQuery) []uint64 {
		t.Helper()
		hs, err := db.Holds(ctx, q)
		must(t, err)
		out := []uint64{}
		for _, h := range hs {
			out = append(out, h.Ref)
		}
		return out
	}
	held := []store.HoldState{store.HoldHeld}
	for name, c := range map[string]struct {
		q    store.HoldQuery
		want []uint64
	}{
		"all":              {store.HoldQuery{}, refs},
		"user":             {store.HoldQuery{User: &a}, []uint64{refs[0], refs[1], refs[3]}},
		"held":             {store.HoldQuery{States: held}, []uint64{refs[0], refs[2], refs[3]}},
		"user, held":       {store.HoldQuery{User: &a, States: held}, []uint64{refs[0], refs[3]}},
		"decided":          {store.HoldQuery{States: []store.HoldState{store.HoldReleased, store.HoldDeleted}}, []uint64{refs[1], refs[4]}},
		"page 1":           {store.HoldQuery{Limit: 2}, refs[:2]},
		"page 2":           {store.HoldQuery{AfterRef: refs[1], Limit: 2}, refs[2:4]},
		"page 3":           {store.HoldQuery{AfterRef: refs[3], Limit: 2}, refs[4:]},
		"past the end":     {store.HoldQuery{AfterRef: refs[4]}, []uint64{}},
		"user, held, page": {store.HoldQuery{User: &a, States: held, AfterRef: refs[0]}, []uint64{refs[3]}},
		"nobody's":         {store.HoldQuery{User: &eui.EUI{1}}, []uint64{}},
	} {
		if d := cmp.Diff(c.want, query(c.q)); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	_, err = db.Holds(ctx, store.HoldQuery{Limit: -1})
	wantIs(t, err, store.ErrInvalid)
	_, err = db.Holds(ctx, store.HoldQuery{States: []store.HoldState{"pending"}})
	wantIs(t, err, store.ErrInvalid)
}
