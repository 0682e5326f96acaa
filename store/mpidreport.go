package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MPIDQuery chooses what MPIDReport reads.
type MPIDQuery struct {
	// Month is the first instant (midnight UTC) of the UTC calendar month
	// whose 6.23 requests are counted, by the time they were received.
	Month time.Time
	// Party, if not empty, is the SEC Party ID the report is for: nothing
	// of any other party is read. It must be a known party.
	Party string
}

// MPIDRow is one row of the MPID report's daily detail table: how many
// requests of one party, expected MPID and signing certificate had one
// outcome on one UTC day.
type MPIDRow struct {
	PartyID, PartyName string
	MPID               string // the expected MPID (product.md §3)
	SignerSerial       string // the signing certificate's serial, as recorded
	Day                time.Time
	Outcome            string // S, I or M
	Count              int64
}

// MPIDHeadline is the month's headline figures (docs/mpid-reports.md).
// Only requests with an MPID outcome recorded (they reached step 8) count.
type MPIDHeadline struct {
	Parties            int64 // distinct parties sending 6.23
	PartiesAllSuccess  int64 // parties whose every outcome is S
	PartiesWithMissing int64 // parties with at least one M
	Total              int64 // S + I + M
	Correct            int64 // S
	Incorrect          int64 // I
	Missing            int64 // M
	MPIDs              int64 // distinct expected MPIDs
	MPIDsOnlyCorrect   int64 // MPIDs whose every outcome is S
	MPIDsWithIncorrect int64 // MPIDs with at least one I
	MPIDsWithMissing   int64 // MPIDs with at least one M
	// NoneSent is every party registered as supplier for at least one
	// MPxN at the month's last instant that sent no counted 6.23 in the
	// month, with how many; ordered by party ID.
	NoneSent []PartyMeters
}

// PartyMeters is a party and the MPxNs it is registered supplier for.
type PartyMeters struct {
	PartyID, PartyName string
	Meters             int64
}

// MPIDReport reads a month's MPID report in one read-only transaction:
// the headline figures, returned, and the detail rows, each handed to row
// as it is read, ordered by day, party ID, MPID, certificate serial and
// outcome (S, I, M). Everything is counted by the database (GROUP BY,
// over the requests_mpid index): memory does not grow with the requests.
// An unknown q.Party wraps ErrNotFound.
func (db *DB) MPIDReport(ctx context.Context, q MPIDQuery, row func(MPIDRow) error) (MPIDHeadline, error) {
	m := q.Month.UTC()
	if q.Month.IsZero() || !m.Equal(time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, time.UTC)) {
		return MPIDHeadline{}, invalidf("an MPID report's month starts at midnight UTC on its first day, not %s", m)
	}
	r := mpidRange{from: timeArg(m) / usPerDay, to: timeArg(m.AddDate(0, 1, 0)) / usPerDay, party: q.Party}
	var h MPIDHeadline
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if q.Party != "" {
			var name string
			err := tx.QueryRowContext(ctx, db.q(`SELECT name FROM parties WHERE party_id = ?`), q.Party).Scan(&name)
			if err == sql.ErrNoRows {
				return fmt.Errorf("%w: no SEC party %q", ErrNotFound, q.Party)
			}
			if err != nil {
				return fmt.Errorf("store: MPID report: party: %w", err)
			}
		}
		var err error
		if h, err = db.mpidHeadline(ctx, tx, r); err != nil {
			return err
		}
		if h.NoneSent, err = db.mpidNoneSent(ctx, tx, r); err != nil {
			return err
		}
		return db.mpidRows(ctx, tx, r, row)
	})
	if err != nil {
		return MPIDHeadline{}, err
	}
	return h, nil
}

// mpidRange is the month's requests with an outcome, as SQL: the
// partial index requests_mpid's condition and its first column, written
// as they are there so that both planners read the month as one range of
// it, already in the order the report groups by.
type mpidRange struct {
	from, to int64 // UTC day numbers, [from, to)
	party    string
}

// mpidDay is a request's UTC day number, requests_mpid's first column.
const mpidDay = "(received_at_us / 86400000000)"

func (r mpidRange) where() (string, []any) {
	w := "mpid_outcome <> '' AND " + mpidDay + " >= ? AND " + mpidDay + " < ?"
	args := []any{r.from, r.to}
	if r.party != "" {
		w += " AND party_id = ?"
		args = append(args, r.party)
	}
	return w, args
}

// mpidGroups is the detail: the month grouped by day, party, MPID, serial
// and outcome, in requests_mpid's order.
func (r mpidRange) groups() (string, []any) {
	where, args := r.where()
	return `SELECT ` + mpidDay + ` AS d, party_id, mpid_expected, signer_serial, mpid_outcome, COUNT(*) AS n
		FROM requests WHERE ` + where + `
		GROUP BY ` + mpidDay + `, party_id, mpid_expected, signer_serial, mpid_outcome`, args
}

// countIf is the requests of the detail groups whose outcome is o, as a
// bigint in both dialects (PostgreSQL's SUM of bigint is numeric).
func countIf(o string) string {
	return "CAST(SUM(CASE WHEN mpid_outcome = '" + o + "' THEN n ELSE 0 END) AS BIGINT)"
}

