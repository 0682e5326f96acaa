package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

// MPIDMonth is the month of the MPID fixture: October 2022, UTC.
var MPIDMonth = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)

// MPIDFixture records, through RecordRequest as the pipeline does, a
// small October 2022 whose every MPID report figure is worked out by hand
// in the tests that use it (here, and mpidreport's):
//
//	P1 Alpha Energy  MPIDs AAAA, AAAB; certificate 0a01 signs for both
//	                 (one certificate, several MPIDs), 0a03 carries none (M)
//	  2022-10-01 00:00:00        S AAAA 0a01
//	  2022-10-01 10:00           S AAAA 0a01
//	  2022-10-01 11:00           I AAAB 0a01 (presented AAAA)
//	  2022-10-02 09:00           S AAAB 0a02
//	  2022-10-05 12:00           refused before step 8: not counted
//	  2022-10-31 23:59:59.999    M AAAA 0a03 (the month's last millisecond)
//	  2022-09-30 23:59:59.999999 S AAAA 0a01 (September: not counted)
//	  2022-11-01 00:00:00        S AAAA 0a01 (November: not counted)
//	P2 Beta Power    MPID BBBB, all S; registered for MPxNs 6 and 3 (from Oct 31 12:00)
//	  2022-10-01 12:00, 13:00    S BBBB 0b01 (×2)
//	  2022-10-03 08:00           S BBBB 0b01
//	P3 Gamma Gas     sends none; registered at the month's end for MPxN 1
//	                 (open), MPxN 2 (to Nov 1 00:00, exclusive): 2 meters;
//	                 not MPxN 3 (ended Oct 31 12:00) nor MPxN 4 (from Nov 1)
//	P4 Delta Ltd     sends none and is registered for nothing: not listed
//	P5 Epsilon plc   only a refused request; MPxN 5: 1 meter
//	P6 Zeta Supply   MPID ZZZZ
//	  2022-10-15 10:00           I ZZZZ 0f01 (presented ZZZA)
//	  2022-10-15 11:00           S ZZZZ 0f02
func MPIDFixture(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := ctxOf(t)
	party := func(n uint32, id, name string, mpids ...string) store.Party {
		return store.Party{ID: id, Name: name, State: store.PartyActive, MPIDs: mpids,
			Users: []store.User{{EUI: eu(0x70, n), Role: store.RoleImportSupplier}}}
	}
	must(t, db.ImportParties(ctx, []store.Party{
		party(1, "P1", "Alpha Energy", "AAAA", "AAAB"), party(2, "P2", "Beta Power", "BBBB"),
		party(3, "P3", "Gamma Gas", "CCCC"), party(4, "P4", "Delta Ltd", "DDDD"),
		party(5, "P5", "Epsilon plc", "EEEE"), party(6, "P6", "Zeta Supply", "ZZZZ"),
	}))
	utc := func(mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(2022, mo, d, h, mi, s, ns, time.UTC)
	}
	reg := func(n int, sup, mpid string, from, to time.Time) store.Registration {
		return store.Registration{MPxN: mpan(n), From: from, To: to, Supplier: sup, MPID: mpid}
	}
	jan := utc(time.January, 1, 0, 0, 0, 0)
	must(t, db.ImportRegistrations(ctx, []store.Registration{
		reg(1, "P3", "CCCC", jan, time.Time{}),
		reg(2, "P3", "CCCC", utc(time.June, 1, 0, 0, 0, 0), utc(time.November, 1, 0, 0, 0, 0)),
		reg(3, "P3", "CCCC", jan, utc(time.October, 31, 12, 0, 0, 0)),
		reg(3, "P2", "BBBB", utc(time.October, 31, 12, 0, 0, 0), time.Time{}),
		reg(4, "P3", "CCCC", utc(time.November, 1, 0, 0, 0, 0), time.Time{}),
		reg(5, "P5", "EEEE", jan, time.Time{}),
		reg(6, "P2", "BBBB", jan, time.Time{}),
	}))
	var counter uint64
	rec := func(party string, at time.Time, outcome, expected, presented, serial string) {
		t.Helper()
		counter++
		r := store.Received{ID: store.RequestID{Originator: eu(0x70, 1), Target: eu(0x00, 1), Counter: counter},
			At: at, Party: party, State: store.RequestAuthorised}
		if outcome == "" {
			r.State, r.Reason, r.ResponseCode = store.RequestRejected, "not-authorised", "E4"
		} else {
			r.MPID = &store.MPIDRecord{Outcome: outcome, Expected: expected, Presented: presented, SignerSerial: serial}
		}
		must(t, db.RecordRequest(ctx, r))
	}
	rec("P1", utc(time.September, 30, 23, 59, 59, 999999000), "S", "AAAA", "AAAA", "0a01")
	rec("P1", utc(time.October, 1, 0, 0, 0, 0), "S", "AAAA", "AAAA", "0a01")
	rec("P1", utc(time.October, 1, 10, 0, 0, 0), "S", "AAAA", "AAAA", "0a01")
	rec("P1", utc(time.October, 1, 11, 0, 0, 0), "I", "AAAB", "AAAA", "0a01")
	rec("P2", utc(time.October, 1, 12, 0, 0, 0), "S", "BBBB", "BBBB", "0b01")
	rec("P2", utc(time.October, 1, 13, 0, 0, 0), "S", "BBBB", "BBBB", "0b01")
	rec("P1", utc(time.October, 2, 9, 0, 0, 0), "S", "AAAB", "AAAB", "0a02")
	rec("P2", utc(time.October, 3, 8, 0, 0, 0), "S", "BBBB", "BBBB", "0b01")
	rec("P1", utc(time.October, 5, 12, 0, 0, 0), "", "", "", "")
	rec("P5", utc(time.October, 6, 12, 0, 0, 0), "", "", "", "")
	rec("P6", utc(time.October, 15, 10, 0, 0, 0), "I", "ZZZZ", "ZZZA", "0f01")
	rec("P6", utc(time.October, 15, 11, 0, 0, 0), "S", "ZZZZ", "ZZZZ", "0f02")
	rec("P1", utc(time.October, 31, 23, 59, 59, 999000000), "M", "AAAA", "", "0a03")
	rec("P1", utc(time.November, 1, 0, 0, 0, 0), "S", "AAAA", "AAAA", "0a01")
}

