package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// admission is one request AdmittedSince reports.
type admission struct {
	User eui.EUI
	At   time.Time
}

// The requests that passed step 9, from which the threshold windows are
// rebuilt after a restart.
func testAdmittedSince(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	a, b := eu(0x90, 1), eu(0x90, 2)
	since := t0
	n := uint64(0)
	// record records a request from user received at at, moved through
	// steps, and returns it.
	record := func(user eui.EUI, at time.Time, steps ...store.RequestState) store.RequestID {
		t.Helper()
		n++
		id := store.RequestID{Originator: user, Target: eu(0x00, uint32(n)), Counter: n}
		must(t, db.ReceiveRequest(ctx, id, at))
		for _, s := range steps {
			must(t, db.UpdateRequest(ctx, id, store.RequestUpdate{To: s, At: at}))
		}
		return id
	}
	sec := func(s int) time.Time { return since.Add(time.Duration(s) * time.Second) }
	authorised := []store.RequestState{store.RequestAuthorised}

	record(a, sec(-1), authorised...) // before since
	record(a, sec(0), authorised...)  // at since: counted
	record(b, sec(1))                 // not yet through step 9
	record(a, sec(2), store.RequestRejected)
	record(b, sec(3), store.RequestAuthorised, store.RequestSigned)
	record(a, sec(4), store.RequestAuthorised, store.RequestSigned, store.RequestSent)
	record(b, sec(5), store.RequestAuthorised, store.RequestSigned, store.RequestSent, store.RequestResponded)
	record(a, sec(6), store.RequestFailed) // failed before step 9: over-counted, as documented
	record(b, sec(7), store.RequestAuthorised, store.RequestFailed)
	holdRequest(t, db, a, 100, sec(8), sec(8).Add(hour)) // still held
	_, released := holdRequest(t, db, b, 101, sec(9), sec(9).Add(hour))
	_, deleted := holdRequest(t, db, a, 102, sec(10), sec(10).Add(hour))
	_, err := db.DecideHolds(ctx, nil, []store.HoldDecision{
		{Ref: released, To: store.HoldReleased},
		{Ref: deleted, To: store.HoldDeleted, Response: rejection("E20")},
	}, sec(20), "operator:alice")
	must(t, err)

	var got []admission
	must(t, db.AdmittedSince(ctx, since, func(user eui.EUI, at time.Time) error {
		got = append(got, admission{user, at})
		return nil
	}))
	want := []admission{{a, sec(0)}, {b, sec(3)}, {a, sec(4)}, {b, sec(5)}, {a, sec(6)}, {b, sec(7)}, {b, sec(9)}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("admitted since %v (-want +got):\n%s", since, d)
	}

	got = nil
	must(t, db.AdmittedSince(ctx, sec(5), func(user eui.EUI, at time.Time) error {
		got = append(got, admission{user, at})
		return nil
	}))
	if d := cmp.Diff(want[3:], got); d != "" {
		t.Fatalf("admitted since %v (-want +got):\n%s", sec(5), d)
	}

	// fn's error stops the walk and comes back as it was.
	stop := errors.New("stop")
	calls := 0
	err = db.AdmittedSince(ctx, since, func(eui.EUI, time.Time) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("AdmittedSince after fn failed: %v, %d calls", err, calls)
	}
}