// mpidHeadline counts every figure but NoneSent in one statement: the
// detail groups regrouped by party and MPID, then those by party and by
// MPID.
func (db *DB) mpidHeadline(ctx context.Context, tx *sql.Tx, r mpidRange) (MPIDHeadline, error) {
	groups, args := r.groups()
	query := `WITH d AS (` + groups + `),
		g AS (SELECT party_id, mpid_expected, ` + countIf("S") + ` AS s, ` + countIf("I") + ` AS i, ` + countIf("M") + ` AS m
			FROM d GROUP BY party_id, mpid_expected),
		p AS (SELECT party_id, SUM(i) AS i, SUM(m) AS m FROM g GROUP BY party_id),
		x AS (SELECT mpid_expected, SUM(i) AS i, SUM(m) AS m FROM g GROUP BY mpid_expected)
		SELECT (SELECT COUNT(*) FROM p), (SELECT COUNT(*) FROM p WHERE i = 0 AND m = 0), (SELECT COUNT(*) FROM p WHERE m > 0),
			(SELECT CAST(COALESCE(SUM(s), 0) AS BIGINT) FROM g), (SELECT CAST(COALESCE(SUM(i), 0) AS BIGINT) FROM g),
			(SELECT CAST(COALESCE(SUM(m), 0) AS BIGINT) FROM g),
			(SELECT COUNT(*) FROM x), (SELECT COUNT(*) FROM x WHERE i = 0 AND m = 0), (SELECT COUNT(*) FROM x WHERE i > 0),
			(SELECT COUNT(*) FROM x WHERE m > 0)`
	var h MPIDHeadline
	err := tx.QueryRowContext(ctx, db.q(query), args...).Scan(&h.Parties, &h.PartiesAllSuccess, &h.PartiesWithMissing,
		&h.Correct, &h.Incorrect, &h.Missing, &h.MPIDs, &h.MPIDsOnlyCorrect, &h.MPIDsWithIncorrect, &h.MPIDsWithMissing)
	if err != nil {
		return h, fmt.Errorf("store: MPID report: headline: %w", err)
	}
	h.Total = h.Correct + h.Incorrect + h.Missing
	return h, nil
}

// mpidNoneSent counts the MPxNs each party is registered supplier for at
// the month's last microsecond ([from, to) periods: from before the
// month's end, to at or after it), keeping the parties that sent nothing
// counted in the month: one scan of registrations, one of the month.
func (db *DB) mpidNoneSent(ctx context.Context, tx *sql.Tx, r mpidRange) ([]PartyMeters, error) {
	last := r.to*usPerDay - 1
	sent, sentArgs := r.where()
	supplier, args := "", []any{last, last}
	if r.party != "" {
		supplier, args = " AND supplier_party_id = ?", append(args, r.party)
	}
	args = append(args, sentArgs...)
	query := `SELECT m.party_id, COALESCE(p.name, ''), m.meters FROM (
			SELECT supplier_party_id AS party_id, COUNT(DISTINCT mpxn) AS meters FROM registrations
			WHERE effective_from_us <= ? AND (effective_to_us IS NULL OR effective_to_us > ?)` + supplier + `
			GROUP BY supplier_party_id) m
		LEFT JOIN parties p ON p.party_id = m.party_id
		WHERE m.party_id NOT IN (SELECT DISTINCT party_id FROM requests WHERE ` + sent + `)
		ORDER BY m.party_id` + db.byteOrder()
	rows, err := tx.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: MPID report: parties sending none: %w", err)
	}
	out, err := scanAll(rows, func(rows *sql.Rows) (PartyMeters, error) {
		var pm PartyMeters
		return pm, rows.Scan(&pm.PartyID, &pm.PartyName, &pm.Meters)
	})
	if err != nil {
		return nil, fmt.Errorf("store: MPID report: parties sending none: %w", err)
	}
	return out, nil
}

// byteOrder makes an ORDER BY on text compare bytes, as SQLite does: the
// report's order is the same on both databases.
func (db *DB) byteOrder() string {
	if db.d.name == DriverPostgres {
		return ` COLLATE "C"`
	}
	return ""
}

// mpidRows streams the detail groups, joined to the parties' names.
func (db *DB) mpidRows(ctx context.Context, tx *sql.Tx, r mpidRange, row func(MPIDRow) error) error {
	groups, args := r.groups()
	c := db.byteOrder()
	query := `SELECT g.d, g.party_id, COALESCE(p.name, ''), g.mpid_expected, g.signer_serial, g.mpid_outcome, g.n
		FROM (` + groups + `) g
		LEFT JOIN parties p ON p.party_id = g.party_id
		ORDER BY g.d, g.party_id` + c + `, g.mpid_expected` + c + `, g.signer_serial` + c + `,
			CASE g.mpid_outcome WHEN 'S' THEN 0 WHEN 'I' THEN 1 ELSE 2 END`
	rows, err := tx.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return fmt.Errorf("store: MPID report: detail: %w", err)
	}
	err = scanEach(rows, func(rows *sql.Rows) (MPIDRow, error) {
		var d int64
		var m MPIDRow
		err := rows.Scan(&d, &m.PartyID, &m.PartyName, &m.MPID, &m.SignerSerial, &m.Outcome, &m.Count)
		m.Day = dayOf(d)
		return m, err
	}, row)
	return walkError("MPID report: detail", err)
}
