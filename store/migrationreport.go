package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReportQuery chooses what MigrationReport reads.
type ReportQuery struct {
	// From and To are UTC days (midnight), both inclusive: the moves of
	// those days are counted. A zero From is the day of the first move
	// recorded, or To when there is none.
	From, To time.Time
	// GoLive is the go-live day: devices installed on or after it are the
	// supply chain. Zero: SupplyChain is not read.
	GoLive time.Time
}

// MigrationFacts is what the migration reports are made of, read in one
// snapshot. Every slice is counted by the database (GROUP BY): its length
// grows with days, states, makes and reasons, never with devices.
type MigrationFacts struct {
	From, To time.Time // the days read, From resolved
	// Inventory is every device now, counted by make, supplier and state.
	Inventory []InventoryCount
	// ECoSImported counts the devices in ecos that never moved: imported
	// as ecos. With ECoSByDay it gives the devices in ecos at any day's end
	// (ecos is final: a device that entered it stays).
	ECoSImported int64
	// ECoSByDay counts the moves into ecos per day, every day there was
	// one, oldest first, whatever From and To.
	ECoSByDay []DayCount
	// Moves counts the moves into each state per day of From…To, the
	// non-zero ones, by day then state.
	Moves []DayMoves
	// Reasons counts the moves of From…To into exception and retry-wait
	// by reason: the cause's text up to the first " (" or ":", trailing
	// spaces dropped ("resourcesBusy (30)" and "resourcesBusy: still busy"
	// are resourcesBusy, "operator: meter replaced" is operator).
	Reasons []ReasonCount
	// Exceptions counts the devices now in exception by the reason of
	// their move into it.
	Exceptions []ReasonCount
	// SupplyChain counts the devices installed on or after GoLive whose
	// credential at import was tcos: the state before their first move,
	// or their state if they never moved.
	SupplyChain []SupplyCount
}

// InventoryCount is how many devices of one make and supplier are in one
// state.
type InventoryCount struct {
	Manufacturer, Model, Firmware string
	Supplier                      string // responsible supplier's SEC Party ID
	State                         MigrationState
	Devices                       int64
}

// DayCount is a count for one UTC day.
type DayCount struct {
	Day time.Time
	N   int64
}

// DayMoves is how many moves entered one state on one UTC day.
type DayMoves struct {
	Day   time.Time
	To    MigrationState
	Moves int64
}

// ReasonCount is how many moves into (or devices in) To had one reason.
type ReasonCount struct {
	To     MigrationState
	Reason string
	N      int64
}

// SupplyCount is how many TCoS-credentialed devices of one manufacturer
// and supplier were installed in one month after go-live.
type SupplyCount struct {
	Manufacturer, Supplier string
	Month                  time.Time // its first day
	Devices                int64
}

// usPerDay is the length of a UTC day in the *_us columns: day numbers are
// at_us / usPerDay in both dialects (integer division).
const usPerDay = 86_400_000_000

// maxReportDays bounds From…To.
const maxReportDays = 3660

func dayOf(n int64) time.Time { return time.UnixMicro(n * usPerDay).UTC() }

// MigrationReport reads the facts of the migration reports in one
// read-only transaction, so that every table agrees with the others.
func (db *DB) MigrationReport(ctx context.Context, q ReportQuery) (MigrationFacts, error) {
	if q.To.IsZero() || !q.To.Equal(q.To.UTC().Truncate(24*time.Hour)) ||
		(!q.From.IsZero() && !q.From.Equal(q.From.UTC().Truncate(24*time.Hour))) {
		return MigrationFacts{}, invalidf("a report's range is whole UTC days")
	}
	var f MigrationFacts
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		r := reportReader{db: db, tx: tx}
		f.From, f.To = q.From, q.To
		if f.From.IsZero() {
			first, err := r.firstMove(ctx)
			if err != nil {
				return err
			}
			f.From = f.To
			if !first.IsZero() && first.Before(f.To) {
				f.From = first
			}
		}
		if f.From.After(f.To) {
			return invalidf("the report's range starts %s, after its end %s", f.From.Format(time.DateOnly), f.To.Format(time.DateOnly))
		}
		if days := f.To.Sub(f.From).Hours()/24 + 1; days > maxReportDays {
			return invalidf("a report of %.0f days (at most %d)", days, maxReportDays)
		}
		end := f.To.AddDate(0, 0, 1)
		var err error
		if f.Inventory, err = r.inventory(ctx); err != nil {
			return err
		}
		if f.ECoSImported, f.ECoSByDay, err = r.ecos(ctx); err != nil {
			return err
		}
		if f.Moves, err = r.moves(ctx, f.From, end); err != nil {
			return err
		}
		if f.Reasons, err = reportQuery(ctx, r, r.reasonsStmt(f.From, end), scanReason); err != nil {
			return err
		}
		if f.Exceptions, err = reportQuery(ctx, r, r.exceptionsStmt(), scanReason); err != nil {
			return err
		}
		if !q.GoLive.IsZero() {
			if f.SupplyChain, err = r.supplyChain(ctx, q.GoLive); err != nil {
				return err
			}
		}
		return nil
	})
	f.sort()
	if err != nil {
		return MigrationFacts{}, err
	}
	return f, nil
}

