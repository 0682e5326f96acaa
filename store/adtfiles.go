package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// ADTFile is an accepted anomaly detection thresholds file (product.md §4).
type ADTFile struct {
	User     eui.EUI
	Sequence uint64 // the file sequence number; 0 for a legacy file
	// Legacy: the file has no sequence number (the format before June
	// 2023), accepted only as a User's first file.
	Legacy     bool
	Document   []byte // the file's exact bytes, signature line included
	AcceptedAt time.Time
	Source     string // where it came from, for the audit: an upload, a path
}

func (f *ADTFile) validate() error {
	switch {
	case f.User.IsZero():
		return invalidf("ADT file without a User")
	case f.Legacy && f.Sequence != 0:
		return invalidf("ADT file from %s: legacy, yet sequence %d", f.User, f.Sequence)
	case len(f.Document) == 0:
		return invalidf("ADT file %d from %s: empty document", f.Sequence, f.User)
	case f.AcceptedAt.IsZero():
		return invalidf("ADT file %d from %s: no acceptance time", f.Sequence, f.User)
	}
	return nil
}

// adtLockSpace is the first key of the PostgreSQL advisory locks that
// serialise one User's submissions ("ADTF"); the two-key lock space is
// apart from the one-key space goose's migration lock uses.
const adtLockSpace = 0x41445446

// AcceptADTFile stores f if its sequence number is greater than that of
// every file accepted for its User, and otherwise returns an error wrapping
// ErrReplay that names the last accepted one, storing nothing. A legacy
// file is accepted only as the User's first, and counts as sequence 0, so
// the file after it needs 1 or more. Concurrent submissions for one User,
// from any number of processes, are judged one after the other, each
// against the files accepted before it: of two with the same sequence only
// one is accepted, and a lower one never after a higher.
func (db *DB) AcceptADTFile(ctx context.Context, f ADTFile) error {
	if err := f.validate(); err != nil {
		return err
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// SQLite has a single writer already. PostgreSQL's check below
		// could otherwise read the same last file in two transactions,
		// and each insert a different file above it.
		if db.d.name == DriverPostgres {
			key := binary.BigEndian.Uint32(f.User[:4]) ^ binary.BigEndian.Uint32(f.User[4:])
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(adtLockSpace), int32(key)); err != nil {
				return fmt.Errorf("store: accept ADT file %d from %s: %w", f.Sequence, f.User, err)
			}
		}
		var last []byte
		var legacy int64
		err := tx.QueryRowContext(ctx, db.q(`SELECT sequence, is_legacy FROM adt_files
			WHERE user_eui = ? ORDER BY sequence DESC LIMIT 1`), euiArg(f.User)).Scan(&last, &legacy)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("store: accept ADT file %d from %s: %w", f.Sequence, f.User, err)
		default:
			n, err := scanU64(last)
			if err != nil {
				return err
			}
			lastName := fmt.Sprintf("sequence %d", n)
			if legacy != 0 {
				lastName = "a legacy file"
			}
			switch {
			case f.Legacy:
				return fmt.Errorf("%w: legacy ADT file from %s: %s was accepted already", ErrReplay, f.User, lastName)
			case f.Sequence <= n:
				return fmt.Errorf("%w: ADT file %d from %s: the last accepted is %s", ErrReplay, f.Sequence, f.User, lastName)
			}
		}
		_, err = tx.ExecContext(ctx, db.q(`INSERT INTO adt_files (user_eui, sequence, is_legacy, document, accepted_at_us, source)
			VALUES (?, ?, ?, ?, ?, ?)`), euiArg(f.User), u64Arg(f.Sequence), boolArg(f.Legacy), f.Document,
			timeArg(f.AcceptedAt), f.Source)
		if db.d.isUnique(err) {
			// Only if the lock above were missing: the key still keeps a
			// sequence from being accepted twice.
			return fmt.Errorf("%w: ADT file %d from %s was accepted already", ErrReplay, f.Sequence, f.User)
		}
		if err != nil {
			return fmt.Errorf("store: accept ADT file %d from %s: %w", f.Sequence, f.User, err)
		}
		return nil
	})
}

const adtFileCols = `user_eui, sequence, is_legacy, document, accepted_at_us, source`

func scanADTFile(r *sql.Rows) (ADTFile, error) {
	var f ADTFile
	var u, seq []byte
	var legacy, accepted int64
	err := r.Scan(&u, &seq, &legacy, &f.Document, &accepted, &f.Source)
	if err == nil {
		f.User, err = scanEUI(u)
	}
	if err == nil {
		f.Sequence, err = scanU64(seq)
	}
	f.Legacy, f.AcceptedAt = legacy != 0, timeOf(accepted)
	return f, err
}

// CurrentADTFiles calls fn with the file in force for each User (the
// newest accepted), in User order, as the rows are read: the service loads
// every User's thresholds at start. The first error fn returns stops the
// walk and is returned as is.
func (db *DB) CurrentADTFiles(ctx context.Context, fn func(ADTFile) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT `+adtFileCols+` FROM adt_files f
		WHERE NOT EXISTS (SELECT 1 FROM adt_files g WHERE g.user_eui = f.user_eui AND g.sequence > f.sequence)
		ORDER BY user_eui`)
	if err == nil {
		err = scanEach(rows, scanADTFile, fn)
	}
	return walkError("current ADT files", err)
}

// ADTFiles returns every file accepted for user, newest first; an empty
// slice if none.
func (db *DB) ADTFiles(ctx context.Context, user eui.EUI) ([]ADTFile, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+adtFileCols+` FROM adt_files
		WHERE user_eui = ? ORDER BY sequence DESC`), euiArg(user))
	var fs []ADTFile
	if err == nil {
		fs, err = scanAll(rows, scanADTFile)
	}
	if err != nil {
		return nil, fmt.Errorf("store: ADT files of %s: %w", user, err)
	}
	if fs == nil {
		fs = []ADTFile{}
	}
	return fs, nil
}
