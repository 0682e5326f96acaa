package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// The registration in force at t: effective-from inclusive, effective-to
// exclusive.
func testRegistrationBoundary(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	seed(t, db, 0)
	must(t, db.ImportDevices(ctx, devices(2)))
	t1, t2 := t0, t0.Add(24*hour)
	old := store.Registration{MPxN: mpan(1), From: t1, To: t2, Supplier: "SUP1", MPID: "MP01", Device: eu(0x00, 1)}
	gain := store.Registration{MPxN: mpan(1), From: t2, Supplier: "SUP2", MPID: "MP02", Device: eu(0x00, 1)}
	ended := store.Registration{MPxN: mpan(2), From: t1, To: t2, Supplier: "SUP1", MPID: "MQ01"}
	must(t, db.ImportRegistrations(ctx, []store.Registration{old, gain, ended}))

	for _, tc := range []struct {
		name string
		mpxn string
		at   time.Time
		want *store.Registration
	}{
		{"before the first period", mpan(1), t1.Add(-time.Microsecond), nil},
		{"at effective-from", mpan(1), t1, &old},
		{"just before effective-to", mpan(1), t2.Add(-time.Microsecond), &old},
		{"below a microsecond before effective-to", mpan(1), t2.Add(-time.Nanosecond), &old},
		{"at effective-to: the gaining supplier", mpan(1), t2, &gain},
		{"open-ended", mpan(1), t2.Add(10 * 365 * 24 * hour), &gain},
		{"at the end of a closed period", mpan(2), t2, nil},
		{"inside a closed period, no device", mpan(2), t1.Add(hour), &ended},
		{"unknown MPxN", mpan(3), t2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.RegistrationAt(ctx, tc.mpxn, tc.at)
			if tc.want == nil {
				wantIs(t, err, store.ErrNotFound)
				return
			}
			must(t, err)
			if d := cmp.Diff(*tc.want, got); d != "" {
				t.Fatalf("registration (-want +got):\n%s", d)
			}
		})
	}
}

// A later period supersedes an earlier one left open-ended, and importing
// a period again (same MPxN and start) replaces it.
func testRegistrationSupersede(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	seed(t, db, 1)
	t3, t4 := t0.Add(48*hour), t0.Add(72*hour)
	later := store.Registration{MPxN: mpan(0), From: t3, To: t4, Supplier: "SUP2", MPID: "MP02", Device: eu(0x00, 1)}
	must(t, db.ImportRegistrations(ctx, []store.Registration{later}))
	check := func(at time.Time, supplier string) {
		t.Helper()
		got, err := db.RegistrationAt(ctx, mpan(0), at)
		if supplier == "" {
			wantIs(t, err, store.ErrNotFound)
			return
		}
		must(t, err)
		if got.Supplier != supplier {
			t.Fatalf("at %s: supplier %s, want %s", at, got.Supplier, supplier)
		}
	}
	check(t0.Add(hour), "SUP1")
	check(t3, "SUP2")
	check(t4, "") // the latest period started has ended

	first := registrations(1)[0]
	first.Supplier, first.MPID, first.Device = "SUP2", "MQ02", eui.EUI{}
	must(t, db.ImportRegistrations(ctx, []store.Registration{first}))
	got, err := db.RegistrationAt(ctx, mpan(0), t0)
	must(t, err)
	if d := cmp.Diff(first, got); d != "" {
		t.Fatalf("replaced registration (-want +got):\n%s", d)
	}
}

func testRegistrationsAllOrNothing(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	seed(t, db, 0)
	must(t, db.ImportDevices(ctx, devices(1000)))

	// Database constraints, past the first batch: an unknown supplier, then
	// an unknown device.
	rs := registrations(1000)
	rs[700].Supplier = "NOPE"
	err := db.ImportRegistrations(ctx, rs)
	wantImportRow(t, err, 700)
	wantIs(t, err, store.ErrInvalid)
	rs = registrations(1000)
	rs[800].Device = eu(0x00, 5000)
	err = db.ImportRegistrations(ctx, rs)
	wantImportRow(t, err, 800)
	wantIs(t, err, store.ErrInvalid)
	_, err = db.RegistrationAt(ctx, mpan(0), t0)
	wantIs(t, err, store.ErrNotFound)

	// Refused before writing.
	rs = registrations(10)
	rs[3].To = rs[3].From
	err = db.ImportRegistrations(ctx, rs)
	wantImportRow(t, err, 3)
	wantIs(t, err, store.ErrInvalid)
	rs = registrations(10)
	rs[8].MPxN = rs[1].MPxN
	err = db.ImportRegistrations(ctx, rs)
	wantImportRow(t, err, 8)
	wantIs(t, err, store.ErrDuplicate)
	rs = registrations(10)
	rs[4].MPID = ""
	wantImportRow(t, db.ImportRegistrations(ctx, rs), 4)

	must(t, db.ImportRegistrations(ctx, registrations(1000)))
	got, err := db.RegistrationAt(ctx, mpan(999), t0)
	must(t, err)
	if got.Device != eu(0x00, 1000) {
		t.Fatalf("row 999: %+v", got)
	}
}
