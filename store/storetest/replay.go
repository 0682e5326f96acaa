package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

func testReplayOrder(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	user, dev, dev2 := eu(0x90, 1), eu(0x00, 1), eu(0x00, 2)

	must(t, db.AcceptRequestID(ctx, user, dev, 0)) // anything goes first time, even 0
	wantIs(t, db.AcceptRequestID(ctx, user, dev, 0), store.ErrReplay)
	must(t, db.AcceptRequestID(ctx, user, dev, 1006))
	wantIs(t, db.AcceptRequestID(ctx, user, dev, 1006), store.ErrReplay) // equal
	wantIs(t, db.AcceptRequestID(ctx, user, dev, 1005), store.ErrReplay) // smaller
	must(t, db.AcceptRequestID(ctx, user, dev, 1008))                    // gaps are fine

	// The guard is per (originator, target).
	must(t, db.AcceptRequestID(ctx, user, dev2, 5))
	must(t, db.AcceptRequestID(ctx, eu(0x90, 2), dev, 5))

	// Counters are uint64: order holds above 2⁶³ (a signed column would wrap).
	must(t, db.AcceptRequestID(ctx, user, dev, 1<<63))
	must(t, db.AcceptRequestID(ctx, user, dev, 1<<63+1))
	wantIs(t, db.AcceptRequestID(ctx, user, dev, 1<<62), store.ErrReplay)
	must(t, db.AcceptRequestID(ctx, user, dev, ^uint64(0)))
	wantIs(t, db.AcceptRequestID(ctx, user, dev, ^uint64(0)), store.ErrReplay)

	// What the guard holds, read back as it holds it.
	for _, c := range []struct {
		originator, target eui.EUI
		last               uint64
		ok                 bool
	}{{user, dev, ^uint64(0), true}, {user, dev2, 5, true}, {eu(0x90, 2), dev, 5, true}, {eu(0x90, 2), dev2, 0, false}} {
		last, ok, err := db.LastAcceptedCounter(ctx, c.originator, c.target)
		if err != nil || last != c.last || ok != c.ok {
			t.Errorf("LastAcceptedCounter(%s, %s) = %d, %v, %v; want %d, %v", c.originator, c.target, last, ok, err, c.last, c.ok)
		}
	}
}

// Racing callers, half of them on a second handle, submit the same
// RequestID: exactly one is accepted each round.
func testReplayConcurrent(t *testing.T, open Opener) {
	db := open(t)
	dbs := []*store.DB{db, reopen(t, db)}
	ctx := ctxOf(t)
	user, dev := eu(0x90, 1), eu(0x00, 1)
	const rounds, racers = 50, 8
	for round := range rounds {
		counter := uint64(round + 1)
		results := make([]error, racers)
		var wg sync.WaitGroup
		for r := range racers {
			wg.Go(func() {
				results[r] = dbs[r%2].AcceptRequestID(ctx, user, dev, counter)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrReplay):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d callers accepted counter %d, want exactly 1", round, won, counter)
		}
	}
}
