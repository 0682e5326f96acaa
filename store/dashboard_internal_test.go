package store

import (
	"strings"
	"testing"
	"time"
)

// TestDashboardUsesIndexes: on SQLite the dashboard's request views read
// one range of an index that holds every column they need, never the
// table: a request's row carries its signed document, and a month's are
// gigabytes.
func TestDashboardUsesIndexes(t *testing.T) {
	ctx := t.Context()
	db := migratedSQLite(t)
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	q := DashQuery{From: day, End: day.AddDate(0, 0, 30)}
	p := q
	p.Party = "SUP1"
	cases := []struct {
		st   reportStmt
		want string
	}{
		{trafficStmt(q), "SEARCH requests USING COVERING INDEX requests_dashboard (<expr>>? AND <expr><?)"},
		{trafficStmt(p), "SEARCH requests USING COVERING INDEX requests_dashboard (<expr>>? AND <expr><?)"},
		{refusalsStmt(q), "SEARCH requests USING COVERING INDEX requests_refused (<expr>>? AND <expr><?)"},
		{refusalsStmt(p), "SEARCH requests USING COVERING INDEX requests_refused (<expr>>? AND <expr><?)"},
	}
	// The MPID view reads the MPID report's index, where there is one
	// (the MPID report's migration).
	var mpidIndex int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'requests_mpid'`).Scan(&mpidIndex); err != nil {
		t.Fatal(err)
	}
	if mpidIndex == 1 {
		cases = append(cases, struct {
			st   reportStmt
			want string
		}{mpidStmt(q), "SEARCH r USING COVERING INDEX requests_mpid (<expr>>? AND <expr><?)"})
	}
	for _, tc := range cases {
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
			if strings.HasPrefix(detail, "SCAN ") || strings.HasPrefix(detail, "SEARCH ") {
				reads = append(reads, detail)
			}
		}
		rows.Close()
		if len(reads) < 1 || reads[0] != tc.want {
			t.Errorf("%s (party %q): plan %q, want %q", tc.st.what, tc.st.args[2:], reads, tc.want)
		}
	}
}
