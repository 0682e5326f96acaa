package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

// lines is an InventorySource over a slice; line i+2 is element i (line 1
// is a file's header).
type lines struct {
	ds  []store.InventoryDevice
	i   int
	err error
}

func (l *lines) Next() (int, store.InventoryDevice, bool) {
	if l.i >= len(l.ds) {
		return 0, store.InventoryDevice{}, false
	}
	l.i++
	return l.i + 1, l.ds[l.i-1], true
}

func (l *lines) Err() error { return l.err }

func invDevice(n uint32) store.InventoryDevice {
	return store.InventoryDevice{
		Device:       device(n),
		Manufacturer: fmt.Sprintf("Maker %d", n%3),
		Model:        "M1",
		Firmware:     fmt.Sprintf("1.%d", n%2),
		MPxN:         mpan(int(n)),
		// SUP1 and SUP2 are imported by each test.
		ResponsibleSupplier: fmt.Sprintf("SUP%d", n%2+1),
		Installed:           t0.Add(-hour * time.Duration(n)),
	}
}

func invDevices(n int) []store.InventoryDevice {
	ds := make([]store.InventoryDevice, n)
	for i := range ds {
		ds[i] = invDevice(uint32(i + 1))
	}
	return ds
}

func importInventory(t *testing.T, db *store.DB, ds []store.InventoryDevice) (store.InventoryResult, error) {
	t.Helper()
	return db.ImportInventory(ctxOf(t), &lines{ds: ds}, nil)
}

func withSuppliers(t *testing.T, open Opener) *store.DB {
	db := open(t)
	must(t, db.ImportParties(ctxOf(t), []store.Party{supplier(1), supplier(2)}))
	return db
}

// An inventory import writes every column, and a second import of the
// same lines changes nothing; a changed line changes its device.
func testInventoryRoundTrip(t *testing.T, open Opener) {
	db := withSuppliers(t, open)
	ctx := ctxOf(t)
	ds := invDevices(1200) // more than one batch
	ds[8].Installed = time.Time{}
	ds[9].CredentialSKI = nil
	res, err := importInventory(t, db, ds)
	must(t, err)
	if res != (store.InventoryResult{Lines: 1200, Written: 1200}) {
		t.Fatalf("first import: %+v", res)
	}
	for _, i := range []int{0, 7, 8, 9, 1199} {
		got, err := db.InventoryOf(ctx, ds[i].EUI)
		must(t, err)
		if d := cmp.Diff(ds[i], got); d != "" {
			t.Fatalf("device %d (-want +got):\n%s", i, d)
		}
	}
	res, err = importInventory(t, db, ds)
	must(t, err)
	if res != (store.InventoryResult{Lines: 1200, Written: 0}) {
		t.Fatalf("same file again: %+v, want nothing written", res)
	}
	ds[5].Firmware = "2.0"
	ds[6].Credential = store.CredentialECoS
	ds[9].CredentialSKI = []byte{9, 9, 9, 9, 9, 9, 9, 9}
	res, err = importInventory(t, db, ds)
	must(t, err)
	if res.Written != 3 {
		t.Fatalf("three lines changed: %+v", res)
	}
	st, err := db.MigrationStatusOf(ctx, ds[6].EUI)
	must(t, err)
	if st.State != store.MigrationECoS {
		t.Fatalf("a device imported as ecos is in state %s", st.State)
	}
	c, err := db.MigrationCounts(ctx)
	must(t, err)
	if c[store.MigrationTCoS] != 1199 || c[store.MigrationECoS] != 1 || c[store.MigrationQueued] != 0 {
		t.Fatalf("counts %v", c)
	}
}

// A bad line anywhere, however far into the file, leaves the database as
// it was, and every bad line is named.
func testInventoryAllOrNothing(t *testing.T, open Opener) {
	db := withSuppliers(t, open)
	ctx := ctxOf(t)
	ds := invDevices(1500)
	ds[3].ResponsibleSupplier = "NOPE"
	ds[700].EUI = ds[2].EUI // a duplicate, batches apart
	ds[702].EUI = ds[701].EUI
	ds[1400].Type = "XSME"
	_, err := importInventory(t, db, ds)
	ie, ok := errors.AsType[*store.ImportErrors](err)
	if !ok {
		t.Fatalf("got %v, want *store.ImportErrors", err)
	}
	var got []string
	for _, r := range ie.Rows {
		got = append(got, fmt.Sprintf("%d %v", r.Row, r.Err))
	}
	want := []string{"5 NOPE", "702 also on line 4", "704 also on line 703", "1402 XSME"}
	if len(got) != len(want) {
		t.Fatalf("refusals %q, want %d", got, len(want))
	}
	for i := range want {
		line, frag, _ := strings.Cut(want[i], " ")
		if !strings.HasPrefix(got[i], line+" ") || !strings.Contains(got[i], frag) {
			t.Errorf("refusal %d: %q, want line %s mentioning %q", i, got[i], line, frag)
		}
	}
	c, err := db.Count(ctx)
	must(t, err)
	if c.Devices != 0 {
		t.Fatalf("%d devices after a refused import", c.Devices)
	}
	// The source's own refusal also writes nothing.
	_, err = db.ImportInventory(ctx, &lines{ds: invDevices(10), err: errSource}, nil)
	wantIs(t, err, errSource)
	if c, _ := db.Count(ctx); c.Devices != 0 {
		t.Fatalf("%d devices after the source refused", c.Devices)
	}
	// Both the source's refusal and the store's come back.
	twice := invDevices(3)
	twice[2].EUI = twice[0].EUI
	_, err = db.ImportInventory(ctx, &lines{ds: twice, err: errSource}, nil)
	wantIs(t, err, errSource)
	if ie, ok := errors.AsType[*store.ImportErrors](err); !ok || len(ie.Rows) != 1 || ie.Rows[0].Row != 4 {
		t.Fatalf("source and store refusing: %v", err)
	}
	// And the import works afterwards (no temporary table left behind).
	_, err = importInventory(t, db, invDevices(10))
	must(t, err)
}

var errSource = errors.New("line 9: bad")

// Once the state machine moved a device, a re-import (of an inventory
// exported before) does not move its credential or state back; it still
// updates the other columns.
func testInventoryAfterTransition(t *testing.T, open Opener) {
	db := withSuppliers(t, open)
	ctx := ctxOf(t)
	ds := invDevices(2)
	_, err := importInventory(t, db, ds)
	must(t, err)
	walk(t, db, ds[0].EUI, store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationECoS)
	ds[0].Model = "M2"
	res, err := importInventory(t, db, ds)
	must(t, err)
	if res.Written != 1 {
		t.Fatalf("written %d, want the model change only", res.Written)
	}
	got, err := db.InventoryOf(ctx, ds[0].EUI)
	must(t, err)
	if got.Credential != store.CredentialECoS || got.Model != "M2" {
		t.Fatalf("after re-import: credential %s model %s, want ecos M2", got.Credential, got.Model)
	}
	// The older import path keeps to the same rule.
	must(t, db.ImportDevices(ctx, []store.Device{ds[0].Device}))
	if st, _ := db.MigrationStatusOf(ctx, ds[0].EUI); st.State != store.MigrationECoS {
		t.Fatalf("import devices moved a migrated device to %s", st.State)
	}
	if d, _ := db.Device(ctx, ds[0].EUI); d.Credential != store.CredentialECoS {
		t.Fatalf("import devices reset a migrated device's credential to %s", d.Credential)
	}
}
