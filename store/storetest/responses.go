package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

func testResponsesAdd(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	a := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 1}
	b := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 2), Counter: 1}
	must(t, db.ReceiveRequest(ctx, a, t0))
	must(t, db.ReceiveRequest(ctx, b, t0))
	if rs := responsesTo(t, db, a); rs == nil || len(rs) != 0 {
		t.Fatalf("responses before any: %#v", rs)
	}

	// Interleaved between two requests; each lists its own, oldest first.
	add := func(r store.Response) store.Response {
		t.Helper()
		id, err := db.AddResponse(ctx, r)
		must(t, err)
		r.ID = id
		return r
	}
	a1 := add(store.Response{RequestID: a, Kind: store.ResponseAcknowledgement, Code: "I0", Document: []byte("ack a"), CreatedAt: t0, PushedAt: t0})
	b1 := add(store.Response{RequestID: b, Kind: store.ResponseAcknowledgement, Code: "I0", Document: []byte("ack b"), CreatedAt: t0})
	a2 := add(store.Response{RequestID: a, Kind: store.ResponseService, Code: "I0", Document: []byte("response a"), CreatedAt: t0.Add(time.Minute)})
	a3 := add(store.Response{RequestID: a, Kind: store.ResponseAlert, Code: "N24", Document: []byte("alert a"), CreatedAt: t0.Add(time.Second),
		PushAttempts: 2, PushError: "connection refused", PushFailedAt: t0.Add(2 * time.Second)})
	if !(a1.ID < b1.ID && b1.ID < a2.ID && a2.ID < a3.ID) {
		t.Fatalf("response IDs do not grow: %d %d %d %d", a1.ID, b1.ID, a2.ID, a3.ID)
	}
	if d := cmp.Diff([]store.Response{a1, a2, a3}, responsesTo(t, db, a)); d != "" {
		t.Fatalf("responses to a (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]store.Response{b1}, responsesTo(t, db, b)); d != "" {
		t.Fatalf("responses to b (-want +got):\n%s", d)
	}

	// Unknown requests, and documents store refuses.
	unknown := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 3), Counter: 1}
	_, err := db.AddResponse(ctx, store.Response{RequestID: unknown, Kind: store.ResponseService, Code: "I0", Document: []byte("x"), CreatedAt: t0})
	wantIs(t, err, store.ErrNotFound)
	_, err = db.Responses(ctx, unknown)
	wantIs(t, err, store.ErrNotFound)
	for _, r := range []store.Response{
		{RequestID: a, Kind: store.ResponseService, Code: "I0", CreatedAt: t0},
		{RequestID: a, Kind: "receipt", Code: "I0", Document: []byte("x"), CreatedAt: t0},
		{RequestID: a, Kind: store.ResponseService, Document: []byte("x"), CreatedAt: t0},
		{RequestID: a, Kind: store.ResponseService, Code: "I0", Document: []byte("x"), CreatedAt: t0, PushAttempts: -1},
	} {
		_, err := db.AddResponse(ctx, r)
		wantIs(t, err, store.ErrInvalid)
	}
	if n := len(responsesTo(t, db, a)); n != 3 {
		t.Fatalf("%d responses to a after refused adds, want 3", n)
	}
}

