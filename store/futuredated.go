package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// Whether cancellation c was executed after request r on the device: the
// device takes the CoS Party's commands in counter order (one counter,
// commands for a device signed one at a time), so once both are signed
// their counters decide, whatever order they arrived in; one signed is
// ahead of one not yet signed. Only when neither is signed does the order
// they went on towards the device stand in for it: receipt, or for a
// request held by anomaly detection, its release.
const (
	signedCounter = `(SELECT k.counter FROM commands k
			WHERE k.req_originator_eui = %[1]s.originator_eui AND k.req_target_eui = %[1]s.target_eui AND k.req_counter = %[1]s.counter
			  AND k.signed_at_us IS NOT NULL)`
	onward = `COALESCE((SELECT h.decided_at_us FROM quarantine h
			WHERE h.originator_eui = %[1]s.originator_eui AND h.target_eui = %[1]s.target_eui AND h.counter = %[1]s.counter
			  AND h.state = 'released'), %[1]s.received_at_us)`
)

var cancelledAfter = fmt.Sprintf(`CASE
			WHEN %[1]s IS NOT NULL AND %[2]s IS NOT NULL THEN %[1]s > %[2]s
			WHEN %[2]s IS NOT NULL THEN TRUE
			WHEN %[1]s IS NOT NULL THEN FALSE
			ELSE %[3]s >= %[4]s END`,
	fmt.Sprintf(signedCounter, "c"), fmt.Sprintf(signedCounter, "r"), fmt.Sprintf(onward, "c"), fmt.Sprintf(onward, "r"))

// A future-dated request that failed after its command was handed on
// (ecoserr's no-response and response-unverifiable: E21, the device may
// have carried it out) may be held by the device, so it stays pending; one
// that never left (device-unreachable, E20) or failed before signing is
// not.
var pendingFutureDatedSQL = `SELECT DISTINCT r.party_id FROM requests r
		WHERE r.target_eui = ? AND r.execute_at_us > ? AND r.is_cancel = 0
		  AND (r.state IN ('authorised', 'signed', 'sent', 'responded')
		    OR (r.state = 'failed' AND r.reason IN ('no-response', 'response-unverifiable')))
		  AND NOT EXISTS (SELECT 1 FROM responses a
			WHERE a.originator_eui = r.originator_eui AND a.target_eui = r.target_eui AND a.counter = r.counter
			  AND a.kind = 'alert' AND a.response_code IN (?, ?))
		  AND NOT EXISTS (SELECT 1 FROM requests c
			WHERE c.target_eui = r.target_eui AND c.is_cancel = 1
			  AND c.state IN ('authorised', 'signed', 'sent', 'responded')
			  AND NOT (c.originator_eui = ? AND c.target_eui = ? AND c.counter = ?)
			  AND ` + cancelledAfter + `)
		ORDER BY r.party_id`

// PendingFutureDated returns the parties whose future-dated 6.23 requests
// are pending on device at now, each once, in name order; none when
// nothing is pending. Pending means it may still execute: it is due after
// now, it is not a cancellation, it went on past authorisation (authorised,
// signed, sent or responded, or failed once its command was handed on: a
// rejected, held or never sent request is not on the device), the device
// has not reported executing it (no execution alert, 8F66 or 8F67, was
// recorded for it: a quarantine's AD1 alert, stored with a request that
// was later released, says nothing about the device), and no cancellation
// for the device has been authorised that the device takes after it (it
// drops every pending command when it executes a cancellation). Not "the
// newest future-dated request": an executed, cancelled, never sent or
// rejected one owns nothing.
//
// asker is the cancellation asking, which does not count as cancelling
// what it is checked against: recovery re-authorises a cancellation that
// was already recorded.
func (db *DB) PendingFutureDated(ctx context.Context, device eui.EUI, asker RequestID, now time.Time) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, db.q(pendingFutureDatedSQL), euiArg(device), timeArg(now), AlertFutureDatedActioned, AlertFutureDatedNotActioned, euiArg(asker.Originator), euiArg(asker.Target), u64Arg(asker.Counter))
	if err != nil {
		return nil, fmt.Errorf("store: pending future-dated requests for %s: %w", device, err)
	}
	parties, err := scanAll(rows, func(rows *sql.Rows) (p string, err error) { return p, rows.Scan(&p) })
	if err != nil {
		return nil, fmt.Errorf("store: pending future-dated requests for %s: %w", device, err)
	}
	return parties, nil
}

// FutureDatedAt answers PendingFutureDated at the time Now gives, for
// callers (the authoriser) that ask without a time.
type FutureDatedAt struct {
	DB  *DB
	Now func() time.Time
}

// PendingFutureDated is DB.PendingFutureDated at Now().
func (f FutureDatedAt) PendingFutureDated(ctx context.Context, device eui.EUI, asker RequestID) ([]string, error) {
	return f.DB.PendingFutureDated(ctx, device, asker, f.Now())
}