// sort puts every table in one order, in Go: the databases' collations
// differ.
func (f *MigrationFacts) sort() {
	slices.SortFunc(f.Inventory, func(a, b InventoryCount) int {
		return cmp.Or(cmp.Compare(a.Manufacturer, b.Manufacturer), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Firmware, b.Firmware),
			cmp.Compare(a.Supplier, b.Supplier), cmp.Compare(a.State, b.State))
	})
	slices.SortFunc(f.ECoSByDay, func(a, b DayCount) int { return a.Day.Compare(b.Day) })
	slices.SortFunc(f.Moves, func(a, b DayMoves) int { return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.To, b.To)) })
	byCount := func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(a.To, b.To), cmp.Compare(b.N, a.N), cmp.Compare(a.Reason, b.Reason))
	}
	slices.SortFunc(f.Reasons, byCount)
	slices.SortFunc(f.Exceptions, byCount)
	slices.SortFunc(f.SupplyChain, func(a, b SupplyCount) int {
		return cmp.Or(a.Month.Compare(b.Month), cmp.Compare(a.Manufacturer, b.Manufacturer), cmp.Compare(a.Supplier, b.Supplier))
	})
}

// reportReader runs the report's queries in one transaction.
type reportReader struct {
	db *DB
	tx *sql.Tx
}

// reportStmt is one of the report's queries, as run: its text, with ?
// placeholders, and its arguments.
type reportStmt struct {
	what  string
	query string
	args  []any
}

// reportQuery runs st and scans each row with scan.
func reportQuery[T any](ctx context.Context, r reportReader, st reportStmt, scan func(*sql.Rows) (T, error)) ([]T, error) {
	rows, err := r.tx.QueryContext(ctx, r.db.q(st.query), st.args...)
	if err != nil {
		return nil, fmt.Errorf("store: migration report: %s: %w", st.what, err)
	}
	out, err := scanAll(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("store: migration report: %s: %w", st.what, err)
	}
	return out, nil
}

// firstMoveStmt finds the time of the first move: the first entry of each
// state's part of migration_history_to, one row read per state.
func firstMoveStmt() reportStmt {
	parts := make([]string, len(MigrationStates))
	args := make([]any, len(MigrationStates))
	for i, s := range MigrationStates {
		parts[i] = "SELECT (SELECT at_us FROM migration_history WHERE to_state = ? ORDER BY at_us LIMIT 1) AS m"
		args[i] = string(s)
	}
	return reportStmt{"first move", "SELECT MIN(m) FROM (" + strings.Join(parts, " UNION ALL ") + ") firsts", args}
}

// firstMove is the day of the first move recorded, zero if none.
func (r reportReader) firstMove(ctx context.Context) (time.Time, error) {
	first, err := reportQuery(ctx, r, firstMoveStmt(), func(rows *sql.Rows) (sql.NullInt64, error) {
		var v sql.NullInt64
		return v, rows.Scan(&v)
	})
	if err != nil || len(first) != 1 || !first[0].Valid {
		return time.Time{}, err
	}
	return dayOf(first[0].Int64 / usPerDay), nil
}

func inventoryStmt() reportStmt {
	return reportStmt{"inventory", `SELECT manufacturer, model, firmware, responsible_party_id, migration_state, COUNT(*)
		FROM devices GROUP BY manufacturer, model, firmware, responsible_party_id, migration_state`, nil}
}

func (r reportReader) inventory(ctx context.Context) ([]InventoryCount, error) {
	return reportQuery(ctx, r, inventoryStmt(), func(rows *sql.Rows) (InventoryCount, error) {
		var c InventoryCount
		return c, rows.Scan(&c.Manufacturer, &c.Model, &c.Firmware, &c.Supplier, &c.State, &c.Devices)
	})
}

// importedECoSStmt counts the devices in ecos that never moved, through
// devices_migration_state.
func importedECoSStmt() reportStmt {
	return reportStmt{"imported ecos", `SELECT COUNT(*) FROM devices WHERE migration_state = ? AND migration_seq = 0`,
		[]any{string(MigrationECoS)}}
}

// ecosByDayStmt counts the moves into ecos per day: the ecos part of
// migration_history_to.
func ecosByDayStmt() reportStmt {
	return reportStmt{"ecos by day", fmt.Sprintf(`SELECT at_us / %[1]d, COUNT(*) FROM migration_history
		WHERE to_state = ? GROUP BY at_us / %[1]d`, usPerDay), []any{string(MigrationECoS)}}
}