func testResponsesPush(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	var ids []store.ResponseID
	for n := range uint64(3) {
		req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: n + 1}
		must(t, db.RecordRequest(ctx, store.Received{ID: req, At: t0, State: store.RequestAuthorised, Response: ack("I0", t0)}))
		for _, kind := range []store.ResponseKind{store.ResponseService, store.ResponseAlert} {
			id, err := db.AddResponse(ctx, store.Response{RequestID: req, Kind: kind, Code: "I0", Document: []byte(kind), CreatedAt: t0})
			must(t, err)
			ids = append(ids, id)
		}
	}
	unpushed := func(after store.ResponseID, limit int) []store.ResponseID {
		t.Helper()
		rs, err := db.UnpushedResponses(ctx, after, limit)
		must(t, err)
		out := []store.ResponseID{}
		for _, r := range rs {
			if !r.PushedAt.IsZero() {
				t.Fatalf("unpushed response %d has PushedAt %v", r.ID, r.PushedAt)
			}
			out = append(out, r.ID)
		}
		return out
	}
	// The acknowledgements were delivered with the requests: not listed.
	if d := cmp.Diff(ids, unpushed(0, 100)); d != "" {
		t.Fatalf("unpushed (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ids[:2], unpushed(0, 2)); d != "" {
		t.Fatalf("first page (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ids[2:4], unpushed(ids[1], 2)); d != "" {
		t.Fatalf("second page (-want +got):\n%s", d)
	}
	if got := unpushed(ids[5], 2); len(got) != 0 {
		t.Fatalf("past the end: %v", got)
	}
	_, err := db.UnpushedResponses(ctx, 0, 0)
	wantIs(t, err, store.ErrInvalid)

	// Failures are counted and keep the response owed.
	f1, f2 := t0.Add(time.Second), t0.Add(3*time.Second)
	must(t, db.NotePushFailure(ctx, ids[1], "timeout", f1))
	must(t, db.NotePushFailure(ctx, ids[1], "HTTP 503", f2))
	rs, err := db.UnpushedResponses(ctx, ids[0], 1)
	must(t, err)
	if len(rs) != 1 || rs[0].ID != ids[1] || rs[0].PushAttempts != 2 || rs[0].PushError != "HTTP 503" || !rs[0].PushFailedAt.Equal(f2) {
		t.Fatalf("after two failures: %+v", rs)
	}

	// Delivered: no longer owed; a second mark keeps the first time.
	p1 := t0.Add(4 * time.Second)
	must(t, db.MarkPushed(ctx, ids[1], p1))
	must(t, db.MarkPushed(ctx, ids[3], p1))
	must(t, db.MarkPushed(ctx, ids[3], p1.Add(time.Hour)))
	if d := cmp.Diff([]store.ResponseID{ids[0], ids[2], ids[4], ids[5]}, unpushed(0, 100)); d != "" {
		t.Fatalf("unpushed after delivery (-want +got):\n%s", d)
	}
	rs = responsesTo(t, db, store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 1), Counter: 2})
	if len(rs) != 3 || rs[2].ID != ids[3] || !rs[2].PushedAt.Equal(p1) {
		t.Fatalf("marked pushed twice, want PushedAt %v (the first): %+v", p1, rs)
	}

	wantIs(t, db.MarkPushed(ctx, 999999, p1), store.ErrNotFound)
	wantIs(t, db.NotePushFailure(ctx, 999999, "x", p1), store.ErrNotFound)
}

// UnpushedResponsesOf lists one User's unpushed responses and no other
// User's, in ID order, paged like UnpushedResponses.
func testResponsesPushByUser(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	mine, other := eu(0x90, 1), eu(0x90, 2)
	byUser := map[eui.EUI][]store.ResponseID{}
	for n := range uint64(6) {
		user := [2]store.RequestID{{Originator: mine, Target: eu(0x00, 1), Counter: n + 1}, {Originator: other, Target: eu(0x00, 1), Counter: n + 1}}[n%2]
		must(t, db.RecordRequest(ctx, store.Received{ID: user, At: t0, State: store.RequestAuthorised, Response: ack("I0", t0)}))
		id, err := db.AddResponse(ctx, store.Response{RequestID: user, Kind: store.ResponseService, Code: "I0", Document: []byte("r"), CreatedAt: t0})
		must(t, err)
		byUser[user.Originator] = append(byUser[user.Originator], id)
	}
	of := func(user eui.EUI, after store.ResponseID, limit int) []store.ResponseID {
		t.Helper()
		rs, err := db.UnpushedResponsesOf(ctx, user, after, limit)
		must(t, err)
		out := []store.ResponseID{}
		for _, r := range rs {
			if r.RequestID.Originator != user {
				t.Fatalf("UnpushedResponsesOf(%v) returned %v's response %d", user, r.RequestID.Originator, r.ID)
			}
			out = append(out, r.ID)
		}
		return out
	}
	if d := cmp.Diff(byUser[mine], of(mine, 0, 100)); d != "" {
		t.Fatalf("mine (-want +got):\n%s", d)
	}
	if d := cmp.Diff(byUser[other][1:], of(other, byUser[other][0], 100)); d != "" {
		t.Fatalf("other's second page (-want +got):\n%s", d)
	}
	must(t, db.MarkPushed(ctx, byUser[mine][1], t0))
	if d := cmp.Diff([]store.ResponseID{byUser[mine][0], byUser[mine][2]}, of(mine, 0, 100)); d != "" {
		t.Fatalf("mine after a push (-want +got):\n%s", d)
	}
	if got := of(eu(0x90, 3), 0, 100); len(got) != 0 {
		t.Fatalf("a User with no requests: %v", got)
	}
	_, err := db.UnpushedResponsesOf(ctx, mine, 0, 0)
	wantIs(t, err, store.ErrInvalid)
}
