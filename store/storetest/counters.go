package storetest

import (
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/ecos-cos/ecos/store"
)

func testMigrateIdempotent(t *testing.T, open Opener) {
	db := open(t)
	must(t, db.Migrate(ctxOf(t)))
	cur, latest, err := db.SchemaVersion(ctxOf(t))
	must(t, err)
	if cur != latest || cur < 1 {
		t.Fatalf("schema version %d, binary has %d", cur, latest)
	}
}

func testCounterSequence(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	for want := uint64(1); want <= 5; want++ {
		got, err := db.ReserveCounter(ctx, "cos")
		must(t, err)
		if got != want {
			t.Fatalf("reservation %d returned %d", want, got)
		}
	}
	// Namespaces are independent.
	got, err := db.ReserveCounter(ctx, "tcos")
	must(t, err)
	if got != 1 {
		t.Fatalf("first tcos counter %d, want 1", got)
	}
	_, err = db.ReserveCounter(ctx, "")
	wantIs(t, err, store.ErrInvalid)
}

func testCounterRaise(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	// A key taken over from another party continues above its last counter.
	must(t, db.RaiseCounter(ctx, "tcos", 6000))
	got, err := db.ReserveCounter(ctx, "tcos")
	must(t, err)
	if got != 6001 {
		t.Fatalf("after raising to 6000, got %d", got)
	}
	// Raising below the current value changes nothing.
	must(t, db.RaiseCounter(ctx, "tcos", 10))
	got, err = db.ReserveCounter(ctx, "tcos")
	must(t, err)
	if got != 6002 {
		t.Fatalf("after a lower raise, got %d, want 6002", got)
	}
	wantIs(t, db.RaiseCounter(ctx, "tcos", math.MaxUint64), store.ErrCounterExhausted)
}

func testCounterExhausted(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	must(t, db.RaiseCounter(ctx, "cos", math.MaxInt64-1))
	got, err := db.ReserveCounter(ctx, "cos")
	must(t, err)
	if got != math.MaxInt64 {
		t.Fatalf("got %d, want 2⁶³−1", got)
	}
	_, err = db.ReserveCounter(ctx, "cos")
	wantIs(t, err, store.ErrCounterExhausted)
}

// reserveConcurrently has workers goroutines each reserve n counters from
// the DB it is given (round-robin over dbs) and checks that every counter
// is unique, each goroutine saw its own strictly increasing, and together
// they are exactly 1..workers*n: nothing lost, nothing repeated.
func reserveConcurrently(t *testing.T, dbs []*store.DB, workers, n int) {
	t.Helper()
	ctx := ctxOf(t)
	got := make([][]uint64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		db := dbs[w%len(dbs)]
		wg.Go(func() {
			for range n {
				c, err := db.ReserveCounter(ctx, "cos")
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], c)
			}
		})
	}
	wg.Wait()
	var all []uint64
	for w := range workers {
		must(t, errs[w])
		if !slices.IsSorted(got[w]) || len(slices.Compact(slices.Clone(got[w]))) != n {
			t.Fatalf("worker %d: counters not strictly increasing", w)
		}
		all = append(all, got[w]...)
	}
	slices.Sort(all)
	for i, c := range all {
		if c != uint64(i+1) {
			t.Fatalf("counter #%d is %d: repeated or lost counters", i+1, c)
		}
	}
}

func testCounterConcurrent(t *testing.T, open Opener) {
	reserveConcurrently(t, []*store.DB{open(t)}, 8, 1000)
}

// Two handles stand for two worker processes on one database.
func testCounterTwoHandles(t *testing.T, open Opener) {
	db := open(t)
	reserveConcurrently(t, []*store.DB{db, reopen(t, db)}, 8, 1000)
}
