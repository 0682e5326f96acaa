package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/store/storetest"
)

// mpidCSV is storetest.MPIDFixture's October 2022 as the deck's table
// (the arithmetic is on storetest.MPIDFixtureRows).
const mpidCSV = `SECPartyName,SECPartyId,MPID,CertificateSerialNumber,RefDate,Outcome,OutcomeCount
Alpha Energy,P1,AAAA,0a01,20221001,S,2
Alpha Energy,P1,AAAB,0a01,20221001,I,1
Beta Power,P2,BBBB,0b01,20221001,S,2
Alpha Energy,P1,AAAB,0a02,20221002,S,1
Beta Power,P2,BBBB,0b01,20221003,S,1
Zeta Supply,P6,ZZZZ,0f01,20221015,I,1
Zeta Supply,P6,ZZZZ,0f02,20221015,S,1
Alpha Energy,P1,AAAA,0a03,20221031,M,1
`

// mpidDB records the fixture in a new database of cfg's.
func mpidDB(t *testing.T, cfg store.Config) {
	t.Helper()
	db, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storetest.MPIDFixture(t, db)
}

// ecos report mpid on SQLite: every format, one party's extract, and a
// sentence for each mistake.
func TestReportMPID(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "ecos.db")
	mpidDB(t, store.Config{Driver: store.DriverSQLite, DSN: dsn})
	report := func(args ...string) (int, string, string) {
		return ecos(t, "", append([]string{"report", "mpid", "--db", dsn}, args...)...)
	}
	if code, out, errs := report("--month", "2022-10", "--format", "csv"); code != 0 || out != mpidCSV {
		t.Errorf("csv: exit %d\n%s\nwant\n%s\nstderr %s", code, out, mpidCSV, errs)
	}
	code, out, errs := report("--month", "2022-10")
	if code != 0 || !strings.HasPrefix(out, "MPID usage, October 2022 (UTC)\n") ||
		!strings.Contains(out, "6.23 processed                                10\n") ||
		!strings.Contains(out, "P3          Gamma Gas     2\n") || !strings.Contains(out, "Zeta Supply   P6          ZZZZ  0f01") {
		t.Errorf("text: exit %d\n%s\nstderr %s", code, out, errs)
	}
	code, out, errs = report("--month", "2022-10", "--party", "P1", "--format", "json")
	var r struct {
		Party    string           `json:"party"`
		Headline map[string]any   `json:"headline"`
		Rows     []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("json: exit %d, %v\n%s\nstderr %s", code, err, out, errs)
	}
	if r.Party != "P1" || r.Headline["total"] != 5.0 || len(r.Rows) != 4 { // P1: S S I S M on four rows
		t.Errorf("P1's extract: %+v", r)
	}
	for _, row := range r.Rows {
		if row["sec_party_id"] != "P1" {
			t.Errorf("P1's extract holds %v", row)
		}
	}
	page := filepath.Join(dir, "october.html")
	if code, _, errs := report("--month", "2022-10", "--format", "html", "--out", page); code != 0 || !strings.Contains(errs, "wrote "+page) {
		t.Errorf("html: exit %d, %s", code, errs)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "<h1>MPID usage, October 2022 (UTC)</h1>") {
		t.Errorf("html page: %v\n%.300s", err, b)
	}
	charts := filepath.Join(dir, "charts")
	if code, _, errs := report("--month", "2022-10", "--party", "P6", "--format", "png", "--out", charts); code != 0 {
		t.Errorf("png: exit %d, %s", code, errs)
	}
	for _, name := range []string{"mpid-2022-10-P6-per-day.png", "mpid-2022-10-P6-per-party.png"} {
		f, err := os.Open(filepath.Join(charts, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 1200 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A month with no 6.23 is a report of zeros, not an error.
	if code, out, errs := report("--month", "2022-12"); code != 0 || !strings.Contains(out, "6.23 processed                                 0\n") ||
		!strings.Contains(out, "no 6.23 outcome recorded in 2022-12") {
		t.Errorf("empty month: exit %d\n%s\nstderr %s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--month", "2022-13"}, exitMalformed, `--month: month "2022-13": want YYYY-MM, such as 2022-10`},
		{[]string{"--month", "October"}, exitMalformed, `want YYYY-MM`},
		{nil, exitMalformed, "--month is required"},
		{[]string{"--month", "2022-10", "--party", "P9"}, exitInvalid, `no SEC party "P9" in the database`},
		{[]string{"--month", "2022-10", "--format", "pdf"}, exitMalformed, "pdf"},
		{[]string{"--month", "2022-10", "--api"}, exitMalformed, "--db reads a database, --operator and --api ask the operator API"},
	} {
		code, out, errs := report(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) || out != "" {
			t.Errorf("%v: exit %d, want %d and %q\nstdout %s\nstderr %s", tc.args, code, tc.code, tc.want, out, errs)
		}
	}
}

// The same report from PostgreSQL.
func TestReportMPIDPostgres(t *testing.T) {
	cfg := testkit.FreshPostgres(t)
	mpidDB(t, cfg)
	code, out, errs := ecos(t, "", "report", "mpid", "--db", cfg.DSN, "--month", "2022-10", "--format", "csv")
	if code != 0 || out != mpidCSV {
		t.Errorf("exit %d\n%s\nwant\n%s\nstderr %s", code, out, mpidCSV, errs)
	}
}

// Over a running service's operator API (--operator URL, or --api with
// the configuration naming it): the same report the database gives.
func TestReportMPIDOverAPI(t *testing.T) {
	dir := t.TempDir()
	_, opURL := demoServer(t, dir)
	cfgFile := filepath.Join(dir, demoworld.ConfigFile)
	c, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := c.DatabaseDSN()
	if err != nil {
		t.Fatal(err)
	}
	mpidDB(t, store.Config{Driver: c.Database.Driver, DSN: dsn})
	code, out, errs := ecos(t, "", "report", "mpid", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--month", "2022-10", "--format", "csv")
	if code != 0 || out != mpidCSV {
		t.Errorf("--operator: exit %d\n%s\nstderr %s", code, out, errs)
	}
	// --api --config reaches the configuration's operator_listen.
	var m map[string]any
	b, _ := os.ReadFile(cfgFile)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["operator_listen"] = strings.TrimPrefix(opURL, "http://")
	b, _ = json.Marshal(m)
	opCfg := filepath.Join(dir, "op.json")
	if err := os.WriteFile(opCfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, fromDB, _ := ecos(t, "", "report", "mpid", "--config", opCfg, "--month", "2022-10", "--party", "P1")
	code, out, errs = ecos(t, "", "report", "mpid", "--api", "--config", opCfg, "--month", "2022-10", "--party", "P1")
	if code != 0 || out != fromDB || !strings.Contains(out, "MPID usage, October 2022, SEC party P1") {
		t.Errorf("--api --config: exit %d\n%s\nwant (from the database)\n%s\nstderr %s", code, out, fromDB, errs)
	}
	code, _, errs = ecos(t, "", "report", "mpid", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--month", "2022-10", "--party", "P9")
	if code != exitInvalid || !strings.Contains(errs, `no SEC party "P9"`) || strings.Count(errs, "error:") != 1 {
		t.Errorf("unknown party over the API: exit %d, %s", code, errs)
	}
}
