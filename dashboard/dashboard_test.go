package dashboard

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

var now = time.Date(2026, 11, 30, 15, 4, 5, 0, time.UTC)

// fakeSource answers every view with a little data and records the
// queries asked.
type fakeSource struct{ asked []store.DashQuery }

func (f *fakeSource) day(n int) time.Time { return now.Truncate(24*time.Hour).AddDate(0, 0, -n) }

func (f *fakeSource) DashboardTraffic(_ context.Context, q store.DashQuery) ([]store.DashCount, error) {
	f.asked = append(f.asked, q)
	return []store.DashCount{{Day: f.day(0), Key: "responded", N: 5}, {Day: f.day(1), Key: "rejected", N: 2}, {Day: f.day(1), Key: "responded", N: 3}}, nil
}

func (f *fakeSource) DashboardRefusals(_ context.Context, q store.DashQuery) ([]store.DashCount, error) {
	f.asked = append(f.asked, q)
	return []store.DashCount{{Key: "mpid: presented 1234, expected 5678", Sub: "E61", N: 2}, {Key: "<script>", Sub: "E2", N: 1}}, nil
}

func (f *fakeSource) DashboardMPID(_ context.Context, q store.DashQuery) ([]store.DashCount, error) {
	f.asked = append(f.asked, q)
	return []store.DashCount{{Key: "SUP1", Label: "Supplier One", Sub: "S", N: 9}, {Key: "SUP1", Sub: "I", N: 1}, {Key: "SUP2", Sub: "M", N: 4}}, nil
}

func (f *fakeSource) DashboardHolds(_ context.Context, q store.DashQuery) ([]store.DashCount, error) {
	f.asked = append(f.asked, q)
	return []store.DashCount{{Day: f.day(2), Key: "SUP1", Sub: "held", Label: "user", N: 1}, {Day: f.day(2), Key: "SUP1", Sub: "released", Label: "user", N: 2}}, nil
}

func (f *fakeSource) DashboardResponseTimes(_ context.Context, q store.DashQuery) ([]store.DashCount, error) {
	f.asked = append(f.asked, q)
	return []store.DashCount{{Key: "100", Sub: "request", N: 7}, {Key: "", Sub: "migration", N: 1}}, nil
}

func (f *fakeSource) DashboardCommandOutcomes(_ context.Context, q store.DashQuery) ([]store.DashCount, error) {
	f.asked = append(f.asked, q)
	return []store.DashCount{{Key: "responded", Sub: "success", Label: "request", N: 7}, {Key: "failed", Sub: "no answer", Label: "request", N: 1}}, nil
}

func (f *fakeSource) MigrationReport(_ context.Context, q store.ReportQuery) (store.MigrationFacts, error) {
	return store.MigrationFacts{From: q.From, To: q.To,
		Inventory: []store.InventoryCount{
			{Manufacturer: "Acme", Model: "M1", Supplier: "SUP1", State: store.MigrationECoS, Devices: 4},
			{Manufacturer: "Acme", Model: "M1", Supplier: "SUP2", State: store.MigrationException, Devices: 1},
			{Manufacturer: "Bolt", Model: "B2", Supplier: "SUP1", State: store.MigrationTCoS, Devices: 6}},
		Moves:      []store.DayMoves{{Day: f.day(1), To: store.MigrationECoS, Moves: 4}},
		Exceptions: []store.ReasonCount{{To: store.MigrationException, Reason: "bad-certificate", N: 1}},
	}, nil
}

type fakeDCC struct{}

func (fakeDCC) ShowDCC() []thresholds.Count {
	return []thresholds.Count{{Threshold: adt.Threshold{SRV: "6.23", Warning: 10, Quarantine: 20, Interval: 1440}, Count: 4}}
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}

var marks = regexp.MustCompile(`<svg [^>]*id="([^"]+)" data-marks="(\d+)"`)