// MPIDFixtureRows is the fixture's detail table, in the report's order
// (day, party, MPID, serial, outcome S I M), worked out from the list on
// MPIDFixture.
func MPIDFixtureRows() []store.MPIDRow {
	d := func(day int) time.Time { return time.Date(2022, 10, day, 0, 0, 0, 0, time.UTC) }
	a, b, z := "Alpha Energy", "Beta Power", "Zeta Supply"
	row := func(id, name, mpid, serial string, day time.Time, outcome string, n int64) store.MPIDRow {
		return store.MPIDRow{PartyID: id, PartyName: name, MPID: mpid, SignerSerial: serial, Day: day, Outcome: outcome, Count: n}
	}
	return []store.MPIDRow{
		row("P1", a, "AAAA", "0a01", d(1), "S", 2), // 00:00 and 10:00
		row("P1", a, "AAAB", "0a01", d(1), "I", 1), // 11:00: 0a01 again, another MPID
		row("P2", b, "BBBB", "0b01", d(1), "S", 2), // 12:00 and 13:00
		row("P1", a, "AAAB", "0a02", d(2), "S", 1),
		row("P2", b, "BBBB", "0b01", d(3), "S", 1),
		row("P6", z, "ZZZZ", "0f01", d(15), "I", 1),
		row("P6", z, "ZZZZ", "0f02", d(15), "S", 1),
		row("P1", a, "AAAA", "0a03", d(31), "M", 1), // 23:59:59.999, still October
	}
}

