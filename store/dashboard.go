package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DashCount is one cell of a dashboard view: how many rows fell on Day
// (zero when the view is not by day) under Key and Sub. Label names Key
// for people (a party's name) where the view has one.
type DashCount struct {
	Day      time.Time
	Key, Sub string
	Label    string
	N        int64
}

// DashQuery is the window a dashboard view counts: [From, End), whole
// UTC days, and optionally one party's rows only.
type DashQuery struct {
	From, End time.Time
	Party     string // "": every party
}

func (q DashQuery) check() error {
	if q.From.IsZero() || q.End.IsZero() || !q.From.Before(q.End) {
		return invalidf("dashboard: the window [%s, %s) is empty", q.From, q.End)
	}
	if !q.From.Equal(q.From.UTC().Truncate(24*time.Hour)) || !q.End.Equal(q.End.UTC().Truncate(24*time.Hour)) {
		return invalidf("dashboard: a window is whole UTC days")
	}
	return nil
}

// days are the window's bounds as day numbers (at_us / usPerDay): the
// requests' indexes lead with the day.
func (q DashQuery) days() []any {
	return []any{timeArg(q.From) / usPerDay, timeArg(q.End) / usPerDay}
}

// partyFilter is the SQL and argument that keep party's rows of col.
func (q DashQuery) partyFilter(col string) (string, []any) {
	if q.Party == "" {
		return "", nil
	}
	return " AND " + col + " = ?", []any{q.Party}
}

// requestDay is the day number of a request, as the requests' indexes
// (requests_dashboard, requests_refused, requests_mpid) spell it.
var requestDay = fmt.Sprintf("(received_at_us / %d)", usPerDay)

// DashboardTraffic counts the requests received in the window by UTC day
// and state.
func (db *DB) DashboardTraffic(ctx context.Context, q DashQuery) ([]DashCount, error) {
	return db.dashQuery(ctx, q, trafficStmt(q))
}

func trafficStmt(q DashQuery) reportStmt {
	f, fa := q.partyFilter("party_id")
	return reportStmt{"traffic", `SELECT ` + requestDay + `, state, '', '', COUNT(*) FROM requests
		WHERE ` + requestDay + ` >= ? AND ` + requestDay + ` < ?` + f + ` GROUP BY ` + requestDay + `, state`, append(q.days(), fa...)}
}

// DashboardRefusals counts the requests refused in the window by reason
// and DUIS response code.
func (db *DB) DashboardRefusals(ctx context.Context, q DashQuery) ([]DashCount, error) {
	return db.dashQuery(ctx, q, refusalsStmt(q))
}

func refusalsStmt(q DashQuery) reportStmt {
	f, fa := q.partyFilter("party_id")
	return reportStmt{"refusals", `SELECT -1, reason, response_code, '', COUNT(*) FROM requests
		WHERE state = 'rejected' AND ` + requestDay + ` >= ? AND ` + requestDay + ` < ?` + f + ` GROUP BY reason, response_code`, append(q.days(), fa...)}
}

// DashboardMPID counts the 6.23s received in the window whose MPID
// outcome was recorded, by party (with its name) and outcome (S, I, M).
func (db *DB) DashboardMPID(ctx context.Context, q DashQuery) ([]DashCount, error) {
	return db.dashQuery(ctx, q, mpidStmt(q))
}

// mpidStmt reads the MPID report's index (requests_mpid) when there is
// one: the same partial condition and day expression.
func mpidStmt(q DashQuery) reportStmt {
	f, fa := q.partyFilter("r.party_id")
	return reportStmt{"mpid", `SELECT -1, r.party_id, r.mpid_outcome, COALESCE(MAX(p.name), ''), COUNT(*)
		FROM requests r LEFT JOIN parties p ON p.party_id = r.party_id
		WHERE r.mpid_outcome <> '' AND ` + requestDay + ` >= ? AND ` + requestDay + ` < ?` + f + ` GROUP BY r.party_id, r.mpid_outcome`, append(q.days(), fa...)}
}

