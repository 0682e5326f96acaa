package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// InventoryDevice is one line of the migration inventory: the device as
// ImportDevices knows it, and what the migration filters waves by.
type InventoryDevice struct {
	Device
	Manufacturer string
	Model        string
	Firmware     string
	MPxN         string
	// ResponsibleSupplier is the SEC Party ID of the supplier the DCC
	// inventory names for the device; it must be a stored party.
	ResponsibleSupplier string
	Installed           time.Time
}

// InventorySource yields an inventory's devices one at a time, so that an
// import of any size holds one batch in memory. Next returns the next
// good device and the line it came from, or ok false at the end. Err,
// called at the end, is the source's own refusal (lines it could not
// parse): non-nil, and nothing is written.
type InventorySource interface {
	Next() (line int, d InventoryDevice, ok bool)
	Err() error
}

// InventoryResult is what an inventory import did.
type InventoryResult struct {
	Lines   int // devices read
	Written int // of those, new or changed; the others were stored as they are
}

// maxInventoryField bounds the free-text columns.
const maxInventoryField = 256

func (d *InventoryDevice) validate() error {
	if err := d.Device.validate(); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"manufacturer", d.Manufacturer}, {"model", d.Model}, {"firmware", d.Firmware},
		{"MPxN", d.MPxN}, {"responsible supplier", d.ResponsibleSupplier},
	} {
		if len(f.v) > maxInventoryField {
			return invalidf("device %s: %s of %d bytes (at most %d)", d.EUI, f.name, len(f.v), maxInventoryField)
		}
	}
	return nil
}

// inventoryCols are the devices columns an inventory line writes.
var inventoryCols = []string{"device_eui", "device_type", "smi_status", "cos_credential", "cos_ski",
	"manufacturer", "model", "firmware", "mpxn", "responsible_party_id", "installed_us", "migration_state"}

// inventoryUpsert replaces a stored device's inventory columns, and its
// credential and migration state only while no transition has been
// recorded for it (migration_seq = 0): from the first transition on, the
// state machine owns both, and an inventory exported before the migration
// moved the device must not move it back. A line equal to what is stored
// writes nothing, so a re-import of the same file changes nothing.
const inventoryUpsert = `ON CONFLICT (device_eui) DO UPDATE SET
	device_type = excluded.device_type, smi_status = excluded.smi_status,
	cos_credential = CASE WHEN devices.migration_seq = 0 THEN excluded.cos_credential ELSE devices.cos_credential END,
	cos_ski = CASE WHEN devices.migration_seq = 0 THEN excluded.cos_ski ELSE devices.cos_ski END,
	migration_state = CASE WHEN devices.migration_seq = 0 THEN excluded.migration_state ELSE devices.migration_state END,
	manufacturer = excluded.manufacturer, model = excluded.model, firmware = excluded.firmware,
	mpxn = excluded.mpxn, responsible_party_id = excluded.responsible_party_id, installed_us = excluded.installed_us
WHERE devices.device_type <> excluded.device_type OR devices.smi_status <> excluded.smi_status
	OR devices.manufacturer <> excluded.manufacturer OR devices.model <> excluded.model
	OR devices.firmware <> excluded.firmware OR devices.mpxn <> excluded.mpxn
	OR devices.responsible_party_id <> excluded.responsible_party_id
	OR COALESCE(devices.installed_us, -1) <> COALESCE(excluded.installed_us, -1)
	OR (devices.migration_seq = 0 AND (devices.cos_credential <> excluded.cos_credential
		OR COALESCE(devices.cos_ski, ?) <> COALESCE(excluded.cos_ski, ?)))`

