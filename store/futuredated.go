package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// FutureDatedSender returns the party of the newest request for device
// that is to execute after now and still might: not a cancellation, and
// authorised, signed, sent or responded (a rejected or failed one will
// never execute, a received one is not yet known to be allowed). ok is
// false when there is none. Newest is the last received; of requests
// received at the same instant, the one with the higher counter.
func (db *DB) FutureDatedSender(ctx context.Context, device eui.EUI, now time.Time) (party string, ok bool, err error) {
	const q = `SELECT party_id FROM requests
		WHERE target_eui = ? AND execute_at_us > ? AND is_cancel = 0
		  AND state IN ('authorised', 'signed', 'sent', 'responded')
		ORDER BY received_at_us DESC, counter DESC LIMIT 1`
	err = db.r.QueryRowContext(ctx, db.q(q), euiArg(device), timeArg(now)).Scan(&party)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: future-dated sender for %s: %w", device, err)
	}
	return party, true, nil
}

// FutureDatedAt answers FutureDatedSender at the time Now gives, for
// callers (the authoriser) that ask without a time.
type FutureDatedAt struct {
	DB  *DB
	Now func() time.Time
}

// FutureDatedSender is DB.FutureDatedSender at Now().
func (f FutureDatedAt) FutureDatedSender(ctx context.Context, device eui.EUI) (string, bool, error) {
	return f.DB.FutureDatedSender(ctx, device, f.Now())
}
