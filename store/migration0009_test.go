package store_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// Migration 0009 adds waves and the party's own commands: devices stored
// before it keep every row and come out in no wave; a wave runs on them;
// down drops the new tables and columns and keeps the devices.
func TestMigration0009Waves(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	eachBackendAt(t, 8, func(t *testing.T, at schemaAt) {
		ctx, db, raw := t.Context(), at.db, at.raw
		ds := make([]store.Device, 6)
		for i := range ds {
			ds[i] = store.Device{EUI: eui.EUI{0, 0xB3, 0xD5, 0x1F, 0, 0, 0, byte(i + 1)}, Type: store.ESME, SMIStatus: store.SMICommissioned,
				Credential: store.CredentialTCoS, CredentialSKI: []byte{1, 2, 3, 4, 5, 6, 7, byte(i)}}
		}
		ds[5].Credential = store.CredentialUnknown
		if err := db.ImportDevices(ctx, ds); err != nil {
			t.Fatal(err)
		}
		before := dumpDevices(t, raw)
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate 8 -> 9: %v", err)
		}
		if d := cmp.Diff(before, dumpDevices(t, raw)); d != "" {
			t.Fatalf("devices changed by migration 0009 (-before +after):\n%s", d)
		}
		tcos, unknown, _, err := db.PlanWave(ctx, store.WaveFilter{}, 10)
		if err != nil || tcos != 5 || unknown != 1 {
			t.Fatalf("plan after 0009: %d tcos, %d unknown, %v", tcos, unknown, err)
		}
		id, err := db.CreateWave(ctx, store.Wave{Name: "first", Concurrency: 2, CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		w, err := db.WaveByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, taken, err := db.TakeForWave(ctx, w, eui.EUI{}, 100, t0); err != nil || taken != 6 {
			t.Fatalf("take: %d, %v", taken, err)
		}
		out, err := db.ClaimCommands(ctx, "cos", []store.Claim{{Device: ds[1].EUI, Kind: store.OwnMigrate, Wave: id}}, t0,
			func(store.Claim, uint64) (store.Built, error) { return store.Built{KeyID: "tcos", TBS: []byte{1}}, nil })
		if err != nil || out[0].Err != nil {
			t.Fatalf("claim: %+v, %v", out, err)
		}
		mid := dumpDevices(t, raw)

		if err := db.MigrateDownTo(ctx, 8); err != nil {
			t.Fatalf("migrate 9 -> 8: %v", err)
		}
		if d := cmp.Diff(mid, dumpDevices(t, raw)); d != "" {
			t.Fatalf("devices changed by going down (-before +after):\n%s", d)
		}
		for _, table := range []string{"migration_waves", "migration_commands"} {
			if _, err := raw.ExecContext(ctx, "SELECT COUNT(*) FROM "+table); err == nil {
				t.Errorf("%s still there after down", table)
			}
		}
		if _, err := raw.ExecContext(ctx, "SELECT migration_wave FROM devices"); err == nil {
			t.Error("devices.migration_wave still there after down")
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate 8 -> 9 again: %v", err)
		}
		if ws, err := db.Waves(ctx); err != nil || len(ws) != 0 {
			t.Errorf("waves after down and up: %+v, %v", ws, err)
		}
	})
}

// dumpDevices renders the columns of devices that version 8 has.
func dumpDevices(t *testing.T, raw *sql.DB) []string {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), `SELECT device_eui, device_type, smi_status, cos_credential, cos_ski,
		migration_state, migration_seq, migration_attempt, migration_since_us FROM devices ORDER BY device_eui`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var dev, ski []byte
		var typ, smi, cred, state string
		var seq, attempt int64
		var since sql.NullInt64
		if err := rows.Scan(&dev, &typ, &smi, &cred, &ski, &state, &seq, &attempt, &since); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%x %s %s %s %x %s %d %d %v", dev, typ, smi, cred, ski, state, seq, attempt, since))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
