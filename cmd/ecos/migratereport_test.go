package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// ecos migrate report after devices have moved: the daily table counts
// the moves of each day and the devices on ECoS at its end, the failure
// tables group the causes by reason, and the charts are PNGs.
func TestMigrateReportAfterMoves(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ecos.db")
	files := map[string]string{
		"parties.csv": "party_id,name,state,user_eui,role,mpids\nSUP1,Supplier One,active,EE-C0-5E-00-01-00-00-01,import-supplier,SUPA\n",
		"inventory.csv": "device_eui,type,manufacturer,model,firmware,mpxn,responsible_supplier,smi_status,install_date,credential\n" +
			"EE-C0-5E-DE-00-00-00-01,ESME,Acme,A1,1.2.3,,SUP1,commissioned,2019-03-04,tcos\n" +
			"EE-C0-5E-DE-00-00-00-02,ESME,Acme,A1,1.2.3,,SUP1,commissioned,2023-07-01,tcos\n" +
			"EE-C0-5E-DE-00-00-00-03,ESME,Acme,A1,1.2.3,,SUP1,commissioned,2023-08-01,tcos\n" +
			"EE-C0-5E-DE-00-00-00-04,GSME,Gas Co,G7,0x10,,SUP1,commissioned,2020-01-01,tcos\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"db", "migrate", "--db", db}, {"import", "parties", "--db", db, filepath.Join(dir, "parties.csv")},
		{"import", "inventory", "--db", db, "--go-live", "2023-06-01", filepath.Join(dir, "inventory.csv")}} {
		if code, _, errs := ecos(t, "", args...); code != 0 {
			t.Fatalf("ecos %v: %s", args, errs)
		}
	}
	s, err := store.Open(t.Context(), store.Config{DSN: db})
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	dev := func(n string) eui.EUI { return eui.MustParse("EE-C0-5E-DE-00-00-00-0" + n) }
	for _, m := range []store.Move{
		{Device: dev("1"), From: store.MigrationTCoS, To: store.MigrationQueued, At: day1, Cause: "wave 1"},
		{Device: dev("1"), From: store.MigrationQueued, To: store.MigrationSent, At: day1, Cause: "wave 1", Counter: 1},
		{Device: dev("1"), From: store.MigrationSent, To: store.MigrationECoS, At: day1, Cause: "response: ecos", Counter: 1},
		{Device: dev("2"), From: store.MigrationTCoS, To: store.MigrationQueued, At: day1, Cause: "wave 1"},
		{Device: dev("2"), From: store.MigrationQueued, To: store.MigrationSent, At: day1, Cause: "wave 1", Counter: 2},
		{Device: dev("2"), From: store.MigrationSent, To: store.MigrationRetryWait, At: day1, Cause: "resourcesBusy (30)", Counter: 2},
		{Device: dev("2"), From: store.MigrationRetryWait, To: store.MigrationQueued, At: day2, Cause: "retry"},
		{Device: dev("2"), From: store.MigrationQueued, To: store.MigrationSent, At: day2, Cause: "wave 1", Counter: 3},
		{Device: dev("2"), From: store.MigrationSent, To: store.MigrationException, At: day2, Cause: "badCertificate (5)", Counter: 3},
		{Device: dev("3"), From: store.MigrationTCoS, To: store.MigrationQueued, At: day2, Cause: "wave 1"},
		{Device: dev("3"), From: store.MigrationQueued, To: store.MigrationSent, At: day2, Cause: "wave 1", Counter: 4},
		{Device: dev("3"), From: store.MigrationSent, To: store.MigrationRetryWait, At: day2, Cause: "no response", Counter: 4},
	} {
		if _, err := s.MoveDevice(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	charts := filepath.Join(dir, "charts")
	code, out, errs := ecos(t, "", "migrate", "report", "--db", db, "--to", "2026-12-01", "--go-live", "2023-06-01", "--charts", charts)
	if code != 0 {
		t.Fatal(errs)
	}
	for _, want := range []string{
		"Migration report, 2026-11-30 to 2026-12-01",
		"  2026-11-30     0       2     2     1           1        0          0         0                1\n",
		"  2026-12-01     0       2     2     0           1        0          1         0                1\n",
		"  exception   badCertificate      1\n  retry-wait  no response         1\n  retry-wait  resourcesBusy       1\n",
		"  reason          devices\n  badCertificate        1\n",
		"  Acme          SUP1            2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{"ecos-cumulative.png", "daily-moves.png", "failure-reasons.png", "supply-chain.png"} {
		path := filepath.Join(charts, name)
		if !strings.Contains(errs, "wrote "+path) {
			t.Errorf("stderr does not name %s: %s", path, errs)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 800 || cfg.Height < 400 {
			t.Errorf("%s: %dx%d, %v", name, cfg.Width, cfg.Height, err)
		}
	}
	// --format png: the charts are the report, named on stdout.
	pngs := filepath.Join(dir, "png")
	code, out, errs = ecos(t, "", "migrate", "report", "--db", db, "--to", "2026-12-01", "--format", "png", "--charts", pngs)
	if code != 0 || strings.Contains(out, "Migration report") || !strings.Contains(out, "wrote "+filepath.Join(pngs, "daily-moves.png")) {
		t.Errorf("--format png: exit %d\n%s%s", code, out, errs)
	}

	code, out, errs = ecos(t, "", "migrate", "report", "--db", db, "--from", "2026-12-01", "--to", "2026-12-01", "--format", "json")
	if code != 0 {
		t.Fatal(errs)
	}
	var doc struct {
		Daily []struct {
			Day   string           `json:"day"`
			Moves map[string]int64 `json:"moves"`
			ECoS  int64            `json:"ecos_cumulative"`
		} `json:"daily"`
		Failures struct {
			Moves []struct {
				To, Reason string
				Moves      int64
			} `json:"moves"`
		} `json:"failures"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Daily) != 1 || doc.Daily[0].Day != "2026-12-01" || doc.Daily[0].Moves["exception"] != 1 || doc.Daily[0].ECoS != 1 ||
		len(doc.Failures.Moves) != 2 {
		t.Errorf("json: %+v", doc)
	}

	code, out, errs = ecos(t, "", "migrate", "report", "--db", db, "--to", "2026-12-01", "--format", "csv")
	if code != 0 {
		t.Fatal(errs)
	}
	if !strings.Contains(out, "# table failure_moves\nto,reason,moves\nexception,badCertificate,1\n") ||
		!strings.Contains(out, "# table in_exception\nreason,devices\nbadCertificate,1\n") {
		t.Errorf("csv:\n%s", out)
	}
}