// TestPages: every page renders its charts with data marks, its table,
// its filters and the link to its CSV; the CSV is the table.
func TestPages(t *testing.T) {
	reg := prometheus.NewRegistry()
	crossed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: crossedMetric}, []string{"outcome", "scope"})
	reg.MustRegister(crossed)
	crossed.WithLabelValues("warning", "user").Add(3)
	crossed.WithLabelValues("quarantined", "dcc").Inc()
	h, err := New(Config{Source: &fakeSource{}, Thresholds: fakeDCC{}, Metrics: reg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]struct {
		charts []string
		row    string
	}{
		"/dashboard/":           {[]string{"traffic"}, "<td>2026-11-29</td><td>rejected</td><td>2</td>"},
		"/dashboard/refusals":   {[]string{"refusals"}, "<td>&lt;script&gt;</td>"},
		"/dashboard/mpid":       {[]string{"mpid"}, "<td>SUP1</td><td>Supplier One</td><td>9</td><td>1</td><td>0</td><td>10</td><td>90.0</td>"},
		"/dashboard/quarantine": {[]string{"holds", "thresholds", "crossings"}, "<td>released</td>"},
		"/dashboard/migration":  {[]string{"by-state", "by-manufacturer", "by-supplier", "moves", "exceptions"}, "<td>Bolt</td>"},
		"/dashboard/devices":    {[]string{"response-times", "failures"}, "<td>request</td><td>failed</td><td>no answer</td>"},
	} {
		rec := get(t, h, path)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", path, rec.Code, body)
			continue
		}
		found := marks.FindAllStringSubmatch(body, -1)
		if len(found) != len(want.charts) {
			t.Errorf("%s: charts %v, want %v", path, found, want.charts)
		}
		for i, m := range found {
			if n, _ := strconv.Atoi(m[2]); i < len(want.charts) && (m[1] != want.charts[i] || n == 0) {
				t.Errorf("%s: chart %s has %s marks, want %s with data", path, m[1], m[2], want.charts[i])
			}
		}
		if strings.Count(body, `class="mark"`) == 0 || !strings.Contains(body, want.row) || strings.Contains(body, "<script") {
			t.Errorf("%s: marks, row %q or escaping wrong:\n%s", path, want.row, body)
		}
		if !strings.Contains(body, `id="csv" href="`+path+`?format=csv"`) || !strings.Contains(body, `name="days" value="30"`) {
			t.Errorf("%s: no CSV link or days filter", path)
		}
		rec = get(t, h, path+"?format=csv")
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil || rec.Code != 200 || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) < 2 {
			t.Errorf("%s CSV: %d %v %v", path, rec.Code, rows, err)
		}
	}
}

// TestFilters: days and party reach the store's query; state, manufacturer
// and supplier filter the table; bad filters are refused, naming them.
func TestFilters(t *testing.T) {
	src := &fakeSource{}
	h, _ := New(Config{Source: src, Now: func() time.Time { return now }})
	rec := get(t, h, "/dashboard/?days=7&party=SUP2&state=rejected&format=csv")
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if len(src.asked) != 1 || src.asked[0] != (store.DashQuery{From: end.AddDate(0, 0, -7), End: end, Party: "SUP2"}) {
		t.Errorf("asked %+v", src.asked)
	}
	if rec.Body.String() != "day,state,requests\n2026-11-29,rejected,2\n" {
		t.Errorf("traffic filtered by state: %q", rec.Body)
	}
	rec = get(t, h, "/dashboard/migration?manufacturer=Acme&state=ecos&format=csv")
	if rec.Body.String() != "manufacturer,model,firmware,supplier,state,devices\nAcme,M1,,SUP1,ecos,4\n" {
		t.Errorf("migration filtered: %q", rec.Body)
	}
	for target, says := range map[string]string{
		"/dashboard/?days=0":         "days",
		"/dashboard/?days=367":       "days",
		"/dashboard/?days=x":         "days",
		"/dashboard/mpid?format=pdf": "format",
		"/dashboard/nope":            "no dashboard page",
	} {
		rec := get(t, h, target)
		if rec.Code/100 != 4 || !strings.Contains(rec.Body.String(), says) {
			t.Errorf("%s: %d %s", target, rec.Code, rec.Body)
		}
	}
}

// TestEmptyChart: a chart with no data says so instead of drawing an
// empty frame.
func TestEmptyChart(t *testing.T) {
	svg := string(chart{ID: "x", Title: "t", Labels: []string{"a"}, Series: []series{{Name: "s", Values: []int64{0}}}}.SVG())
	if !strings.Contains(svg, `data-marks="0"`) || !strings.Contains(svg, "no data in this window") || strings.Contains(svg, `class="mark"`) {
		t.Errorf("empty chart: %s", svg)
	}
}

// TestNiceMax: the scale's top is at least the highest bar, and its four
// ticks are whole numbers.
func TestNiceMax(t *testing.T) {
	for _, n := range []int64{0, 1, 4, 5, 9, 10, 12, 99, 101, 951148, 1 << 40} {
		top := niceMax(n)
		if top < float64(n) || top != float64(int64(top)) || int64(top)%4 != 0 || (n > 8 && top > 2.5*float64(n)) {
			t.Errorf("niceMax(%d) = %g", n, top)
		}
	}
}

// TestCrossings: the warnings and quarantines counted by the pipeline's
// metric, per scope, are what the chart draws.
func TestCrossings(t *testing.T) {
	reg := prometheus.NewRegistry()
	crossed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: crossedMetric}, []string{"outcome", "scope"})
	reg.MustRegister(crossed)
	crossed.WithLabelValues("warning", "user").Add(3)
	crossed.WithLabelValues("quarantined", "dcc").Inc()
	ch, err := crossings(reg)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(ch.SVG())
	for _, want := range []string{"user · warning: 3", "dcc · quarantined: 1", `data-marks="2"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %q in %s", want, svg)
		}
	}
}
