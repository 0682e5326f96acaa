package store

import (
	"strings"
	"testing"
	"time"
)

// TestMigrationReportUsesIndexes: on SQLite, the report's queries of the
// history read migration_history_to by state and range (never the whole
// table), and the devices in exception come through
// devices_migration_state: at 30 million devices and 100 million moves
// a table scan of either would be the report's whole cost.
func TestMigrationReportUsesIndexes(t *testing.T) {
	ctx := t.Context()
	db := migratedSQLite(t)
	r := reportReader{db: db}
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	first := make([]string, len(MigrationStates))
	for i := range first {
		first[i] = "SEARCH migration_history USING COVERING INDEX migration_history_to (to_state=?)"
	}
	for _, tc := range []struct {
		st   reportStmt
		want []string // each step of the plan that reads a table
	}{
		{firstMoveStmt(), first},
		{ecosByDayStmt(), []string{"SEARCH migration_history USING COVERING INDEX migration_history_to (to_state=?)"}},
		{movesStmt(day, day.AddDate(0, 0, 1)), []string{"SEARCH migration_history USING COVERING INDEX migration_history_to (to_state=? AND at_us>? AND at_us<?)"}},
		{r.reasonsStmt(day, day.AddDate(0, 0, 1)), []string{"SEARCH migration_history USING INDEX migration_history_to (to_state=? AND at_us>? AND at_us<?)"}},
		{importedECoSStmt(), []string{"SEARCH devices USING INDEX devices_migration_state (migration_state=?)"}},
		{r.exceptionsStmt(), []string{"SEARCH d USING INDEX devices_migration_state (migration_state=?)",
			"SEARCH h USING PRIMARY KEY (device_eui=? AND seq=?)"}},
		{r.supplyChainStmt(day), []string{"SCAN d", "SEARCH h USING PRIMARY KEY (device_eui=? AND seq=?)"}},
	} {
		rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.st.query, tc.st.args...)
		if err != nil {
			t.Fatal(err)
		}
		var reads []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			// The first move's subquery ("firsts") and its constant rows are not tables.
			if (strings.HasPrefix(detail, "SCAN ") || strings.HasPrefix(detail, "SEARCH ")) && !strings.Contains(detail, "firsts") && detail != "SCAN CONSTANT ROW" {
				reads = append(reads, detail)
			}
		}
		rows.Close()
		if len(reads) != len(tc.want) {
			t.Errorf("%s: plan %q, want %q", tc.st.what, reads, tc.want)
			continue
		}
		for i := range reads {
			if !strings.HasPrefix(reads[i], tc.want[i]) {
				t.Errorf("%s: plan %q, want %q", tc.st.what, reads, tc.want)
				break
			}
		}
	}
}
