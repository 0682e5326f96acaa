package mpidreport_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/mpidreport"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/store/storetest"
)

// fixture is a SQLite database holding storetest.MPIDFixture: October
// 2022, its figures worked out by hand on MPIDFixture's list.
func fixture(t *testing.T) *store.DB {
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
	return db
}

func build(t *testing.T, db *store.DB, party string) *mpidreport.Report {
	t.Helper()
	r, err := mpidreport.Build(t.Context(), db, storetest.MPIDMonth, party)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The CSV is the deck's table: its header, in its order, then the rows of
// the month (see storetest.MPIDFixtureRows for the arithmetic).
func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := build(t, fixture(t), "").WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := `SECPartyName,SECPartyId,MPID,CertificateSerialNumber,RefDate,Outcome,OutcomeCount
Alpha Energy,P1,AAAA,0a01,20221001,S,2
Alpha Energy,P1,AAAB,0a01,20221001,I,1
Beta Power,P2,BBBB,0b01,20221001,S,2
Alpha Energy,P1,AAAB,0a02,20221002,S,1
Beta Power,P2,BBBB,0b01,20221003,S,1
Zeta Supply,P6,ZZZZ,0f01,20221015,I,1
Zeta Supply,P6,ZZZZ,0f02,20221015,S,1
Alpha Energy,P1,AAAA,0a03,20221031,M,1
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("CSV (-want +got):\n%s", d)
	}
}

// One party's extract holds its rows and figures and nothing of another
// party: no other party's ID or name anywhere in any format.
func TestPartyExtract(t *testing.T) {
	r := build(t, fixture(t), "P1")
	var csvOut, jsonOut, text, html bytes.Buffer
	for _, w := range []struct {
		b     *bytes.Buffer
		write func(*bytes.Buffer) error
	}{
		{&csvOut, func(b *bytes.Buffer) error { return r.WriteCSV(b) }},
		{&jsonOut, func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
		{&text, func(b *bytes.Buffer) error { return r.WriteText(b) }},
		{&html, func(b *bytes.Buffer) error { return r.WriteHTML(b) }},
	} {
		if err := w.write(w.b); err != nil {
			t.Fatal(err)
		}
		// The charts' pixels are no text: base64 may spell anything.
		out := inlinePNG.ReplaceAllString(w.b.String(), "")
		for _, other := range []string{"P2", "Beta", "P3", "Gamma", "P5", "Epsilon", "P6", "Zeta", "BBBB", "ZZZZ"} {
			if strings.Contains(out, other) {
				t.Errorf("P1's extract names %q:\n%s", other, w.b.String())
			}
		}
	}
	rows, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+4 { // header, then P1's four rows: Oct 1 S and I, Oct 2 S, Oct 31 M
		t.Errorf("P1's CSV has %d lines, want 5: %v", len(rows), rows)
	}
	for _, row := range rows[1:] {
		if row[1] != "P1" {
			t.Errorf("row of another party: %v", row)
		}
	}
	var got mpidreport.Report
	if err := json.Unmarshal(jsonOut.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := mpidreport.Headline{PartiesSending: 1, PartiesAllSuccess: 0, PartiesWithMissing: 1, NoneSent: []mpidreport.PartyMeters{},
		Total: 5, Correct: 3, Incorrect: 1, Missing: 1, // S S I S M
		MPIDs: 2, MPIDsOnlyCorrect: 0, MPIDsWithIncorrect: 1, MPIDsWithMissing: 1} // AAAA S S M, AAAB I S
	if d := cmp.Diff(want, got.Headline); d != "" || got.Party != "P1" || got.Month != "2022-10" {
		t.Errorf("P1's JSON: party %q, month %q, headline (-want +got):\n%s", got.Party, got.Month, d)
	}
}

var inlinePNG = regexp.MustCompile(`data:image/png;base64,([A-Za-z0-9+/=]|&#43;)+`)

// Every headline figure, in JSON, as worked out by hand.
func TestJSONHeadline(t *testing.T) {
	var b bytes.Buffer
	if err := build(t, fixture(t), "").WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"parties_sending":      3.0,  // P1, P2, P6
		"parties_all_success":  1.0,  // P2
		"parties_with_missing": 1.0,  // P1
		"parties_sending_none": 2.0,  // P3, P5
		"total":                10.0, // 5 + 3 + 2
		"correct":              7.0,  // 3 + 3 + 1
		"incorrect":            2.0,
		"missing":              1.0,
		"mpids":                4.0, // AAAA AAAB BBBB ZZZZ
		"mpids_only_correct":   1.0, // BBBB
		"mpids_with_incorrect": 2.0, // AAAB ZZZZ
		"mpids_with_missing":   1.0, // AAAA
		"parties_sending_none_list": []any{
			map[string]any{"sec_party_id": "P3", "sec_party_name": "Gamma Gas", "meters": 2.0},
			map[string]any{"sec_party_id": "P5", "sec_party_name": "Epsilon plc", "meters": 1.0},
		},
	}
	if d := cmp.Diff(want, got["headline"]); d != "" {
		t.Errorf("headline (-want +got):\n%s", d)
	}
	rows := got["rows"].([]any)
	if len(rows) != 8 || rows[0].(map[string]any)["ref_date"] != "20221001" {
		t.Errorf("rows: %v", rows)
	}
}

// The text is the headline, the parties sending none, then the table.
func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := build(t, fixture(t), "").WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"MPID usage, October 2022 (UTC)",
		"SEC parties sending 6.23                       3\n",
		"6.23 processed                                10\n",
		"  incorrect (I)                                2\n",
		"P3          Gamma Gas     2",
		"SECPartyName  SECPartyId  MPID  CertificateSerialNumber  RefDate   Outcome  OutcomeCount",
		"Alpha Energy  P1          AAAA  0a03                     20221031  M        1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "6.23 processed") > strings.Index(out, "SECPartyName") {
		t.Errorf("the headline is not first:\n%s", out)
	}
}

