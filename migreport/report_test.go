package migreport

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

// facts is a Source that returns fixed facts, and remembers the query.
type facts struct {
	f store.MigrationFacts
	q store.ReportQuery
}

func (s *facts) MigrationReport(_ context.Context, q store.ReportQuery) (store.MigrationFacts, error) {
	s.q = q
	f := s.f
	f.To = q.To
	if f.From.IsZero() {
		f.From = cmp.Or(q.From, q.To) // as the store does without moves
	}
	return f, nil
}

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }

// small is a fleet of five devices: two imported on ECoS, three moved
// over three days (one day without moves).
func small() store.MigrationFacts {
	return store.MigrationFacts{
		From: d(2024, 1, 30),
		Inventory: []store.InventoryCount{
			{Manufacturer: "Acme", Model: "A1", Firmware: "1.0", Supplier: "SUP2", State: store.MigrationECoS, Devices: 2},
			{Manufacturer: "Acme", Model: "A1", Firmware: "1.0", Supplier: "SUP1", State: store.MigrationTCoS, Devices: 1},
			{Manufacturer: "Gas", Model: "G7", Firmware: "0x10", Supplier: "SUP1", State: store.MigrationECoS, Devices: 1},
			{Manufacturer: "Gas", Model: "G7", Firmware: "0x10", Supplier: "SUP1", State: store.MigrationException, Devices: 1},
		},
		ECoSImported: 2,
		ECoSByDay:    []store.DayCount{{Day: d(2023, 12, 1), N: 1}, {Day: d(2024, 1, 30), N: 1}, {Day: d(2024, 2, 1), N: 1}},
		Moves: []store.DayMoves{
			{Day: d(2024, 1, 30), To: store.MigrationECoS, Moves: 1}, {Day: d(2024, 1, 30), To: store.MigrationQueued, Moves: 2},
			{Day: d(2024, 2, 1), To: store.MigrationECoS, Moves: 1}, {Day: d(2024, 2, 1), To: store.MigrationException, Moves: 1},
		},
		Reasons:    []store.ReasonCount{{To: store.MigrationException, Reason: "badCertificate", N: 1}},
		Exceptions: []store.ReasonCount{{To: store.MigrationException, Reason: "badCertificate", N: 1}},
		SupplyChain: []store.SupplyCount{
			{Manufacturer: "Acme", Supplier: "SUP1", Month: d(2023, 11, 1), Devices: 4},
			{Manufacturer: "Gas", Supplier: "SUP1", Month: d(2023, 11, 1), Devices: 1},
			{Manufacturer: "Acme", Supplier: "SUP2", Month: d(2023, 12, 1), Devices: 2},
		},
	}
}

var smallOptions = Options{
	To:     d(2024, 2, 1),
	GoLive: d(2023, 11, 1),
	Plan:   []Target{{By: d(2023, 12, 31), ECoS: 2}, {By: d(2024, 1, 31), ECoS: 6}, {By: d(2024, 3, 1), ECoS: 35}},
	Now:    time.Date(2024, 2, 2, 10, 0, 0, 0, time.UTC),
}

func TestReportTables(t *testing.T) {
	src := &facts{f: small()}
	r, err := Make(t.Context(), src, smallOptions)
	if err != nil {
		t.Fatal(err)
	}
	if src.q != (store.ReportQuery{To: d(2024, 2, 1), GoLive: d(2023, 11, 1)}) {
		t.Errorf("query %+v", src.q)
	}
	if r.Devices != 5 || r.States[store.MigrationECoS] != 3 || r.States[store.MigrationQueued] != 0 {
		t.Errorf("devices %d, states %v", r.Devices, r.States)
	}
	// The day without moves is there, with zeros; the cumulative count
	// starts from the imported devices and every earlier day's moves.
	var cum []int64
	for _, day := range r.Daily {
		cum = append(cum, day.ECoS)
	}
	if d := gocmp.Diff([]int64{4, 4, 5}, cum); d != "" || len(r.Daily) != 3 || r.Daily[1].Moves[store.MigrationQueued] != 0 ||
		r.Daily[0].Moves[store.MigrationQueued] != 2 || r.Daily[1].Day != "2024-01-31" {
		t.Errorf("daily %+v", r.Daily)
	}
	if len(r.ByDeviceType) != 2 || r.ByDeviceType[0].Total != 3 || r.ByDeviceType[1].States[store.MigrationException] != 1 {
		t.Errorf("by device type %+v", r.ByDeviceType)
	}
	if len(r.BySupplier) != 2 || r.BySupplier[0].Supplier != "SUP1" || r.BySupplier[0].Total != 3 || r.BySupplier[1].Total != 2 {
		t.Errorf("by supplier %+v", r.BySupplier)
	}
	// Plan: the first two dates have actuals, the third is after the
	// report's day; today is interpolated between 31 Jan (6) and 1 Mar (35).
	p := r.Plan
	if p.Points[0].Actual == nil || *p.Points[0].Actual != 3 || *p.Points[0].Ahead != 1 || *p.Points[1].Actual != 4 ||
		*p.Points[1].Ahead != -2 || p.Points[2].Actual != nil {
		t.Errorf("plan points %+v", p.Points)
	}
	if want := (PlanToday{Day: "2024-02-01", Target: 7, Actual: 5, Ahead: -2}); p.Today != want {
		t.Errorf("plan today %+v, want %+v", p.Today, want)
	}
	s := r.SupplyChain
	if s.Devices != 7 || len(s.ByMonth) != 4 || s.ByMonth[2].Month != "2024-01" || s.ByMonth[2].Devices != 0 || s.Trend != TrendZero {
		t.Errorf("supply chain %+v", s)
	}
	if s.ByMaker[0] != (SupplyRow{Manufacturer: "Acme", Supplier: "SUP1", Devices: 4}) {
		t.Errorf("by maker %+v", s.ByMaker)
	}
}

