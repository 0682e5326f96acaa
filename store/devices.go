package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// DeviceType is the kind of meter a CoS command can target.
type DeviceType string

// Device types.
const (
	ESME DeviceType = "ESME" // electricity smart metering equipment
	GSME DeviceType = "GSME" // gas smart metering equipment
)

// SMIStatus is the device's status in the Smart Metering Inventory.
type SMIStatus string

// SMI statuses.
const (
	SMIPending                  SMIStatus = "pending"
	SMIWhitelisted              SMIStatus = "whitelisted"
	SMIInstalledNotCommissioned SMIStatus = "installed-not-commissioned"
	SMICommissioned             SMIStatus = "commissioned"
	SMIDecommissioned           SMIStatus = "decommissioned"
	SMIWithdrawn                SMIStatus = "withdrawn"
	SMISuspended                SMIStatus = "suspended"
	SMIRecovery                 SMIStatus = "recovery"
	SMIRecovered                SMIStatus = "recovered"
)

var knownSMIStatuses = map[SMIStatus]bool{
	SMIPending: true, SMIWhitelisted: true, SMIInstalledNotCommissioned: true,
	SMICommissioned: true, SMIDecommissioned: true, SMIWithdrawn: true,
	SMISuspended: true, SMIRecovery: true, SMIRecovered: true,
}

// Credential is which CoS certificate the device's transitionalCoS
// trust-anchor cell holds, and so which key must sign its commands.
type Credential string

// Credentials.
const (
	CredentialTCoS Credential = "tcos"
	CredentialECoS Credential = "ecos"
	// CredentialUnknown: not known (e.g. a response was lost mid-migration).
	// Nothing is signed for such a device until the cell is read back.
	CredentialUnknown Credential = "unknown"
)

// Device is one meter of the inventory.
type Device struct {
	EUI        eui.EUI
	Type       DeviceType
	SMIStatus  SMIStatus
	Credential Credential
	// CredentialSKI is the subject key identifier of the certificate in the
	// cell, when known (SMKI SKIs are 8 bytes).
	CredentialSKI []byte
	// Supplier is the SEC Party ID of the supplier the CoS Party last
	// changed the device to, since SupplierSince; "" if none is noted. Set
	// by NoteSupplier; ImportDevices ignores both.
	Supplier      string
	SupplierSince time.Time
}

// maxSKI bounds CredentialSKI: SMKI uses 8 bytes, RFC 5280 methods 20.
const maxSKI = 32

func (d *Device) validate() error {
	switch {
	case d.EUI.IsZero():
		return invalidf("device EUI-64 is zero")
	case d.Type != ESME && d.Type != GSME:
		return invalidf("device %s: type %q is not ESME or GSME", d.EUI, d.Type)
	case !knownSMIStatuses[d.SMIStatus]:
		return invalidf("device %s: unknown SMI status %q", d.EUI, d.SMIStatus)
	case d.Credential != CredentialTCoS && d.Credential != CredentialECoS && d.Credential != CredentialUnknown:
		return invalidf("device %s: credential %q is not tcos, ecos or unknown", d.EUI, d.Credential)
	case len(d.CredentialSKI) > maxSKI:
		return invalidf("device %s: SKI of %d bytes", d.EUI, len(d.CredentialSKI))
	}
	return nil
}

// ImportDevices writes devices in one transaction: all of them or, on any
// error, none. A device already present is replaced, but for its noted
// supplier, which inventory data does not know about, and its credential
// once its migration has recorded a transition (the state machine's then). A failure is an
// *ImportError naming the index in devices of the offending row.
func (db *DB) ImportDevices(ctx context.Context, devices []Device) error {
	const name = "devices"
	seen := make(map[eui.EUI]int, len(devices))
	for i := range devices {
		d := &devices[i]
		if err := d.validate(); err != nil {
			return &ImportError{Table: name, Row: i, Err: err}
		}
		if j, dup := seen[d.EUI]; dup {
			return &ImportError{Table: name, Row: i, Err: fmt.Errorf("%w: device %s is also row %d", ErrDuplicate, d.EUI, j)}
		}
		seen[d.EUI] = i
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.insert(ctx, tx, bulk{
			table: "devices",
			cols:  []string{"device_eui", "device_type", "smi_status", "cos_credential", "cos_ski", "migration_state"},
			// As an inventory import: once the migration state machine
			// moved a device, it owns its credential (inventory.go).
			suffix: "ON CONFLICT (device_eui) DO UPDATE SET device_type = excluded.device_type, smi_status = excluded.smi_status, " +
				"cos_credential = CASE WHEN devices.migration_seq = 0 THEN excluded.cos_credential ELSE devices.cos_credential END, " +
				"cos_ski = CASE WHEN devices.migration_seq = 0 THEN excluded.cos_ski ELSE devices.cos_ski END, " +
				"migration_state = CASE WHEN devices.migration_seq = 0 THEN excluded.migration_state ELSE devices.migration_state END",
			name: name,
		}, len(devices), func(i int) (int, []any) {
			d := &devices[i]
			return i, []any{euiArg(d.EUI), string(d.Type), string(d.SMIStatus), string(d.Credential), nullBytesArg(d.CredentialSKI), string(d.Credential)}
		})
	})
}

// Device returns the device with EUI-64 e, or ErrNotFound.
func (db *DB) Device(ctx context.Context, e eui.EUI) (Device, error) {
	const q = `SELECT device_type, smi_status, cos_credential, cos_ski, supplier_party_id, supplier_since_us
		FROM devices WHERE device_eui = ?`
	d := Device{EUI: e}
	var supplier sql.NullString
	var since sql.NullInt64
	err := db.r.QueryRowContext(ctx, db.q(q), euiArg(e)).Scan(&d.Type, &d.SMIStatus, &d.Credential, &d.CredentialSKI,
		&supplier, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, fmt.Errorf("%w: device %s", ErrNotFound, e)
	}
	if err != nil {
		return Device{}, fmt.Errorf("store: device %s: %w", e, err)
	}
	d.Supplier, d.SupplierSince = supplier.String, nullTimeOf(since)
	return d, nil
}

// NoteSupplier records that party has been device's supplier since at, or
// returns ErrNotFound for an unknown device. It only moves forward: a
// change noted with an earlier time than the stored one is ignored (nil),
// so changes noted out of order leave the latest in place; one at the same
// time replaces it.
func (db *DB) NoteSupplier(ctx context.Context, device eui.EUI, party string, at time.Time) error {
	switch {
	case party == "":
		return invalidf("device %s: supplier party is empty", device)
	case at.IsZero():
		return invalidf("device %s: supplier since is missing", device)
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.noteSupplier(ctx, tx, device, party, at)
	})
}

func (db *DB) noteSupplier(ctx context.Context, tx *sql.Tx, device eui.EUI, party string, at time.Time) error {
	res, err := tx.ExecContext(ctx, db.q(`UPDATE devices SET supplier_party_id = ?, supplier_since_us = ?
		WHERE device_eui = ? AND (supplier_since_us IS NULL OR supplier_since_us <= ?)`),
		party, timeArg(at), euiArg(device), timeArg(at))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		// Either unknown or already noted with a later time.
		var one int
		err = tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM devices WHERE device_eui = ?`), euiArg(device)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: device %s", ErrNotFound, device)
		}
	}
	if err != nil {
		return fmt.Errorf("store: note supplier of %s: %w", device, err)
	}
	return nil
}
