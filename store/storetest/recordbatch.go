package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/store"
)

// batchOf is a mix of what RecordRequest takes: MPID outcomes of every
// kind, a refusal with its acknowledgement, an immediate and a
// future-dated request, two originators and targets.
func batchOf() []store.Received {
	var rs []store.Received
	for i := range 12 {
		id := store.RequestID{Originator: eu(0x90, uint32(1+i%2)), Target: eu(0x00, uint32(1+i%3)), Counter: uint64(100 + i)}
		r := store.Received{ID: id, At: t0.Add(time.Duration(i) * time.Minute), Party: "SUP1", State: store.RequestAuthorised,
			MPID: &store.MPIDRecord{Outcome: "S", Presented: "MPA", Expected: "MPA", SignerSerial: "1f"}}
		switch i % 4 {
		case 1:
			r.MPID = &store.MPIDRecord{Outcome: "I", Presented: "MPB", Expected: "MPA", SignerSerial: "2e"}
		case 2:
			r.MPID = &store.MPIDRecord{Outcome: "M", Expected: "MPA", SignerSerial: "3d"}
			r.ExecuteAt = r.At.Add(48 * hour)
		case 3:
			r.MPID, r.State, r.Reason, r.ResponseCode = nil, store.RequestRejected, "mpid-mismatch", "E062303"
			r.Response = ack("E062303", time.Time{})
		}
		rs = append(rs, r)
	}
	return rs
}

// testRequestRecordBatch: RecordRequests stores what RecordRequest one by
// one stores, and refuses a batch whole where RecordRequest would refuse
// one of its requests.
func testRequestRecordBatch(t *testing.T, open Opener) {
	ctx := ctxOf(t)
	one, batch := open(t), open(t)
	rs := batchOf()
	for _, r := range rs {
		must(t, one.RecordRequest(ctx, r))
	}
	must(t, batch.RecordRequests(ctx, rs))
	for _, r := range rs {
		want, err := one.Request(ctx, r.ID)
		must(t, err)
		got, err := batch.Request(ctx, r.ID)
		must(t, err)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("request %s, batch against one by one (-want +got):\n%s", r.ID, d)
		}
		wantResp, gotResp := responsesTo(t, one, r.ID), responsesTo(t, batch, r.ID)
		for i := range gotResp {
			gotResp[i].ID = wantResp[i].ID
		}
		if d := cmp.Diff(wantResp, gotResp); d != "" {
			t.Fatalf("responses to %s, batch against one by one (-want +got):\n%s", r.ID, d)
		}
	}
	wantCounts, err := one.CountRequests(ctx)
	must(t, err)
	gotCounts, err := batch.CountRequests(ctx)
	must(t, err)
	if d := cmp.Diff(wantCounts, gotCounts); d != "" {
		t.Fatalf("request counts (-one by one +batch):\n%s", d)
	}

	// A batch that holds one replay, or one request RecordRequest refuses,
	// records none of its requests and names the one refused.
	fresh := func(n int) []store.Received {
		out := batchOf()
		for i := range out {
			out[i].ID.Counter += uint64(1000 * n)
		}
		return out
	}
	replayed := fresh(1)
	replayed[5] = rs[5] // recorded above
	inBatch := fresh(2)
	inBatch[7].ID = inBatch[6].ID // a replay of its own neighbour
	invalid := fresh(3)
	invalid[4].MPID = &store.MPIDRecord{Outcome: "X"}
	held := fresh(4)
	held[2].State = store.RequestQuarantined // without its hold
	for _, c := range []struct {
		name  string
		rs    []store.Received
		index string
		is    error
	}{
		{"a replay of a stored request", replayed, "request 5 of 12", store.ErrReplay},
		{"a replay inside the batch", inBatch, "request 7 of 12", store.ErrReplay},
		{"an invalid MPID outcome", invalid, "request 4 of 12", store.ErrInvalid},
		{"quarantined without a hold", held, "request 2 of 12", store.ErrInvalid},
	} {
		err := batch.RecordRequests(ctx, c.rs)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.index) {
			t.Fatalf("%s: %v; want %v naming %q", c.name, err, c.is, c.index)
		}
		for i, r := range c.rs {
			if r.ID == rs[5].ID {
				continue
			}
			if _, err := batch.Request(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: request %d (%s) of a refused batch: %v; want not found", c.name, i, r.ID, err)
			}
		}
	}
	got, err := batch.CountRequests(ctx)
	must(t, err)
	if d := cmp.Diff(wantCounts, got); d != "" {
		t.Fatalf("refused batches changed the counts (-before +after):\n%s", d)
	}
	// The guard is untouched by them: the first batch's counters still go.
	must(t, batch.RecordRequests(ctx, fresh(1)))
}

// testHighestAcceptedCounter: the greatest counter of any sender, by
// number, not by the first one stored or the last.
func testHighestAcceptedCounter(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	n, err := db.HighestAcceptedCounter(ctx)
	if err != nil || n != 0 {
		t.Fatalf("empty guard: %d %v; want 0", n, err)
	}
	for i, c := range []uint64{300, 1<<63 + 5, 256, 1 << 40} {
		must(t, db.AcceptRequestID(ctx, eu(0x90, uint32(i)), eu(0x00, 1), c))
	}
	if n, err = db.HighestAcceptedCounter(ctx); err != nil || n != 1<<63+5 {
		t.Fatalf("highest: %d %v; want %d", n, err, uint64(1<<63+5))
	}
}
