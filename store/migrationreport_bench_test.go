package store_test

import (
	"flag"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/store/storetest"
)

var reportDevices = flag.Int("store.report-devices", 100_000, "BenchmarkMigrationReport's fleet size")

// BenchmarkMigrationReport times one MigrationReport (every table, the
// supply chain included) over a fleet of -store.report-devices devices
// with about three moves each, on SQLite and (with ECOS_TEST_POSTGRES_DSN)
// PostgreSQL (docs/migration-reports.md, Figures):
//
//	go test -run '^$' -bench MigrationReport -benchtime 3x -timeout 60m ./store -args -store.report-devices=1000000
func BenchmarkMigrationReport(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		// The fleet is written with synchronous=NORMAL, which changes only
		// how long writing it takes.
		{"sqlite", func(tb testing.TB) *store.DB { return openSQLite(tb, "_pragma=synchronous(NORMAL)") }},
		{"postgres", openPostgres},
	} {
		b.Run(be.name, func(b *testing.B) { benchReport(b, be.open(b)) })
	}
}

func benchReport(b *testing.B, db *store.DB) {
	n := *reportDevices
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	fill := time.Now()
	storetest.BulkMigrationFleet(b, db, n, start)
	b.Logf("%d devices and their moves written in %s", n, time.Since(fill).Round(time.Second))
	q := store.ReportQuery{To: start.AddDate(0, 0, 90), GoLive: start.AddDate(-1, 0, 0)}
	var f store.MigrationFacts
	for b.Loop() {
		var err error
		if f, err = db.MigrationReport(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
	var total int64
	for _, c := range f.Inventory {
		total += c.Devices
	}
	if total != int64(n) || len(f.Moves) == 0 || len(f.SupplyChain) == 0 || f.From.After(start.AddDate(0, 0, 1)) {
		b.Fatalf("report of %d devices from %s: %d moves rows, %d supply rows", total, f.From, len(f.Moves), len(f.SupplyChain))
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/report")
}
