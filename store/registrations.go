package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// Registration is one period during which a supplier is registered for an
// MPxN. The period is [From, To): From inclusive, To exclusive, and a zero
// To means open-ended. So a change of supplier at T is one row ending at T
// and the next starting at T, and at T exactly the new supplier is the
// registered one.
type Registration struct {
	MPxN     string
	From     time.Time
	To       time.Time // zero: open-ended
	Supplier string    // SEC Party ID of the registered supplier
	MPID     string    // the MPID the supplier holds the MPxN under
	Device   eui.EUI   // the device associated with the MPxN; zero: none
}

func (r *Registration) validate() error {
	switch {
	case strings.TrimSpace(r.MPxN) == "":
		return invalidf("MPxN is empty")
	case r.From.IsZero():
		return invalidf("MPxN %s: effective-from is missing", r.MPxN)
	case !r.To.IsZero() && timeArg(r.To) <= timeArg(r.From):
		return invalidf("MPxN %s: effective-to %s is not after effective-from %s", r.MPxN, r.To, r.From)
	case strings.TrimSpace(r.Supplier) == "":
		return invalidf("MPxN %s: registered supplier is empty", r.MPxN)
	case strings.TrimSpace(r.MPID) == "":
		return invalidf("MPxN %s: MPID is empty", r.MPxN)
	}
	return nil
}

type registrationKey struct {
	mpxn string
	from int64
}

// ImportRegistrations writes registration periods in one transaction: all
// of them or, on any error, none. A row with the same MPxN and
// effective-from as a stored one replaces it. The supplier must be a known
// party and the device, when given, a known device (import parties and
// devices first). A failure is an *ImportError naming the index in regs of
// the offending row.
func (db *DB) ImportRegistrations(ctx context.Context, regs []Registration) error {
	const name = "registrations"
	var bad ImportErrors
	seen := make(map[registrationKey]int, len(regs))
	for i := range regs {
		r := &regs[i]
		if err := r.validate(); err != nil {
			bad.add(name, i, err)
			continue
		}
		k := registrationKey{r.MPxN, timeArg(r.From)}
		if j, dup := seen[k]; dup {
			bad.add(name, i, fmt.Errorf("%w: MPxN %s from %s is also row %d", ErrDuplicate, r.MPxN, r.From, j))
		}
		seen[k] = i
	}
	if err := bad.err(); err != nil {
		return err
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.registrationReferences(ctx, tx, regs); err != nil {
			return err
		}
		return db.insert(ctx, tx, bulk{
			table: "registrations",
			cols:  []string{"mpxn", "effective_from_us", "effective_to_us", "supplier_party_id", "mpid", "device_eui"},
			suffix: "ON CONFLICT (mpxn, effective_from_us) DO UPDATE SET effective_to_us = excluded.effective_to_us, " +
				"supplier_party_id = excluded.supplier_party_id, mpid = excluded.mpid, device_eui = excluded.device_eui",
			name: name,
		}, len(regs), func(i int) (int, []any) {
			r := &regs[i]
			return i, []any{r.MPxN, timeArg(r.From), nullTimeArg(r.To), r.Supplier, r.MPID, nullEUIArg(r.Device)}
		})
	})
}

// MissingReferences names, as ImportRegistrations would, every
// registration whose supplier party or device is not stored, and writes
// nothing: an import refused for faults of its own lines lists these too,
// so the operator fixes the file in one pass.
func (db *DB) MissingReferences(ctx context.Context, regs []Registration) error {
	return db.readTx(ctx, func(tx *sql.Tx) error {
		return db.registrationReferences(ctx, tx, regs)
	})
}

// registrationReferences names every row whose supplier or device is not
// stored, rather than the first one the foreign keys would trip on.
func (db *DB) registrationReferences(ctx context.Context, tx *sql.Tx, regs []Registration) error {
	parties, devices := map[string]bool{}, map[string]bool{}
	for _, r := range regs {
		parties[r.Supplier] = false
		if !r.Device.IsZero() {
			devices[string(r.Device[:])] = false
		}
	}
	if err := db.markStored(ctx, tx, "SELECT party_id FROM parties WHERE party_id IN ", parties, func(k string) any { return k }); err != nil {
		return err
	}
	if err := db.markStored(ctx, tx, "SELECT device_eui FROM devices WHERE device_eui IN ", devices, func(k string) any { return []byte(k) }); err != nil {
		return err
	}
	var bad ImportErrors
	for i, r := range regs {
		if !parties[r.Supplier] {
			bad.add("registrations", i, invalidf("supplier party %s is not stored: import it with `ecos import parties` first", r.Supplier))
		}
		if !r.Device.IsZero() && !devices[string(r.Device[:])] {
			bad.add("registrations", i, invalidf("device %s is not stored: import it with `ecos import devices` first", r.Device))
		}
	}
	return bad.err()
}

// markStored sets found[k] for every key the query (ending in "IN ")
// finds; keys are asked in batches far below the dialect's parameter cap.
func (db *DB) markStored(ctx context.Context, tx *sql.Tx, query string, found map[string]bool, arg func(string) any) error {
	err := queryIn(ctx, db, tx, query, slices.Collect(maps.Keys(found)), arg, func(r *sql.Rows) (string, error) {
		var k []byte
		err := r.Scan(&k)
		return string(k), err
	}, func(k string) error {
		found[k] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: import registrations: %w", err)
	}
	return nil
}

// RegistrationAt returns the registration of mpxn in force at time at, or
// ErrNotFound. The period in force is the one with the latest start at or
// before at, provided at is before its end: a later period supersedes an
// earlier one even if the earlier was left open-ended.
func (db *DB) RegistrationAt(ctx context.Context, mpxn string, at time.Time) (Registration, error) {
	const q = `SELECT effective_from_us, effective_to_us, supplier_party_id, mpid, device_eui
		FROM registrations WHERE mpxn = ? AND effective_from_us <= ?
		ORDER BY effective_from_us DESC LIMIT 1`
	r := Registration{MPxN: mpxn}
	var from int64
	var to sql.NullInt64
	var device []byte
	err := db.r.QueryRowContext(ctx, db.q(q), mpxn, timeArg(at)).Scan(&from, &to, &r.Supplier, &r.MPID, &device)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && to.Valid && timeArg(at) >= to.Int64) {
		return Registration{}, fmt.Errorf("%w: no registration of %s at %s", ErrNotFound, mpxn, at.UTC().Format(time.RFC3339Nano))
	}
	if err != nil {
		return Registration{}, fmt.Errorf("store: registration of %s: %w", mpxn, err)
	}
	r.From, r.To = timeOf(from), nullTimeOf(to)
	if r.Device, err = scanEUI(device); err != nil {
		return Registration{}, err
	}
	return r, nil
}
