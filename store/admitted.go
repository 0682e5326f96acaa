package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// AdmittedSince calls fn with the originator and receipt time of every
// request received at or after since that passed anomaly detection (step 9):
// those authorised, signed, sent, responded or failed, a released one
// included. The order is receipt order (requests received in the same
// microsecond in no particular order). After a restart the service rebuilds
// its threshold windows from it, so it streams: fn sees each row as it is
// read, and the first error fn returns stops the walk and is returned as is.
//
// The state is all that is kept, so the count is not exact, by little and
// on both sides: a request that failed before step 9 (an internal error
// while being authorised) is counted though it never was, and one rejected
// after step 9 is not counted though it was.
//
// fn runs while the rows are read; it may use the DB, but the walk holds a
// read snapshot (on SQLite, a read connection) until it ends.
func (db *DB) AdmittedSince(ctx context.Context, since time.Time, fn func(user eui.EUI, at time.Time) error) error {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT originator_eui, received_at_us FROM requests
		WHERE received_at_us >= ? AND state IN ('authorised', 'signed', 'sent', 'responded', 'failed')
		ORDER BY received_at_us`), timeArg(since))
	if err == nil {
		err = scanEach(rows, scanAdmitted, func(a admitted) error { return fn(a.user, a.at) })
	}
	return walkError(fmt.Sprintf("admitted since %v", since), err)
}

type admitted struct {
	user eui.EUI
	at   time.Time
}

func scanAdmitted(r *sql.Rows) (admitted, error) {
	var o []byte
	var at int64
	if err := r.Scan(&o, &at); err != nil {
		return admitted{}, err
	}
	user, err := scanEUI(o)
	return admitted{user, timeOf(at)}, err
}
