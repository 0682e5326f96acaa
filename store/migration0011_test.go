package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// Migration 0011 adds the MPID report's index: requests recorded before it
// are counted after it; down drops the index and keeps the requests; on
// SQLite the month's grouping reads the index alone, in its order.
func TestMigration0011MPIDIndex(t *testing.T) {
	at := time.Date(2022, 10, 14, 9, 0, 0, 0, time.UTC)
	month := store.MPIDQuery{Month: time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)}
	eachBackendAt(t, 10, func(t *testing.T, s schemaAt) {
		ctx, db, raw := t.Context(), s.db, s.raw
		for i, outcome := range []string{"S", "I", "M"} {
			err := db.RecordRequest(ctx, store.Received{ID: store.RequestID{Originator: eui.EUI{0x70, 1}, Target: eui.EUI{0, 1}, Counter: uint64(i + 1)},
				At: at, Party: "P1", State: store.RequestAuthorised,
				MPID: &store.MPIDRecord{Outcome: outcome, Expected: "AAAA", SignerSerial: "0a01"}})
			if err != nil {
				t.Fatal(err)
			}
		}
		count := func() int64 {
			t.Helper()
			var n int64
			h, err := db.MPIDReport(ctx, month, func(r store.MPIDRow) error { n += r.Count; return nil })
			if err != nil || h.Total != n {
				t.Fatalf("report: total %d, rows %d, %v", h.Total, n, err)
			}
			return n
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate 10 -> 11: %v", err)
		}
		if n := count(); n != 3 {
			t.Fatalf("after 0011: %d requests counted, want 3", n)
		}
		if s.cfg.Driver != store.DriverPostgres {
			var plan strings.Builder
			rows, err := raw.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT (received_at_us / 86400000000), party_id, mpid_expected,
				signer_serial, mpid_outcome, COUNT(*) FROM requests
				WHERE mpid_outcome <> '' AND (received_at_us / 86400000000) >= 0 AND (received_at_us / 86400000000) < 1
				GROUP BY (received_at_us / 86400000000), party_id, mpid_expected, signer_serial, mpid_outcome`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan.WriteString(detail + "\n")
			}
			rows.Close()
			// One range of the index alone, in its order: no table, no sort.
			if !strings.Contains(plan.String(), "COVERING INDEX requests_mpid") || strings.Contains(plan.String(), "TEMP B-TREE") {
				t.Errorf("the month's query does not read requests_mpid alone, in order:\n%s", plan.String())
			}
		}
		if err := db.MigrateDownTo(ctx, 10); err != nil {
			t.Fatalf("migrate 11 -> 10: %v", err)
		}
		var n int
		if err := raw.QueryRowContext(ctx, "SELECT COUNT(*) FROM requests").Scan(&n); err != nil || n != 3 {
			t.Fatalf("requests after down: %d, %v", n, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate 10 -> 11 again: %v", err)
		}
		if n := count(); n != 3 {
			t.Fatalf("after down and up: %d requests counted, want 3", n)
		}
	})
}