func (r reportReader) ecos(ctx context.Context) (int64, []DayCount, error) {
	imported, err := reportQuery(ctx, r, importedECoSStmt(), func(rows *sql.Rows) (int64, error) {
		var n int64
		return n, rows.Scan(&n)
	})
	if err != nil {
		return 0, nil, err
	}
	days, err := reportQuery(ctx, r, ecosByDayStmt(), func(rows *sql.Rows) (DayCount, error) {
		var day int64
		var c DayCount
		err := rows.Scan(&day, &c.N)
		c.Day = dayOf(day)
		return c, err
	})
	return imported[0], days, err
}

// movesStmt counts the moves of [from, end) per day and state: one range
// of migration_history_to per state.
func movesStmt(from, end time.Time) reportStmt {
	args := []any{}
	for _, s := range MigrationStates {
		args = append(args, string(s))
	}
	args = append(args, timeArg(from), timeArg(end))
	return reportStmt{"moves", fmt.Sprintf(`SELECT at_us / %[1]d, to_state, COUNT(*) FROM migration_history
		WHERE to_state IN (%[2]s) AND at_us >= ? AND at_us < ?
		GROUP BY at_us / %[1]d, to_state`, usPerDay, placeholders(len(MigrationStates))), args}
}

func (r reportReader) moves(ctx context.Context, from, end time.Time) ([]DayMoves, error) {
	return reportQuery(ctx, r, movesStmt(from, end), func(rows *sql.Rows) (DayMoves, error) {
		var day int64
		var m DayMoves
		err := rows.Scan(&day, &m.To, &m.Moves)
		m.Day = dayOf(day)
		return m, err
	})
}

// reasonSQL is the reason of the cause in the text column col.
func (r reportReader) reasonSQL(col string) string {
	pos := "instr"
	if r.db.d.name == DriverPostgres {
		pos = "strpos"
	}
	paren := fmt.Sprintf("%s(%s, ' (')", pos, col)
	colon := fmt.Sprintf("%s(%s, ':')", pos, col)
	return fmt.Sprintf(`rtrim(CASE WHEN %[1]s > 0 AND (%[2]s = 0 OR %[1]s < %[2]s) THEN substr(%[3]s, 1, %[1]s - 1)
		WHEN %[2]s > 0 THEN substr(%[3]s, 1, %[2]s - 1) ELSE %[3]s END)`, paren, colon, col)
}

func scanReason(rows *sql.Rows) (ReasonCount, error) {
	var c ReasonCount
	return c, rows.Scan(&c.To, &c.Reason, &c.N)
}

// reasonsStmt counts the moves of [from, end) into exception and
// retry-wait by reason: two ranges of migration_history_to.
func (r reportReader) reasonsStmt(from, end time.Time) reportStmt {
	return reportStmt{"failure reasons", `SELECT to_state, ` + r.reasonSQL("cause") + `, COUNT(*) FROM migration_history
		WHERE to_state IN (?, ?) AND at_us >= ? AND at_us < ? GROUP BY 1, 2`,
		[]any{string(MigrationException), string(MigrationRetryWait), timeArg(from), timeArg(end)}}
}

// exceptionsStmt joins each device in exception (devices_migration_state)
// to its last move, the one into exception (seq = migration_seq), by the
// history's primary key.
func (r reportReader) exceptionsStmt() reportStmt {
	return reportStmt{"exceptions", `SELECT d.migration_state, COALESCE(` + r.reasonSQL("h.cause") + `, ''), COUNT(*)
		FROM devices d LEFT JOIN migration_history h ON h.device_eui = d.device_eui AND h.seq = d.migration_seq
		WHERE d.migration_state = ? GROUP BY 1, 2`, []any{string(MigrationException)}}
}

// supplyChainStmt counts the devices installed on or after goLive whose
// state before their first move (or now, if none) is tcos, joining each
// one's first history row by primary key.
func (r reportReader) supplyChainStmt(goLive time.Time) reportStmt {
	month := "strftime('%Y-%m', d.installed_us / 1000000, 'unixepoch')"
	if r.db.d.name == DriverPostgres {
		month = "to_char(to_timestamp(d.installed_us / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM')"
	}
	return reportStmt{"supply chain", `SELECT d.manufacturer, d.responsible_party_id, ` + month + `, COUNT(*)
		FROM devices d LEFT JOIN migration_history h ON h.device_eui = d.device_eui AND h.seq = 1
		WHERE d.installed_us >= ? AND COALESCE(h.from_state, d.migration_state) = ?
		GROUP BY 1, 2, 3`, []any{timeArg(goLive), string(MigrationTCoS)}}
}

func (r reportReader) supplyChain(ctx context.Context, goLive time.Time) ([]SupplyCount, error) {
	return reportQuery(ctx, r, r.supplyChainStmt(goLive), func(rows *sql.Rows) (SupplyCount, error) {
		var c SupplyCount
		var month string
		if err := rows.Scan(&c.Manufacturer, &c.Supplier, &month, &c.Devices); err != nil {
			return c, err
		}
		var err error
		c.Month, err = time.Parse("2006-01", month)
		return c, err
	})
}