// MPIDFixtureHeadline is the fixture's October headline, worked out from
// the list on MPIDFixture.
func MPIDFixtureHeadline() store.MPIDHeadline {
	return store.MPIDHeadline{
		Parties:            3,  // P1, P2, P6 (P5's only request was refused; P3, P4 sent none)
		PartiesAllSuccess:  1,  // P2 (P1 has an I and an M, P6 an I)
		PartiesWithMissing: 1,  // P1
		Total:              10, // P1 5 + P2 3 + P6 2
		Correct:            7,  // P1 3 (Oct 1 ×2, Oct 2) + P2 3 + P6 1
		Incorrect:          2,  // P1 Oct 1 11:00, P6 Oct 15 10:00
		Missing:            1,  // P1 Oct 31 23:59:59.999
		MPIDs:              4,  // AAAA, AAAB, BBBB, ZZZZ
		MPIDsOnlyCorrect:   1,  // BBBB
		MPIDsWithIncorrect: 2,  // AAAB, ZZZZ
		MPIDsWithMissing:   1,  // AAAA
		NoneSent: []store.PartyMeters{
			meters("P3", "Gamma Gas", 2),   // MPxNs 1 and 2
			meters("P5", "Epsilon plc", 1), // MPxN 5; its refused request does not count
		},
	}
}

// MPIDReport reads the report and collects its rows.
func MPIDReport(t *testing.T, db *store.DB, q store.MPIDQuery) (store.MPIDHeadline, []store.MPIDRow, error) {
	t.Helper()
	var rows []store.MPIDRow
	h, err := db.MPIDReport(ctxOf(t), q, func(r store.MPIDRow) error {
		rows = append(rows, r)
		return nil
	})
	return h, rows, err
}

// Every figure of the month, and its detail rows, as worked out by hand.
func testMPIDReport(t *testing.T, open Opener) {
	db := open(t)
	MPIDFixture(t, db)
	h, rows, err := MPIDReport(t, db, store.MPIDQuery{Month: MPIDMonth})
	must(t, err)
	if d := cmp.Diff(MPIDFixtureHeadline(), h); d != "" {
		t.Errorf("headline (-want +got):\n%s", d)
	}
	if d := cmp.Diff(MPIDFixtureRows(), rows); d != "" {
		t.Errorf("detail (-want +got):\n%s", d)
	}
}

// One party's report reads that party's rows only, and its own figures.
func testMPIDReportParty(t *testing.T, open Opener) {
	db := open(t)
	MPIDFixture(t, db)
	h, rows, err := MPIDReport(t, db, store.MPIDQuery{Month: MPIDMonth, Party: "P1"})
	must(t, err)
	var want []store.MPIDRow
	for _, r := range MPIDFixtureRows() {
		if r.PartyID == "P1" {
			want = append(want, r)
		}
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("P1's detail (-want +got):\n%s", d)
	}
	wantH := store.MPIDHeadline{
		Parties: 1, PartiesAllSuccess: 0, PartiesWithMissing: 1,
		Total: 5, Correct: 3, Incorrect: 1, Missing: 1, // S S I S M
		MPIDs: 2, MPIDsOnlyCorrect: 0, MPIDsWithIncorrect: 1, MPIDsWithMissing: 1, // AAAA (S S M), AAAB (I S)
	}
	if d := cmp.Diff(wantH, h); d != "" {
		t.Errorf("P1's headline (-want +got):\n%s", d)
	}
	// A party that sent none: its meters, nothing else.
	h, rows, err = MPIDReport(t, db, store.MPIDQuery{Month: MPIDMonth, Party: "P3"})
	must(t, err)
	if d := cmp.Diff(store.MPIDHeadline{NoneSent: []store.PartyMeters{meters("P3", "Gamma Gas", 2)}}, h); d != "" || len(rows) != 0 {
		t.Errorf("P3's report: rows %v, headline (-want +got):\n%s", rows, d)
	}
	_, _, err = MPIDReport(t, db, store.MPIDQuery{Month: MPIDMonth, Party: "P9"})
	wantIs(t, err, store.ErrNotFound)
	if err == nil || !strings.Contains(err.Error(), `"P9"`) {
		t.Errorf("unknown party: %v, want it named", err)
	}
}

