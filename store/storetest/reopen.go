package storetest

import (
	"testing"

	"github.com/ecos-cos/ecos/store"
)

// Everything written before Close is there after Open: reference data,
// the replay guard, counters, the command log and responses still owed.
func testReopen(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	seed(t, db, 3)
	req := store.RequestID{Originator: eu(0x90, 1<<8|1), Target: eu(0x00, 1), Counter: 77}
	must(t, db.ReceiveRequest(ctx, req, t0))
	owed := &store.Response{Kind: store.ResponseAcknowledgement, Code: "I0", Document: []byte("ack")}
	must(t, db.UpdateRequest(ctx, req, store.RequestUpdate{To: store.RequestAuthorised, At: t0, Response: owed}))
	id, in := intentFor(t, db, 1, req)
	must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
	last, err := db.ReserveCounter(ctx, "cos")
	must(t, err)
	must(t, db.Close())

	db = reopen(t, db)
	cur, latest, err := db.SchemaVersion(ctx)
	must(t, err)
	if cur != latest {
		t.Fatalf("schema version %d after reopen, want %d", cur, latest)
	}
	if p, role, err := db.PartyByUser(ctx, req.Originator); err != nil || p.ID != "SUP1" || role != store.RoleImportSupplier {
		t.Fatalf("party after reopen: %+v %s %v", p, role, err)
	}
	if d, err := db.Device(ctx, eu(0x00, 3)); err != nil || d.Credential != store.CredentialTCoS {
		t.Fatalf("device after reopen: %+v %v", d, err)
	}
	if r, err := db.RegistrationAt(ctx, mpan(2), t0); err != nil || r.Device != eu(0x00, 3) {
		t.Fatalf("registration after reopen: %+v %v", r, err)
	}
	if r, err := db.Request(ctx, req); err != nil || r.State != store.RequestSigned {
		t.Fatalf("request after reopen: %+v %v", r, err)
	}
	wantIs(t, db.ReceiveRequest(ctx, req, t0), store.ErrReplay)
	if rs, err := db.UnpushedResponses(ctx, 0, 10); err != nil || len(rs) != 1 || rs[0].RequestID != req || string(rs[0].Document) != "ack" {
		t.Fatalf("unpushed responses after reopen: %+v %v", rs, err)
	}
	c, err := db.Command(ctx, id)
	must(t, err)
	if c.State != store.CommandSigned || string(c.Frame) != "frame" || c.Counter != in.Counter {
		t.Fatalf("command after reopen: %+v", c)
	}
	next, err := db.ReserveCounter(ctx, "cos")
	must(t, err)
	if next != last+1 {
		t.Fatalf("counter after reopen %d, want %d", next, last+1)
	}
}
