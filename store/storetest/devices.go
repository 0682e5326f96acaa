package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

func testDevicesRoundTrip(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	d1 := device(1)
	d2 := store.Device{EUI: eu(0x00, 2), Type: store.GSME, SMIStatus: store.SMIInstalledNotCommissioned, Credential: store.CredentialUnknown}
	must(t, db.ImportDevices(ctx, []store.Device{d1, d2}))
	for _, want := range []store.Device{d1, d2} {
		got, err := db.Device(ctx, want.EUI)
		must(t, err)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("device (-want +got):\n%s", d)
		}
	}
	_, err := db.Device(ctx, eu(0x00, 3))
	wantIs(t, err, store.ErrNotFound)

	// Importing a device again replaces it (migration moved it to ECoS).
	d1.Credential, d1.CredentialSKI = store.CredentialECoS, []byte{1, 2, 3, 4, 5, 6, 7, 8}
	must(t, db.ImportDevices(ctx, []store.Device{d1}))
	got, err := db.Device(ctx, d1.EUI)
	must(t, err)
	if d := cmp.Diff(d1, got); d != "" {
		t.Fatalf("replaced device (-want +got):\n%s", d)
	}
}

func testDevicesAllOrNothing(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	must(t, db.ImportDevices(ctx, devices(3)))

	// An update of existing devices and new ones, with one bad row late in
	// the slice: neither the updates nor the new rows land.
	ds := devices(1000)
	for i := range ds {
		ds[i].SMIStatus = store.SMISuspended
	}
	ds[750].Type = "WATER"
	err := db.ImportDevices(ctx, ds)
	wantImportRow(t, err, 750)
	wantIs(t, err, store.ErrInvalid)
	got, err := db.Device(ctx, eu(0x00, 1))
	must(t, err)
	if got.SMIStatus != store.SMICommissioned {
		t.Fatalf("failed import changed device 1: %+v", got)
	}
	_, err = db.Device(ctx, eu(0x00, 4))
	wantIs(t, err, store.ErrNotFound)

	ds = devices(10)
	ds[9].EUI = ds[2].EUI
	err = db.ImportDevices(ctx, ds)
	wantImportRow(t, err, 9)
	wantIs(t, err, store.ErrDuplicate)

	ds = devices(10)
	ds[6].SMIStatus = "lost"
	wantImportRow(t, db.ImportDevices(ctx, ds), 6)
	ds = devices(10)
	ds[5].Credential = "zcos"
	wantImportRow(t, db.ImportDevices(ctx, ds), 5)
}

func testDevicesSupplier(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	must(t, db.ImportDevices(ctx, devices(2)))
	d1 := eu(0x00, 1)
	check := func(wantParty string, wantSince time.Time) {
		t.Helper()
		d, err := db.Device(ctx, d1)
		must(t, err)
		if d.Supplier != wantParty || !d.SupplierSince.Equal(wantSince) {
			t.Fatalf("supplier %q since %v, want %q since %v", d.Supplier, d.SupplierSince, wantParty, wantSince)
		}
	}
	check("", time.Time{})

	must(t, db.NoteSupplier(ctx, d1, "SUP1", t0))
	check("SUP1", t0)
	// Forward only: an older change, noted late, is ignored.
	must(t, db.NoteSupplier(ctx, d1, "SUP2", t0.Add(-hour)))
	check("SUP1", t0)
	must(t, db.NoteSupplier(ctx, d1, "SUP2", t0.Add(hour)))
	check("SUP2", t0.Add(hour))

	wantIs(t, db.NoteSupplier(ctx, eu(0x00, 3), "SUP1", t0), store.ErrNotFound)
	wantIs(t, db.NoteSupplier(ctx, d1, "", t0.Add(2*hour)), store.ErrInvalid)
	wantIs(t, db.NoteSupplier(ctx, d1, "SUP1", time.Time{}), store.ErrInvalid)
	check("SUP2", t0.Add(hour))

	// Re-importing the inventory keeps the noted supplier; new devices
	// have none, and a supplier given to ImportDevices is not taken.
	ds := devices(3)
	ds[0].Credential = store.CredentialECoS
	ds[2].Supplier, ds[2].SupplierSince = "SUP1", t0
	must(t, db.ImportDevices(ctx, ds))
	check("SUP2", t0.Add(hour))
	if d, err := db.Device(ctx, d1); err != nil || d.Credential != store.CredentialECoS {
		t.Fatalf("re-imported device: %+v %v", d, err)
	}
	for _, n := range []uint32{2, 3} {
		d, err := db.Device(ctx, eu(0x00, n))
		must(t, err)
		if d.Supplier != "" || !d.SupplierSince.IsZero() {
			t.Fatalf("device %d: supplier %q since %v, want none", n, d.Supplier, d.SupplierSince)
		}
	}
}
