package storetest

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

func testPartiesRoundTrip(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	p1, p2 := supplier(1), supplier(2)
	must(t, db.ImportParties(ctx, []store.Party{p1, p2}))

	got, role, err := db.PartyByUser(ctx, p1.Users[1].EUI)
	must(t, err)
	if role != store.RoleGasSupplier {
		t.Fatalf("role %q, want gas-supplier", role)
	}
	if d := cmp.Diff(p1, got); d != "" {
		t.Fatalf("party by user (-want +got):\n%s", d)
	}
	got, err = db.Party(ctx, "SUP2")
	must(t, err)
	if d := cmp.Diff(p2, got); d != "" {
		t.Fatalf("party (-want +got):\n%s", d)
	}
	_, _, err = db.PartyByUser(ctx, eu(0x77, 7))
	wantIs(t, err, store.ErrNotFound)
	_, err = db.Party(ctx, "NOPE")
	wantIs(t, err, store.ErrNotFound)

	// Importing a party again updates it; its users and MPIDs become the
	// new lists, so a User ID it gave up no longer resolves.
	p1.Name, p1.State = "Supplier One plc", store.PartySuspended
	old := p1.Users[1].EUI
	p1.Users = p1.Users[:1]
	p1.MPIDs = []string{"MZ01"}
	must(t, db.ImportParties(ctx, []store.Party{p1}))
	got, err = db.Party(ctx, "SUP1")
	must(t, err)
	if d := cmp.Diff(p1, got); d != "" {
		t.Fatalf("re-imported party (-want +got):\n%s", d)
	}
	_, _, err = db.PartyByUser(ctx, old)
	wantIs(t, err, store.ErrNotFound)

	// A party with no users or MPIDs is allowed.
	bare := store.Party{ID: "BARE", Name: "Bare", State: store.PartyActive}
	must(t, db.ImportParties(ctx, []store.Party{bare}))
	got, err = db.Party(ctx, "BARE")
	must(t, err)
	if d := cmp.Diff(bare, got); d != "" {
		t.Fatalf("bare party (-want +got):\n%s", d)
	}
}

func testPartiesAllOrNothing(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	p1 := supplier(1)
	must(t, db.ImportParties(ctx, []store.Party{p1}))

	many := func(n int) []store.Party {
		ps := make([]store.Party, n)
		for i := range ps {
			ps[i] = store.Party{
				ID: fmt.Sprintf("NEW%d", i), Name: "New", State: store.PartyActive,
				Users: []store.User{{EUI: eu(0x70, uint32(i)), Role: store.RoleImportSupplier}},
			}
		}
		return ps
	}

	// A database constraint: row 1100 claims a User ID that SUP1 (not in
	// this import) holds. Rows before it, in earlier batches, were written
	// and must be rolled back with it.
	ps := many(1200)
	ps[1100].Users[0].EUI = p1.Users[0].EUI
	err := db.ImportParties(ctx, ps)
	wantImportRow(t, err, 1100)
	wantIs(t, err, store.ErrDuplicate)
	_, err = db.Party(ctx, "NEW0")
	wantIs(t, err, store.ErrNotFound)
	got, role, err := db.PartyByUser(ctx, p1.Users[0].EUI)
	must(t, err)
	if got.ID != "SUP1" || role != store.RoleImportSupplier {
		t.Fatalf("SUP1's user moved: %s %s", got.ID, role)
	}

	// Refused before writing: a bad state, an unknown role, duplicates.
	ps = many(5)
	ps[2].State = "asleep"
	err = db.ImportParties(ctx, ps)
	wantImportRow(t, err, 2)
	wantIs(t, err, store.ErrInvalid)

	ps = many(5)
	ps[4].Users[0].Role = "king"
	wantImportRow(t, db.ImportParties(ctx, ps), 4)

	ps = many(5)
	ps[3].ID = ps[1].ID
	err = db.ImportParties(ctx, ps)
	wantImportRow(t, err, 3)
	wantIs(t, err, store.ErrDuplicate)

	ps = many(5)
	ps[3].Users[0].EUI = ps[0].Users[0].EUI
	wantImportRow(t, db.ImportParties(ctx, ps), 3)

	_, err = db.Party(ctx, "NEW0")
	wantIs(t, err, store.ErrNotFound)
}