// A month with no 6.23 is a report of zeros that says so, not an error.
func TestEmptyMonth(t *testing.T) {
	r, err := mpidreport.Build(t.Context(), fixture(t), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no 6.23 outcome recorded in 2023-01") || r.Headline.Total != 0 || len(r.Rows) != 0 {
		t.Errorf("empty month: %+v\n%s", r.Headline, b.String())
	}
	if _, err := r.Charts(); err != nil {
		t.Errorf("charts of an empty month: %v", err)
	}
}

func TestUnknownParty(t *testing.T) {
	_, err := mpidreport.Build(t.Context(), fixture(t), storetest.MPIDMonth, "NOPE")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), `"NOPE"`) {
		t.Errorf("unknown party: %v", err)
	}
}

func TestParseMonth(t *testing.T) {
	m, err := mpidreport.ParseMonth("2022-10")
	if err != nil || !m.Equal(storetest.MPIDMonth) {
		t.Errorf("2022-10: %v, %v", m, err)
	}
	for _, bad := range []string{"", "2022-13", "2022-1", "2022-10-01", "Oct 2022", "202210"} {
		if _, err := mpidreport.ParseMonth(bad); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// The charts decode as PNGs of the size drawn, with pixels of each
// outcome's colour in them, and the HTML page carries them inline.
func TestCharts(t *testing.T) {
	r := build(t, fixture(t), "")
	dir := t.TempDir()
	files, err := r.WriteCharts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{filepath.Join(dir, "mpid-2022-10-per-day.png"), filepath.Join(dir, "mpid-2022-10-per-party.png")}, files); d != "" {
		t.Fatalf("files (-want +got):\n%s", d)
	}
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
		if b := img.Bounds(); b.Dx() != 1200 || b.Dy() < 600 {
			t.Errorf("%s: %v, want 1200 wide and at least 600 high", name, b)
		}
		seen := map[[3]uint32]bool{}
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
				r, g, b, _ := img.At(x, y).RGBA()
				seen[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
			}
		}
		for _, c := range [][3]uint32{{0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28}, {0xff, 0x7f, 0x0e}} {
			if !seen[c] {
				t.Errorf("%s: no pixel of %x: an outcome is not drawn", name, c)
			}
		}
	}
	var page bytes.Buffer
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(page.String(), `src="data:image/png;base64,`); n != 2 {
		t.Errorf("HTML has %d inline charts, want 2", n)
	}
	if strings.Contains(page.String(), "http://") || strings.Contains(page.String(), "https://") {
		t.Error("the HTML page loads something from elsewhere")
	}
}