// A month with no 6.23: every figure zero, and every party with meters at
// its end listed; a month that is not a month is refused.
func testMPIDReportEmpty(t *testing.T, open Opener) {
	db := open(t)
	MPIDFixture(t, db)
	h, rows, err := MPIDReport(t, db, store.MPIDQuery{Month: time.Date(2022, 12, 1, 0, 0, 0, 0, time.UTC)})
	must(t, err)
	want := store.MPIDHeadline{NoneSent: []store.PartyMeters{
		meters("P2", "Beta Power", 2),  // MPxNs 3 and 6
		meters("P3", "Gamma Gas", 2),   // MPxNs 1 and 4 (2 ended on Nov 1)
		meters("P5", "Epsilon plc", 1), // MPxN 5
	}}
	if d := cmp.Diff(want, h); d != "" || len(rows) != 0 {
		t.Errorf("December: rows %v, headline (-want +got):\n%s", rows, d)
	}
	for _, m := range []time.Time{{}, MPIDMonth.AddDate(0, 0, 1), MPIDMonth.Add(time.Hour)} {
		_, _, err := MPIDReport(t, db, store.MPIDQuery{Month: m})
		wantIs(t, err, store.ErrInvalid)
	}
}

func meters(id, name string, n int64) store.PartyMeters {
	return store.PartyMeters{PartyID: id, PartyName: name, Meters: n}
}

// What counts is the outcome recorded at step 8, whatever happened to the
// request next: a quarantined request counts, and one refused at step 8
// (enforce), but not one refused before it.
func testMPIDReportStates(t *testing.T, open Opener) {
	db := open(t)
	MPIDFixture(t, db)
	ctx := ctxOf(t)
	march := time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)
	at := march.Add(9 * 24 * hour)
	user := eu(0x70, 2)
	for i, r := range []store.Received{
		{State: store.RequestQuarantined, Hold: holdFor(1, at.Add(24*hour)),
			MPID: &store.MPIDRecord{Outcome: "S", Expected: "BBBB", Presented: "BBBB", SignerSerial: "0b01"}},
		{State: store.RequestRejected, Reason: "mpid-mismatch", ResponseCode: "E7",
			MPID: &store.MPIDRecord{Outcome: "I", Expected: "BBBB", Presented: "AAAA", SignerSerial: "0b02"}},
		{State: store.RequestRejected, Reason: "not-authorised", ResponseCode: "E4"},
	} {
		r.ID, r.At, r.Party = store.RequestID{Originator: user, Target: eu(0x00, 1), Counter: uint64(i + 1)}, at, "P2"
		must(t, db.RecordRequest(ctx, r))
	}
	h, rows, err := MPIDReport(t, db, store.MPIDQuery{Month: march})
	must(t, err)
	want := store.MPIDHeadline{
		Parties: 1, PartiesAllSuccess: 0, PartiesWithMissing: 0, // P2: S and I
		Total: 2, Correct: 1, Incorrect: 1, Missing: 0, // the quarantined S, the refused I; not the E4
		MPIDs: 1, MPIDsOnlyCorrect: 0, MPIDsWithIncorrect: 1, MPIDsWithMissing: 0, // BBBB
		NoneSent: []store.PartyMeters{meters("P3", "Gamma Gas", 2), meters("P5", "Epsilon plc", 1)}, // MPxNs 1 and 4; 5
	}
	if d := cmp.Diff(want, h); d != "" {
		t.Errorf("March 2023 (-want +got):\n%s", d)
	}
	day := time.Date(2023, 3, 10, 0, 0, 0, 0, time.UTC)
	wantRows := []store.MPIDRow{
		{PartyID: "P2", PartyName: "Beta Power", MPID: "BBBB", SignerSerial: "0b01", Day: day, Outcome: "S", Count: 1},
		{PartyID: "P2", PartyName: "Beta Power", MPID: "BBBB", SignerSerial: "0b02", Day: day, Outcome: "I", Count: 1},
	}
	if d := cmp.Diff(wantRows, rows); d != "" {
		t.Errorf("March 2023's rows (-want +got):\n%s", d)
	}
}