func TestTargetOn(t *testing.T) {
	plan := []Target{{By: d(2023, 7, 31), ECoS: 1000}, {By: d(2023, 8, 31), ECoS: 1000}, {By: d(2023, 9, 30), ECoS: 4000}}
	for _, tc := range []struct {
		goLive, day time.Time
		want        int64
	}{
		{time.Time{}, d(2023, 7, 1), 0},    // before the plan, no go-live
		{d(2023, 7, 1), d(2023, 6, 30), 0}, // the day before go-live
		{d(2023, 7, 1), d(2023, 7, 1), 32}, // 1/31 of the way to 1000
		{d(2023, 7, 1), d(2023, 7, 31), 1000},
		{d(2023, 7, 1), d(2023, 8, 15), 1000}, // a flat stretch
		{d(2023, 7, 1), d(2023, 9, 15), 2500},
		{d(2023, 7, 1), d(2025, 1, 1), 4000}, // after the plan
		{d(2023, 8, 1), d(2023, 7, 15), 0},   // go-live after the first target: ignored
	} {
		if got := targetOn(plan, tc.goLive, tc.day); got != tc.want {
			t.Errorf("go-live %s, day %s: target %d, want %d", tc.goLive.Format(time.DateOnly), tc.day.Format(time.DateOnly), got, tc.want)
		}
	}
}

func TestTrend(t *testing.T) {
	to := d(2024, 3, 10)
	months := func(ns ...int64) []MonthCount {
		var out []MonthCount
		for i, n := range ns {
			m := d(2024, 1, 1).AddDate(0, i-len(ns)+3, 0)
			out = append(out, MonthCount{Month: m.Format("2006-01"), Devices: n, month: m})
		}
		return out
	}
	for _, tc := range []struct {
		months []MonthCount
		want   string
	}{
		{months(9, 5, 7), TrendFalling},    // Jan 9, Feb 5; March is not over
		{months(5, 9, 0), TrendNotFalling}, // rising
		{months(5, 5, 0), TrendNotFalling},
		{months(5, 0, 0), TrendZero},
		{months(5, 0, 1), TrendFalling}, // one added in March: not zero yet
		{months(0, 1), TrendTooEarly},   // only January is over… and February
		{months(4), TrendTooEarly},
		{months(0), TrendTooEarly},
	} {
		if got := trend(tc.months, to); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.months, got, tc.want)
		}
	}
}

func TestReportFormats(t *testing.T) {
	r, err := Make(t.Context(), &facts{f: small()}, smallOptions)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Migration report, 2024-01-30 to 2024-02-01 (UTC days), generated 2024-02-02T10:00:00Z",
		"  day         tcos  queued  sent  ecos  retry-wait  unknown  exception  excluded  ecos_cumulative\n  2024-01-30     0       2     0     1           0        0          0         0                4\n",
		"  exception  badCertificate      1\n",
		"  2024-02-01 (today, interpolated)       7       5     -2\n",
		"On 2024-02-01: on ECoS 5, against a target of 7: 2 behind plan (71.4% of target)",
		"  2024-01-31                             6       4     -2\n  2024-02-01 (today, interpolated)       7       5     -2\n  2024-03-01                            35       -      -\n",
		"monthly additions: zero",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"generated_at", "from", "to", "devices", "states", "daily", "by_device_type", "by_supplier", "failures", "plan", "supply_chain"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("JSON lacks %s", key)
		}
	}
	if !strings.Contains(js.String(), `"ecos_cumulative": 5`) || !strings.Contains(js.String(), `"actual": null`) {
		t.Errorf("JSON:\n%s", js.String())
	}
	var out bytes.Buffer
	if err := r.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	tables := map[string][][]string{}
	for _, block := range strings.Split(strings.TrimSuffix(out.String(), "\n\n"), "\n\n") {
		name, body, ok := strings.Cut(block, "\n")
		if !ok || !strings.HasPrefix(name, "# table ") {
			t.Fatalf("CSV block %q", block)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tables[strings.TrimPrefix(name, "# table ")] = recs
	}
	want := []string{"states", "daily", "by_device_type", "by_supplier", "failure_moves", "in_exception", "plan",
		"supply_chain_by_manufacturer", "supply_chain_by_month"}
	if len(tables) != len(want) {
		t.Errorf("CSV tables %v", tables)
	}
	for _, name := range want {
		if len(tables[name]) < 2 {
			t.Errorf("CSV table %s: %v", name, tables[name])
		}
	}
	if got := tables["daily"][3]; got[0] != "2024-02-01" || got[len(got)-1] != "5" {
		t.Errorf("CSV daily row %v", got)
	}
}