// ImportInventory writes every device src yields, in one transaction: all
// of them or, if any line is refused (by src, or here: a device twice, a
// responsible supplier that is not a stored party), none. Refusals come
// back as *ImportErrors whose Row is the line src named, up to 1,000,
// joined (errors.Join) with src's own error when src refused lines too. progress, if not nil, is called with
// the number of devices read so far after each batch.
//
// Memory does not grow with the file: devices are written a batch at a
// time, and the devices already seen, for the duplicate check, are kept in
// a temporary table of the same transaction.
func (db *DB) ImportInventory(ctx context.Context, src InventorySource, progress func(lines int)) (InventoryResult, error) {
	const name = "inventory"
	var res InventoryResult
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		parties, err := partyIDs(ctx, tx, db)
		if err != nil {
			return err
		}
		seen := "CREATE TEMP TABLE inventory_seen (device_eui BLOB NOT NULL PRIMARY KEY, line INTEGER NOT NULL)"
		if db.d.name == DriverPostgres {
			seen = "CREATE TEMP TABLE inventory_seen (device_eui BYTEA NOT NULL PRIMARY KEY, line BIGINT NOT NULL) ON COMMIT DROP"
		}
		if _, err := tx.ExecContext(ctx, seen); err != nil {
			return fmt.Errorf("store: import inventory: %w", err)
		}
		w := inventoryWriter{db: db, tx: tx, per: min(bulkRowsPerStatement, db.d.maxParams/len(inventoryCols))}
		var refused ImportErrors
		batch := make([]inventoryLine, 0, w.per)
		flush := func() error {
			n, err := w.write(ctx, batch, &refused)
			res.Written += n
			batch = batch[:0]
			if progress != nil {
				progress(res.Lines)
			}
			return err
		}
		for {
			line, d, ok := src.Next()
			if !ok {
				break
			}
			res.Lines++
			if err := d.validate(); err != nil {
				refused.add(name, line, err)
				continue
			}
			if !parties[d.ResponsibleSupplier] {
				refused.add(name, line, invalidf("device %s: responsible supplier %q is not a stored party: import it with `ecos import parties` first",
					d.EUI, d.ResponsibleSupplier))
				continue
			}
			if batch = append(batch, inventoryLine{line, d}); len(batch) == w.per {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		// Both lists: every bad line is named, whichever found it.
		if err := errors.Join(src.Err(), refused.err()); err != nil {
			return err
		}
		if db.d.name != DriverPostgres {
			if _, err := tx.ExecContext(ctx, "DROP TABLE inventory_seen"); err != nil {
				return fmt.Errorf("store: import inventory: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return InventoryResult{}, err
	}
	return res, nil
}

func partyIDs(ctx context.Context, tx *sql.Tx, db *DB) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, db.q(`SELECT party_id FROM parties`))
	if err != nil {
		return nil, fmt.Errorf("store: import inventory: parties: %w", err)
	}
	ids, err := scanAll(rows, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("store: import inventory: parties: %w", err)
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}

type inventoryLine struct {
	line int
	d    InventoryDevice
}

// inventoryWriter writes the batches of one import.
type inventoryWriter struct {
	db   *DB
	tx   *sql.Tx
	per  int
	args []any
}

// write notes batch's devices as seen, refusing any seen before, and,
// while nothing has been refused, writes them. It returns how many rows
// were new or changed.
func (w *inventoryWriter) write(ctx context.Context, batch []inventoryLine, refused *ImportErrors) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	w.args = w.args[:0]
	for _, l := range batch {
		w.args = append(w.args, euiArg(l.d.EUI), l.line)
	}
	res, err := w.tx.ExecContext(ctx, w.db.q("INSERT INTO inventory_seen (device_eui, line) VALUES "+
		strings.TrimSuffix(strings.Repeat("(?, ?), ", len(batch)), ", ")+" ON CONFLICT (device_eui) DO NOTHING"), w.args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return 0, fmt.Errorf("store: import inventory: %w", err)
	}
	if int(n) < len(batch) {
		if err := w.duplicates(ctx, batch, refused); err != nil {
			return 0, err
		}
	}
	if len(refused.Rows) > 0 {
		return 0, nil // it will all be rolled back: only check the rest
	}
	marks := "(" + placeholders(len(inventoryCols)) + ")"
	w.args = w.args[:0]
	for _, l := range batch {
		d := &l.d
		w.args = append(w.args, euiArg(d.EUI), string(d.Type), string(d.SMIStatus), string(d.Credential), nullBytesArg(d.CredentialSKI),
			d.Manufacturer, d.Model, d.Firmware, d.MPxN, d.ResponsibleSupplier, nullTimeArg(d.Installed), string(d.Credential))
	}
	// The SKI comparison's stand-in for NULL: no SKI is empty.
	w.args = append(w.args, []byte{}, []byte{})
	res, err = w.tx.ExecContext(ctx, w.db.q("INSERT INTO devices ("+strings.Join(inventoryCols, ", ")+") VALUES "+
		strings.TrimSuffix(strings.Repeat(marks+", ", len(batch)), ", ")+" "+inventoryUpsert), w.args...)
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return 0, fmt.Errorf("store: import inventory: lines %d..%d: %w", batch[0].line, batch[len(batch)-1].line, err)
	}
	return int(n), nil
}

// duplicates refuses each device of batch an earlier line already had.
func (w *inventoryWriter) duplicates(ctx context.Context, batch []inventoryLine, refused *ImportErrors) error {
	for _, l := range batch {
		var first int
		if err := w.tx.QueryRowContext(ctx, w.db.q(`SELECT line FROM inventory_seen WHERE device_eui = ?`), euiArg(l.d.EUI)).Scan(&first); err != nil {
			return fmt.Errorf("store: import inventory: %w", err)
		}
		if first != l.line {
			refused.add("inventory", l.line, fmt.Errorf("%w: device %s is also on line %d", ErrDuplicate, l.d.EUI, first))
		}
	}
	return nil
}

// InventoryOf returns the device with EUI-64 e as the inventory has it,
// or ErrNotFound.
func (db *DB) InventoryOf(ctx context.Context, e eui.EUI) (InventoryDevice, error) {
	d, err := db.Device(ctx, e)
	if err != nil {
		return InventoryDevice{}, err
	}
	inv := InventoryDevice{Device: d}
	var installed sql.NullInt64
	err = db.r.QueryRowContext(ctx, db.q(`SELECT manufacturer, model, firmware, mpxn, responsible_party_id, installed_us
		FROM devices WHERE device_eui = ?`), euiArg(e)).Scan(&inv.Manufacturer, &inv.Model, &inv.Firmware, &inv.MPxN,
		&inv.ResponsibleSupplier, &installed)
	if err != nil {
		return InventoryDevice{}, fmt.Errorf("store: device %s: %w", e, err)
	}
	inv.Installed = nullTimeOf(installed)
	return inv, nil
}
