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
	seen := make(map[registrationKey]int, len(regs))
	for i := range regs {
		r := &regs[i]
		if err := r.validate(); err != nil {
			return &ImportError{Table: name, Row: i, Err: err}
		}
		k := registrationKey{r.MPxN, timeArg(r.From)}
		if j, dup := seen[k]; dup {
			return &ImportError{Table: name, Row: i, Err: fmt.Errorf("%w: MPxN %s from %s is also row %d", ErrDuplicate, r.MPxN, r.From, j)}
		}
		seen[k] = i
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
