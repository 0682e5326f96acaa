package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// TestCountAndPending: what `ecos db status` shows, on an empty and on a
// migrated database.
func TestCountAndPending(t *testing.T) {
	db, err := store.Open(t.Context(), store.Config{Driver: store.DriverSQLite, DSN: t.TempDir() + "/ecos.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending, err := db.Pending(t.Context())
	if err != nil || len(pending) == 0 || pending[0] != "0001_reference_data.sql" {
		t.Fatalf("Pending before migrating = %q, %v", pending, err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if pending, err := db.Pending(t.Context()); err != nil || len(pending) != 0 {
		t.Fatalf("Pending after migrating = %q, %v", pending, err)
	}
	if c, err := db.Count(t.Context()); err != nil || c != (store.Counts{}) {
		t.Fatalf("Count = %+v, %v", c, err)
	}
}

// TestImportNamesEveryMissingReference: an import refused for rows that
// name what is not stored lists every such row, each naming what it
// lacks, and writes nothing; MissingReferences names the same rows without
// importing. On both backends.
func TestImportNamesEveryMissingReference(t *testing.T) {
	for name, open := range lockBackends(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := t.Context()
			user := func(n byte) eui.EUI { return eui.EUI{0xEE, 0xC0, 0x5E, 0, 1, 0, 0, n} }
			sup1 := store.Party{ID: "SUP1", Name: "One", State: store.PartyActive, MPIDs: []string{"SUPA"},
				Users: []store.User{{EUI: user(1), Role: store.RoleImportSupplier}}}
			if err := db.ImportParties(ctx, []store.Party{sup1}); err != nil {
				t.Fatal(err)
			}
			from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			regs := []store.Registration{
				{MPxN: "1200023305967", From: from, Supplier: "SUP1", MPID: "SUPA"},
				{MPxN: "3938424403", From: from, Supplier: "NOPE", MPID: "SUPX"},
				{MPxN: "2000000000015", From: from, Supplier: "SUP1", MPID: "SUPA", Device: eui.EUI{0xEE, 0xC0, 0x5E, 0xDE, 0, 0, 0, 0x99}},
			}
			// MissingReferences names the same rows and writes nothing.
			for what, err := range map[string]error{"MissingReferences": db.MissingReferences(ctx, regs), "ImportRegistrations": db.ImportRegistrations(ctx, regs)} {
				ie, ok := errors.AsType[*store.ImportErrors](err)
				if !ok || len(ie.Rows) != 2 || ie.Rows[0].Row != 1 || ie.Rows[1].Row != 2 {
					t.Fatalf("%s: err %v, want rows 1 and 2", what, err)
				}
			}
			if err := db.MissingReferences(ctx, regs[:1]); err != nil {
				t.Errorf("MissingReferences of a stored party: %v", err)
			}
			err := db.ImportRegistrations(ctx, regs)
			ie, _ := errors.AsType[*store.ImportErrors](err)
			if !strings.Contains(ie.Rows[0].Error(), "party NOPE") || !strings.Contains(ie.Rows[1].Error(), "device EE-C0-5E-DE-00-00-00-99") {
				t.Errorf("rows %v, %v", ie.Rows[0], ie.Rows[1])
			}
			if c, err := db.Count(ctx); err != nil || c.Registrations != 0 {
				t.Errorf("after the refusal: %+v, %v", c, err)
			}
			taken := store.Party{ID: "SUP9", Name: "Nine", State: store.PartyActive, MPIDs: []string{"SUPZ"},
				Users: []store.User{{EUI: user(1), Role: store.RoleImportSupplier}}}
			err = db.ImportParties(ctx, []store.Party{taken})
			if ie, ok := errors.AsType[*store.ImportErrors](err); !ok || !strings.Contains(ie.Error(), "stored under party SUP1") {
				t.Errorf("a User ID of another party: %v", err)
			}
		})
	}
}
