package storetest

import (
	"testing"

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
