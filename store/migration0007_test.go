package store_test

import (
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// Migration 0007 adds the inventory columns and the migration state: a
// device stored before it comes out in the state of its credential, with
// no history, and everything else as it was.
func TestMigration0007Inventory(t *testing.T) {
	eachBackendAt(t, 6, func(t *testing.T, at schemaAt) {
		ctx, cfg, db, raw := t.Context(), at.cfg, at.db, at.raw
		creds := []store.Credential{store.CredentialTCoS, store.CredentialECoS, store.CredentialUnknown}
		q := `INSERT INTO devices (device_eui, device_type, smi_status, cos_credential, cos_ski) VALUES (?, 'ESME', 'commissioned', ?, ?)`
		if cfg.Driver == store.DriverPostgres {
			q = `INSERT INTO devices (device_eui, device_type, smi_status, cos_credential, cos_ski) VALUES ($1, 'ESME', 'commissioned', $2, $3)`
		}
		for i, c := range creds {
			e := eui.EUI{0, 0xB3, 0xD5, 0x1F, 0, 0, 0, byte(i + 1)}
			if _, err := raw.ExecContext(ctx, q, e[:], string(c), []byte{1, 2, 3, 4, 5, 6, 7, byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for i, c := range creds {
			e := eui.EUI{0, 0xB3, 0xD5, 0x1F, 0, 0, 0, byte(i + 1)}
			st, err := db.MigrationStatusOf(ctx, e)
			if err != nil || st != (store.MigrationStatus{State: store.MigrationState(c)}) {
				t.Errorf("device %s (%s): %+v, %v", e, c, st, err)
			}
			inv, err := db.InventoryOf(ctx, e)
			if err != nil || inv.Credential != c || len(inv.CredentialSKI) != 8 || inv.Manufacturer != "" || !inv.Installed.IsZero() {
				t.Errorf("device %s: %+v, %v", e, inv, err)
			}
			if h, err := db.MigrationHistory(ctx, e); err != nil || len(h) != 0 {
				t.Errorf("device %s: history %v, %v", e, h, err)
			}
		}
		counts, err := db.MigrationCounts(ctx)
		if err != nil || counts[store.MigrationTCoS] != 1 || counts[store.MigrationECoS] != 1 || counts[store.MigrationUnknown] != 1 {
			t.Errorf("counts %v, %v", counts, err)
		}
	})
}
