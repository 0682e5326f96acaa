package reportgen_test

import (
	"database/sql"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/reportgen"
	"github.com/ecos-cos/ecos/store"
)

var run = time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC) // the clock, for timings only

func clock() func() time.Time {
	t := run
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

// small is the deck's month scaled down: fast, yet with every feature.
func small() reportgen.Options {
	o := reportgen.Deck()
	o.Requests, o.Parties, o.MPIDs, o.SilentParties = 20000, 12, 25, 5
	o.Batch, o.Writers = 700, 3
	return o
}

type backend struct {
	name string
	open func(t *testing.T) (*store.DB, *sql.DB)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (*store.DB, *sql.DB) {
		return openBoth(t, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "ecos.db")}, "sqlite")
	}},
	{"postgres", func(t *testing.T) (*store.DB, *sql.DB) { return openBoth(t, testkit.FreshPostgres(t), "pgx") }},
}

// openBoth opens a migrated store and a plain connection to the same
// database, through which the test reads what was recorded.
func openBoth(t *testing.T, cfg store.Config, driver string) (*store.DB, *sql.DB) {
	t.Helper()
	db, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open(driver, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw
}

func count(t *testing.T, raw *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestGenerateCountsAndShapes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db, raw := b.open(t)
			o := small()
			var progress []int
			o.Progress = func(n int) { progress = append(progress, n) }
			s, err := reportgen.Generate(t.Context(), db, o, clock())
			if err != nil {
				t.Fatal(err)
			}
			from := time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
			to := time.Date(2022, 11, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
			wantI, wantM := int(math.Round(0.02*20000)), int(math.Round(0.005*20000))
			for _, c := range []struct {
				what string
				q    string
				want int
			}{
				{"requests", `SELECT count(*) FROM requests`, 20000},
				{"requests in the month", `SELECT count(*) FROM requests WHERE received_at_us >= ` + itoa(from) + ` AND received_at_us < ` + itoa(to), 20000},
				{"requests reaching step 8, authorised", `SELECT count(*) FROM requests WHERE mpid_outcome IN ('S', 'I', 'M') AND state = 'authorised'`, 20000},
				{"parties sending", `SELECT count(DISTINCT party_id) FROM requests`, 12},
				{"MPIDs sent under", `SELECT count(DISTINCT mpid_expected) FROM requests`, 25},
				{"parties", `SELECT count(*) FROM parties`, 17},
				{"silent parties with meters", `SELECT count(DISTINCT supplier_party_id) FROM registrations
					WHERE supplier_party_id NOT IN (SELECT party_id FROM requests)`, 5},
				{"incorrect", `SELECT count(*) FROM requests WHERE mpid_outcome = 'I'`, wantI},
				{"missing", `SELECT count(*) FROM requests WHERE mpid_outcome = 'M'`, wantM},
				{"M without a presented MPID", `SELECT count(*) FROM requests WHERE mpid_outcome = 'M' AND mpid_presented = ''`, wantM},
				{"I presenting another MPID", `SELECT count(*) FROM requests WHERE mpid_outcome = 'I' AND mpid_presented <> mpid_expected AND mpid_presented <> ''`, wantI},
				{"S under its own certificate", `SELECT count(*) FROM requests r WHERE mpid_outcome = 'S' AND mpid_presented = mpid_expected`, s.Correct},
				{"a serial per MPID for S", `SELECT count(DISTINCT signer_serial) FROM requests WHERE mpid_outcome = 'S'`, 25},
				{"certificates used for another MPID", `SELECT count(*) FROM (SELECT DISTINCT signer_serial FROM requests WHERE mpid_outcome = 'I'
					AND signer_serial IN (SELECT signer_serial FROM requests WHERE mpid_outcome = 'S')) x`, -1},
				{"certificates without MPID used for S or I", `SELECT count(*) FROM requests WHERE mpid_outcome <> 'M'
					AND signer_serial IN (SELECT signer_serial FROM requests WHERE mpid_outcome = 'M')`, 0},
				{"registrations of unknown devices", `SELECT count(*) FROM registrations WHERE device_eui NOT IN (SELECT device_eui FROM devices)`, 0},
				{"requests to a meter not the MPID's", `SELECT count(*) FROM requests r WHERE NOT EXISTS (SELECT 1 FROM registrations g
					WHERE g.device_eui = r.target_eui AND g.mpid = r.mpid_expected AND g.supplier_party_id = r.party_id)`, 0},
			} {
				got := count(t, raw, c.q)
				if c.want < 0 {
					if got == 0 {
						t.Errorf("%s: none", c.what)
					}
					continue
				}
				if got != c.want {
					t.Errorf("%s: %d, want %d", c.what, got, c.want)
				}
			}
			// Some parties all S, some with M: the report has every line.
			allS := count(t, raw, `SELECT count(*) FROM (SELECT party_id FROM requests GROUP BY party_id
				HAVING sum(CASE WHEN mpid_outcome = 'S' THEN 0 ELSE 1 END) = 0) x`)
			withM := count(t, raw, `SELECT count(DISTINCT party_id) FROM requests WHERE mpid_outcome = 'M'`)
			if allS == 0 || allS == 12 || withM == 0 || withM == 12 {
				t.Errorf("parties all S %d, with M %d: want some of 12 each", allS, withM)
			}
			want := reportgen.Summary{
				Month: time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC), Parties: 12, SilentParties: 5, MPIDs: 25,
				Requests: 20000, Correct: 20000 - wantI - wantM, Incorrect: wantI, Missing: wantM,
			}
			got := s
			got.Certificates, got.Meters, got.FirstRequest, got.LastRequest, got.ReferenceData, got.RequestsTaken = 0, 0, time.Time{}, time.Time{}, 0, 0
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("summary (-want +got):\n%s", d)
			}
			if s.Meters != count(t, raw, `SELECT count(*) FROM registrations`) || s.Certificates <= 25 {
				t.Errorf("summary: %d meters, %d certificates", s.Meters, s.Certificates)
			}
			if len(progress) == 0 || progress[len(progress)-1] != 20000 {
				t.Errorf("progress: %v", progress)
			}
			weekShape(t, raw)
		})
	}
}

// weekShape: a weekday is busier than a weekend day, an afternoon than the
// small hours.
func weekShape(t *testing.T, raw *sql.DB) {
	rows, err := raw.Query(`SELECT received_at_us FROM requests`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var weekday, weekend, afternoon, night float64
	for rows.Next() {
		var us int64
		if err := rows.Scan(&us); err != nil {
			t.Fatal(err)
		}
		at := time.UnixMicro(us).UTC()
		if d := at.Weekday(); d == time.Saturday || d == time.Sunday {
			weekend++
		} else {
			weekday++
		}
		switch h := at.Hour(); {
		case h >= 14 && h < 16:
			afternoon++
		case h >= 4 && h < 6:
			night++
		}
	}
	// October 2022: 21 weekdays, 10 weekend days.
	if weekday/21 < 2*weekend/10 || afternoon < 5*night {
		t.Errorf("per weekday %.0f, per weekend day %.0f; 14-16h %.0f, 4-6h %.0f", weekday/21, weekend/10, afternoon, night)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
