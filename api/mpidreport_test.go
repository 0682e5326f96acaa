package api

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/mpidreport"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/store/storetest"
)

// mpidOperator is the operator API over a SQLite store holding
// storetest.MPIDFixture (October 2022).
func mpidOperator(t *testing.T) http.Handler {
	t.Helper()
	db, err := store.Open(t.Context(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "ecos.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storetest.MPIDFixture(t, db)
	h, err := NewOperator(OperatorConfig{Thresholds: &fakeThresholds{}, MPIDReports: db, Token: []byte(testOperatorToken)})
	if err != nil {
		t.Fatal(err)
	}
	return withToken(h)
}

// GET /operator/v1/reports/mpid: JSON by default, the deck's CSV with
// format=csv, one party's rows only with party=, and a sentence naming
// what is wrong for a bad month, format or party.
func TestMPIDReportRoute(t *testing.T) {
	h := mpidOperator(t)
	get := func(query string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", PathMPIDReport+query, nil))
		return rec
	}
	for name, tc := range map[string]struct {
		query string
		code  int
		want  string
	}{
		"json":          {"?month=2022-10", 200, `"total": 10,`},
		"json/explicit": {"?month=2022-10&format=json", 200, `"parties_sending_none": 2,`},
		"party":         {"?month=2022-10&party=P6", 200, `"outcome": "I",`},
		"empty-month":   {"?month=2023-02", 200, `"total": 0,`},
		"no-month":      {"", 400, `month \"\": want YYYY-MM, such as 2022-10`},
		"bad-month":     {"?month=2022-13", 400, `month \"2022-13\": want YYYY-MM`},
		"bad-format":    {"?month=2022-10&format=png", 400, `format \"png\": want json or csv`},
		"unknown-party": {"?month=2022-10&party=P9", 404, `no SEC party \"P9\"`},
	} {
		t.Run(name, func(t *testing.T) {
			rec := get(tc.query)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%d %s, want %d with %s", rec.Code, rec.Body, tc.code, tc.want)
			}
		})
	}
	rec := get("?month=2022-10&party=P1&format=csv")
	if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || ct != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %d %s %s", rec.Code, ct, rec.Body)
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{mpidreport.Header,
		{"Alpha Energy", "P1", "AAAA", "0a01", "20221001", "S", "2"},
		{"Alpha Energy", "P1", "AAAB", "0a01", "20221001", "I", "1"},
		{"Alpha Energy", "P1", "AAAB", "0a02", "20221002", "S", "1"},
		{"Alpha Energy", "P1", "AAAA", "0a03", "20221031", "M", "1"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("P1's CSV (-want +got):\n%s", d)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="mpid-2022-10-P1.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
}

// The client gets the report back whole, and a refusal as a
// *ReportError with the server's sentence.
func TestClientMPIDReport(t *testing.T) {
	srv := httptest.NewServer(mpidOperator(t))
	t.Cleanup(srv.Close)
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client()}
	r, err := c.MPIDReport(t.Context(), "2022-10", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Headline.Total != 10 || r.Headline.MPIDsWithIncorrect != 2 || len(r.Rows) != 8 || r.Title() != "MPID usage, October 2022" {
		t.Errorf("report: %q %+v, %d rows", r.Title(), r.Headline, len(r.Rows))
	}
	_, err = c.MPIDReport(t.Context(), "2022-10", "P9")
	re, ok := errors.AsType[*ReportError](err)
	if !ok || re.Status != 404 || re.Msg != `no SEC party "P9"` {
		t.Errorf("unknown party: %v", err)
	}
}

// Without MPIDReports the route is not there.
func TestMPIDReportRouteAbsent(t *testing.T) {
	h, err := NewOperator(OperatorConfig{Thresholds: &fakeThresholds{}, Token: []byte(testOperatorToken)})
	if err != nil {
		t.Fatal(err)
	}
	h = withToken(h)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", PathMPIDReport+"?month=2022-10", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("%d without MPIDReports", rec.Code)
	}
}
