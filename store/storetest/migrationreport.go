package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

// The report fleet's days: moves on day 1 and day 3, none on day 2, and
// one on day 4, just past a range that ends on day 3.
var (
	reportDay1   = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	reportDay3   = reportDay1.AddDate(0, 0, 2)
	reportDay4   = reportDay1.AddDate(0, 0, 3)
	reportGoLive = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// reportFleet imports eight devices and moves seven of them (see the
// comments on each) so that every table of the report has a known answer.
func reportFleet(t *testing.T, open Opener) *store.DB {
	t.Helper()
	db := withSuppliers(t, open)
	ctx := ctxOf(t)
	inv := func(n uint32, cred store.Credential, make, model, fw, sup string, installed time.Time) store.InventoryDevice {
		d := invDevice(n)
		d.Credential, d.Manufacturer, d.Model, d.Firmware, d.ResponsibleSupplier, d.Installed = cred, make, model, fw, sup, installed
		if cred == store.CredentialUnknown {
			d.CredentialSKI = nil
		}
		return d
	}
	_, err := importInventory(t, db, []store.InventoryDevice{
		inv(1, store.CredentialTCoS, "Acme", "A1", "1.0", "SUP1", day(2023, 1, 1)),  // never moves
		inv(2, store.CredentialTCoS, "Acme", "A1", "1.0", "SUP1", day(2023, 7, 15)), // ecos on day 1
		inv(3, store.CredentialECoS, "Acme", "A2", "2.0", "SUP2", day(2023, 8, 3)),  // imported ecos
		inv(4, store.CredentialTCoS, "Gas", "G7", "0x10", "SUP2", day(2023, 8, 20)), // retry day 1, exception day 3
		inv(5, store.CredentialUnknown, "Acme", "A1", "1.0", "SUP1", reportGoLive),  // read back as tcos day 3
		inv(6, store.CredentialTCoS, "Acme", "A1", "1.0", "SUP2", reportGoLive),     // retry at the last µs of day 3, queued day 4
		inv(7, store.CredentialTCoS, "Gas", "G7", "0x10", "SUP1", day(2023, 5, 31)), // unknown, then exception on day 3
		inv(8, store.CredentialTCoS, "Gas", "G7", "0x10", "SUP1", time.Time{}),      // no install date, never moves
	})
	must(t, err)
	type step struct {
		to    store.MigrationState
		at    time.Time
		cause string
	}
	path := func(n uint32, from store.MigrationState, steps ...step) {
		for _, s := range steps {
			_, err := db.MoveDevice(ctx, store.Move{Device: eu(0x00, n), From: from, To: s.to, At: s.at, Cause: s.cause})
			must(t, err)
			from = s.to
		}
	}
	d1, d3 := reportDay1.Add(9*hour), reportDay3.Add(9*hour)
	path(2, store.MigrationTCoS, step{store.MigrationQueued, d1, "wave 1"}, step{store.MigrationSent, d1, "wave 1"},
		step{store.MigrationECoS, d1.Add(time.Minute), "response: ecos"})
	path(4, store.MigrationTCoS, step{store.MigrationQueued, d1, "wave 1"}, step{store.MigrationSent, d1, "wave 1"},
		step{store.MigrationRetryWait, d1.Add(time.Minute), "resourcesBusy (30)"}, step{store.MigrationQueued, d3, "retry 1"},
		step{store.MigrationSent, d3, "wave 1"}, step{store.MigrationException, d3.Add(time.Minute), "badCertificate (5)"})
	path(5, store.MigrationUnknown, step{store.MigrationTCoS, d3, "read-back: tcos"})
	path(6, store.MigrationTCoS, step{store.MigrationQueued, d3, "wave 2"}, step{store.MigrationSent, d3, "wave 2"},
		step{store.MigrationRetryWait, reportDay4.Add(-time.Microsecond), "no response"},
		step{store.MigrationQueued, reportDay4, "retry 1"})
	path(7, store.MigrationTCoS, step{store.MigrationQueued, d3, "wave 2"}, step{store.MigrationSent, d3, "wave 2"},
		step{store.MigrationUnknown, d3.Add(time.Minute), "response lost"},
		step{store.MigrationException, d3.Add(time.Hour), "read-back: cell holds 0102030405060708"})
	return db
}

// Every table of the report on a fleet with known moves: a device that
// never moved, a day with none, moves at both edges of the range.
func testMigrationReport(t *testing.T, open Opener) {
	db := reportFleet(t, open)
	f, err := db.MigrationReport(ctxOf(t), store.ReportQuery{From: reportDay1, To: reportDay3, GoLive: reportGoLive})
	must(t, err)
	if !f.From.Equal(reportDay1) || !f.To.Equal(reportDay3) {
		t.Errorf("range %s…%s", f.From, f.To)
	}
	ic := func(make, model, fw, sup string, s store.MigrationState, n int64) store.InventoryCount {
		return store.InventoryCount{Manufacturer: make, Model: model, Firmware: fw, Supplier: sup, State: s, Devices: n}
	}
	wantInv := []store.InventoryCount{
		ic("Acme", "A1", "1.0", "SUP1", store.MigrationECoS, 1), ic("Acme", "A1", "1.0", "SUP1", store.MigrationTCoS, 2),
		ic("Acme", "A1", "1.0", "SUP2", store.MigrationQueued, 1), ic("Acme", "A2", "2.0", "SUP2", store.MigrationECoS, 1),
		ic("Gas", "G7", "0x10", "SUP1", store.MigrationException, 1), ic("Gas", "G7", "0x10", "SUP1", store.MigrationTCoS, 1),
		ic("Gas", "G7", "0x10", "SUP2", store.MigrationException, 1),
	}
	if d := cmp.Diff(wantInv, f.Inventory); d != "" {
		t.Errorf("inventory (-want +got):\n%s", d)
	}
	if f.ECoSImported != 1 {
		t.Errorf("imported ecos %d, want 1", f.ECoSImported)
	}
	if d := cmp.Diff([]store.DayCount{{Day: reportDay1, N: 1}}, f.ECoSByDay); d != "" {
		t.Errorf("ecos by day (-want +got):\n%s", d)
	}
	dm := func(d time.Time, s store.MigrationState, n int64) store.DayMoves {
		return store.DayMoves{Day: d, To: s, Moves: n}
	}
	wantMoves := []store.DayMoves{
		dm(reportDay1, store.MigrationECoS, 1), dm(reportDay1, store.MigrationQueued, 2),
		dm(reportDay1, store.MigrationRetryWait, 1), dm(reportDay1, store.MigrationSent, 2),
		dm(reportDay3, store.MigrationException, 2), dm(reportDay3, store.MigrationQueued, 3),
		dm(reportDay3, store.MigrationRetryWait, 1), dm(reportDay3, store.MigrationSent, 3),
		dm(reportDay3, store.MigrationTCoS, 1), dm(reportDay3, store.MigrationUnknown, 1),
	}
	if d := cmp.Diff(wantMoves, f.Moves); d != "" {
		t.Errorf("moves (-want +got):\n%s", d)
	}
	rc := func(s store.MigrationState, reason string, n int64) store.ReasonCount {
		return store.ReasonCount{To: s, Reason: reason, N: n}
	}
	wantReasons := []store.ReasonCount{
		rc(store.MigrationException, "badCertificate", 1), rc(store.MigrationException, "read-back", 1),
		rc(store.MigrationRetryWait, "no response", 1), rc(store.MigrationRetryWait, "resourcesBusy", 1),
	}
	if d := cmp.Diff(wantReasons, f.Reasons); d != "" {
		t.Errorf("reasons (-want +got):\n%s", d)
	}
	wantExc := []store.ReasonCount{rc(store.MigrationException, "badCertificate", 1), rc(store.MigrationException, "read-back", 1)}
	if d := cmp.Diff(wantExc, f.Exceptions); d != "" {
		t.Errorf("exceptions (-want +got):\n%s", d)
	}
	wantSupply := []store.SupplyCount{
		{Manufacturer: "Acme", Supplier: "SUP2", Month: day(2023, 6, 1), Devices: 1},
		{Manufacturer: "Acme", Supplier: "SUP1", Month: day(2023, 7, 1), Devices: 1},
		{Manufacturer: "Gas", Supplier: "SUP2", Month: day(2023, 8, 1), Devices: 1},
	}
	if d := cmp.Diff(wantSupply, f.SupplyChain); d != "" {
		t.Errorf("supply chain (-want +got):\n%s", d)
	}

	// One day further takes in day 4's move, and nothing else changes.
	f4, err := db.MigrationReport(ctxOf(t), store.ReportQuery{From: reportDay1, To: reportDay4})
	must(t, err)
	if got := f4.Moves[len(f4.Moves)-1]; got != dm(reportDay4, store.MigrationQueued, 1) || len(f4.Moves) != len(wantMoves)+1 {
		t.Errorf("to day 4: moves %v", f4.Moves)
	}
	if f4.SupplyChain != nil {
		t.Errorf("supply chain without a go-live: %v", f4.SupplyChain)
	}
	// A range of the day with no moves.
	f2, err := db.MigrationReport(ctxOf(t), store.ReportQuery{From: reportDay1.AddDate(0, 0, 1), To: reportDay1.AddDate(0, 0, 1)})
	must(t, err)
	if len(f2.Moves) != 0 || len(f2.Reasons) != 0 || len(f2.ECoSByDay) != 1 || len(f2.Exceptions) != 2 {
		t.Errorf("day 2: %+v", f2)
	}
	// No From: from the first move's day.
	f0, err := db.MigrationReport(ctxOf(t), store.ReportQuery{To: reportDay4})
	must(t, err)
	if !f0.From.Equal(reportDay1) {
		t.Errorf("default from %s, want %s", f0.From, reportDay1)
	}
}

// An empty database: every table empty, the range one day; a bad range
// is refused.
func testMigrationReportEmpty(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	f, err := db.MigrationReport(ctx, store.ReportQuery{To: reportDay3, GoLive: reportGoLive})
	must(t, err)
	if !f.From.Equal(reportDay3) || f.Inventory != nil || f.Moves != nil || f.ECoSByDay != nil || f.SupplyChain != nil || f.ECoSImported != 0 {
		t.Errorf("empty database: %+v", f)
	}
	for _, q := range []store.ReportQuery{
		{From: reportDay3, To: reportDay1},
		{From: reportDay1, To: reportDay1.Add(time.Hour)},
		{From: reportDay1.Add(time.Second), To: reportDay3},
		{},
		{From: day(1990, 1, 1), To: reportDay3},
	} {
		if _, err := db.MigrationReport(ctx, q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%v…%v: err %v, want ErrInvalid", q.From, q.To, err)
		}
	}
}

// reasonOf is the reason rule of docs/migration-reports.md in Go: the
// cause's text up to the first " (" or ":", trailing spaces dropped.
func reasonOf(cause string) string {
	end := len(cause)
	if i := strings.Index(cause, " ("); i >= 0 {
		end = i
	}
	if i := strings.IndexByte(cause, ':'); i >= 0 && i < end {
		end = i
	}
	return strings.TrimRight(cause[:end], " ")
}

// The reasons SQL groups by agree with reasonOf on causes with
// both separators, in either order, none, and trailing spaces.
func testMigrationReportReasons(t *testing.T, open Opener) {
	db := withSuppliers(t, open)
	ctx := ctxOf(t)
	causes := []string{"resourcesBusy (30)", "resourcesBusy: still busy", "resourcesBusy", "no response", "not sent: dial tcp (refused)",
		"a (b: c)", "trailing  (1)", ": leading", " (leading)", "é: accents (x)", "attempts used up (5)", "operator: meter replaced",
		"x(y)", "odd:", "resourcesBusy (31)"}
	_, err := importInventory(t, db, invDevices(len(causes)))
	must(t, err)
	want := map[string]int64{}
	for i, c := range causes {
		want[reasonOf(c)]++
		d := eu(0x00, uint32(i+1))
		for _, m := range []store.Move{{From: store.MigrationTCoS, To: store.MigrationQueued}, {From: store.MigrationQueued, To: store.MigrationSent},
			{From: store.MigrationSent, To: store.MigrationRetryWait}} {
			m.Device, m.At, m.Cause = d, reportDay1.Add(time.Duration(i)*time.Second), "wave"
			if m.To == store.MigrationRetryWait {
				m.Cause = c
			}
			_, err := db.MoveDevice(ctx, m)
			must(t, err)
		}
	}
	f, err := db.MigrationReport(ctx, store.ReportQuery{From: reportDay1, To: reportDay1})
	must(t, err)
	got := map[string]int64{}
	for _, r := range f.Reasons {
		if r.To != store.MigrationRetryWait {
			t.Errorf("reason %+v", r)
		}
		got[r.Reason] += r.N
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reasons: SQL (+) against reasonOf (-):\n%s", d)
	}
	if want["resourcesBusy"] != 4 || want["a"] != 1 || want["trailing"] != 1 || want[""] != 2 {
		t.Errorf("reasonOf: %v", want)
	}
}

// BulkMigrationFleet writes n devices and a migration history for them
// straight into the database, for a benchmark of the reports at scale:
// half have reached ecos (three moves each), a tenth wait for a retry,
// a hundredth are in exception, and a tenth of those installed after
// goLive were TCoS. It goes through the inventory import and MoveDevices,
// in pages, as the orchestrator would.
func BulkMigrationFleet(tb testing.TB, db *store.DB, n int, start time.Time) {
	tb.Helper()
	ctx := tb.Context()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(db.ImportParties(ctx, []store.Party{supplier(1), supplier(2)}))
	makes := []string{"Acme", "Gas Co", "Metering Ltd", "Volt"}
	_, err := db.ImportInventory(ctx, &generated{n: n, f: func(i int) store.InventoryDevice {
		d := invDevice(uint32(i + 1))
		d.Manufacturer = makes[i%len(makes)]
		d.Model = fmt.Sprintf("M%d", i%7)
		d.Installed = start.AddDate(0, 0, -1000+i%1400)
		if i%5 == 0 {
			d.Credential = store.CredentialECoS
		}
		return d
	}}, nil)
	must(err)
	var moves []store.Move
	flush := func() {
		res, err := db.MoveDevices(ctx, moves)
		must(err)
		for _, r := range res {
			must(r.Err)
		}
		moves = moves[:0]
	}
	add := func(m store.Move) {
		if moves = append(moves, m); len(moves) == 999 {
			flush()
		}
	}
	for i := range n {
		if i%5 == 0 {
			continue // imported ecos
		}
		d := eu(0x00, uint32(i+1))
		at := start.Add(time.Duration(i%90) * 24 * time.Hour).Add(time.Duration(i%86400) * time.Second)
		add(store.Move{Device: d, From: store.MigrationTCoS, To: store.MigrationQueued, At: at, Cause: "wave 1"})
		add(store.Move{Device: d, From: store.MigrationQueued, To: store.MigrationSent, At: at, Cause: "wave 1", Counter: uint64(i + 1)})
		switch {
		case i%100 == 1:
			add(store.Move{Device: d, From: store.MigrationSent, To: store.MigrationException, At: at, Cause: "badCertificate (5)"})
		case i%10 == 2:
			add(store.Move{Device: d, From: store.MigrationSent, To: store.MigrationRetryWait, At: at, Cause: "resourcesBusy (30)"})
		case i%2 == 1:
			add(store.Move{Device: d, From: store.MigrationSent, To: store.MigrationECoS, At: at, Cause: "response: ecos"})
		default:
			add(store.Move{Device: d, From: store.MigrationSent, To: store.MigrationUnknown, At: at, Cause: "response lost"})
			add(store.Move{Device: d, From: store.MigrationUnknown, To: store.MigrationECoS, At: at, Cause: "read-back: ecos"})
		}
	}
	if len(moves) > 0 {
		flush()
	}
}

// generated is an InventorySource of n devices made by f.
type generated struct {
	n, i int
	f    func(int) store.InventoryDevice
}

func (g *generated) Next() (int, store.InventoryDevice, bool) {
	if g.i >= g.n {
		return 0, store.InventoryDevice{}, false
	}
	g.i++
	return g.i + 1, g.f(g.i - 1), true
}

func (g *generated) Err() error { return nil }
