package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

// testDashboardCounts: the dashboard's views count by UTC day, state,
// reason and MPID outcome in the database, within [From, End) only, and
// one party's rows when asked.
func testDashboardCounts(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	day := t0.Truncate(24 * hour)
	n := uint64(0)
	record := func(at time.Time, party string, state store.RequestState, reason, code, outcome string) {
		t.Helper()
		n++
		r := store.Received{ID: store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, uint32(n)), Counter: n},
			At: at, Party: party, State: state, Reason: reason, ResponseCode: code}
		if outcome != "" {
			r.MPID = &store.MPIDRecord{Outcome: outcome, Expected: "ABCD"}
		}
		must(t, db.RecordRequest(ctx, r))
	}
	record(day, "SUP1", store.RequestAuthorised, "", "", "S")
	record(day.Add(23*hour), "SUP1", store.RequestAuthorised, "", "", "S")
	record(day.Add(24*hour), "SUP1", store.RequestAuthorised, "", "", "I")
	record(day.Add(25*hour), "SUP2", store.RequestRejected, "mpid: certificate carries no MPID", "E61", "M")
	record(day.Add(26*hour), "SUP2", store.RequestRejected, "signature", "E2", "")
	record(day.Add(-time.Microsecond), "SUP1", store.RequestRejected, "too early", "E2", "")
	record(day.Add(48*hour), "SUP1", store.RequestRejected, "too late", "E2", "")
	q := store.DashQuery{From: day, End: day.Add(48 * hour)}
	check := func(what string, got []store.DashCount, err error, want []store.DashCount) {
		t.Helper()
		must(t, err)
		slices.SortFunc(got, func(a, b store.DashCount) int {
			return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Sub, b.Sub))
		})
		if d := gocmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", what, d)
		}
	}
	d1, d2 := day, day.Add(24*hour)
	got, err := db.DashboardTraffic(ctx, q)
	check("traffic", got, err, []store.DashCount{
		{Day: d1, Key: "authorised", N: 2}, {Day: d2, Key: "authorised", N: 1}, {Day: d2, Key: "rejected", N: 2}})
	got, err = db.DashboardRefusals(ctx, q)
	check("refusals", got, err, []store.DashCount{
		{Key: "mpid: certificate carries no MPID", Sub: "E61", N: 1}, {Key: "signature", Sub: "E2", N: 1}})
	got, err = db.DashboardMPID(ctx, q)
	check("mpid", got, err, []store.DashCount{
		{Key: "SUP1", Sub: "I", N: 1}, {Key: "SUP1", Sub: "S", N: 2}, {Key: "SUP2", Sub: "M", N: 1}})
	q.Party = "SUP2"
	got, err = db.DashboardTraffic(ctx, q)
	check("traffic of SUP2", got, err, []store.DashCount{{Day: d2, Key: "rejected", N: 2}})
	got, err = db.DashboardMPID(ctx, q)
	check("mpid of SUP2", got, err, []store.DashCount{{Key: "SUP2", Sub: "M", N: 1}})
	for _, f := range []func() ([]store.DashCount, error){
		func() ([]store.DashCount, error) { return db.DashboardHolds(ctx, q) },
		func() ([]store.DashCount, error) { return db.DashboardResponseTimes(ctx, q) },
		func() ([]store.DashCount, error) { return db.DashboardCommandOutcomes(ctx, q) },
	} {
		got, err := f()
		check("empty view", got, err, nil)
	}
	if _, err := db.DashboardTraffic(ctx, store.DashQuery{From: day, End: day}); err == nil {
		t.Error("an empty window was counted")
	}
}