// A report of an empty fleet without plan or go-live: every table is
// there and empty, JSON arrays are [] (not null), charts still draw.
func TestReportEmpty(t *testing.T) {
	r, err := Make(t.Context(), &facts{}, Options{Now: d(2024, 2, 1).Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"by_device_type": []`, `"moves": []`, `"plan": null`, `"supply_chain": null`, `"from": "2024-02-01"`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, js.String())
		}
	}
	files, err := r.WriteCharts(t.TempDir())
	if err != nil || len(files) != 3 {
		t.Fatalf("charts %v, %v", files, err)
	}
	checkPNGs(t, files)
}

// The charts of a 90-day migration decode as PNGs of the size drawn.
// ECOS_CHARTS_DIR keeps them, to look at.
func TestCharts(t *testing.T) {
	dir := os.Getenv("ECOS_CHARTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	r := build(fleet(), Options{GoLive: d(2023, 6, 1), Now: d(2024, 3, 1),
		Plan: []Target{{By: d(2024, 1, 31), ECoS: 200_000}, {By: d(2024, 3, 31), ECoS: 2_000_000}, {By: d(2024, 6, 30), ECoS: 6_000_000}}})
	files, err := r.WriteCharts(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if d := gocmp.Diff([]string{ChartCumulative, ChartDailyMoves, ChartFailures, ChartSupplyChain}, names); d != "" {
		t.Errorf("charts (-want +got):\n%s", d)
	}
	checkPNGs(t, files)
}

func checkPNGs(t *testing.T, files []string) {
	t.Helper()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 600 {
			t.Errorf("%s: %dx%d, want 1200x600", name, b.Dx(), b.Dy())
		}
	}
}

// fleet is 90 days of a migration that speeds up, with failures, and a
// supply chain that slows down.
func fleet() store.MigrationFacts {
	from := d(2024, 1, 1)
	f := store.MigrationFacts{From: from, To: from.AddDate(0, 0, 89), ECoSImported: 20_000}
	for i := range 90 {
		day := from.AddDate(0, 0, i)
		if day.Weekday() == time.Sunday {
			continue
		}
		n := int64(1000 + i*400)
		f.ECoSByDay = append(f.ECoSByDay, store.DayCount{Day: day, N: n * 9 / 10})
		for s, m := range map[store.MigrationState]int64{store.MigrationQueued: n, store.MigrationSent: n + n/20,
			store.MigrationECoS: n * 9 / 10, store.MigrationRetryWait: n / 20, store.MigrationException: n / 50, store.MigrationUnknown: n / 100} {
			f.Moves = append(f.Moves, store.DayMoves{Day: day, To: s, Moves: m})
		}
	}
	f.Reasons = []store.ReasonCount{
		{To: store.MigrationException, Reason: "badCertificate", N: 4200}, {To: store.MigrationException, Reason: "read-back", N: 800},
		{To: store.MigrationException, Reason: "attempts used up", N: 1500}, {To: store.MigrationRetryWait, Reason: "resourcesBusy", N: 9000},
		{To: store.MigrationRetryWait, Reason: "no response", N: 3100}, {To: store.MigrationException, Reason: "noTrustAnchor", N: 90},
	}
	for i, n := range []int64{3400, 3000, 3100, 2500, 2200, 1800, 1500, 1100, 900, 500} {
		f.SupplyChain = append(f.SupplyChain, store.SupplyCount{Manufacturer: "Acme", Supplier: "SUP1", Month: d(2023, 6, 1).AddDate(0, i, 0), Devices: n})
	}
	f.Inventory = []store.InventoryCount{{Manufacturer: "Acme", Model: "A1", Firmware: "1", Supplier: "SUP1", State: store.MigrationTCoS, Devices: 1}}
	return f
}