// DashboardHolds counts the requests quarantined in the window by UTC
// day of the hold, party and the hold's state (Sub) and breach (Label).
func (db *DB) DashboardHolds(ctx context.Context, q DashQuery) ([]DashCount, error) {
	f, fa := q.partyFilter("party_id")
	return db.dashQuery(ctx, q, reportStmt{"holds", fmt.Sprintf(`SELECT held_at_us / %[1]d, party_id, state, breach, COUNT(*) FROM quarantine
		WHERE held_at_us >= ? AND held_at_us < ?%[2]s GROUP BY held_at_us / %[1]d, party_id, state, breach`, usPerDay, f),
		append([]any{timeArg(q.From), timeArg(q.End)}, fa...)})
}

// ResponseBuckets are the upper bounds, in milliseconds, of the
// response-time buckets DashboardResponseTimes counts into; the last
// bucket is everything slower.
var ResponseBuckets = []int64{100, 250, 500, 1000, 2500, 5000, 10000}

// Command sources, in DashCount.Sub of DashboardResponseTimes and
// DashCount.Label of DashboardCommandOutcomes.
const (
	SourceRequest   = "request"   // a command serving a User's request (commands)
	SourceMigration = "migration" // the migration's own (migration_commands)
)

// DashboardResponseTimes counts the device commands sent in the window
// that a device answered, by how long it took (Key: the bucket's upper
// bound in ms, "" beyond the last) and by source (Sub).
func (db *DB) DashboardResponseTimes(ctx context.Context, q DashQuery) ([]DashCount, error) {
	bucket := func(took string) string {
		b := "CASE"
		for _, ms := range ResponseBuckets {
			b += fmt.Sprintf(" WHEN %s < %d THEN '%d'", took, ms*1000, ms)
		}
		return b + " ELSE '' END"
	}
	return db.dashQuery(ctx, q, reportStmt{"response times", `SELECT -1, bucket, src, '', COUNT(*) FROM (
		SELECT ` + bucket("responded_at_us - sent_at_us") + ` AS bucket, '` + SourceRequest + `' AS src FROM commands
			WHERE sent_at_us >= ? AND sent_at_us < ? AND responded_at_us IS NOT NULL
		UNION ALL
		SELECT ` + bucket("settled_at_us - sent_at_us") + `, '` + SourceMigration + `' FROM migration_commands
			WHERE sent_at_us >= ? AND sent_at_us < ? AND state = 'answered') t
		GROUP BY bucket, src`, window(q)})
}

// DashboardCommandOutcomes counts the device commands created in the
// window by state (Key), outcome (Sub: a failed command's is why) and
// source (Label).
func (db *DB) DashboardCommandOutcomes(ctx context.Context, q DashQuery) ([]DashCount, error) {
	return db.dashQuery(ctx, q, reportStmt{"command outcomes", `SELECT -1, state, outcome, src, COUNT(*) FROM (
		SELECT state, outcome, '` + SourceRequest + `' AS src FROM commands WHERE created_at_us >= ? AND created_at_us < ?
		UNION ALL
		SELECT state, outcome, '` + SourceMigration + `' FROM migration_commands WHERE created_at_us >= ? AND created_at_us < ?) t
		GROUP BY state, outcome, src`, window(q)})
}

// window is q's bounds twice, for a query over both command tables.
func window(q DashQuery) []any {
	return []any{timeArg(q.From), timeArg(q.End), timeArg(q.From), timeArg(q.End)}
}

// dashQuery runs a view's query: its columns are the day number (-1: not
// by day), Key, Sub, Label and the count.
func (db *DB) dashQuery(ctx context.Context, q DashQuery, st reportStmt) ([]DashCount, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, db.q(st.query), st.args...)
	var out []DashCount
	if err == nil {
		out, err = scanAll(rows, func(rows *sql.Rows) (DashCount, error) {
			var day int64
			var c DashCount
			err := rows.Scan(&day, &c.Key, &c.Sub, &c.Label, &c.N)
			if day >= 0 {
				c.Day = dayOf(day)
			}
			return c, err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: dashboard %s: %w", st.what, err)
	}
	return out, nil
}
