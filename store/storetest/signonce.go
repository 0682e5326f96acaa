package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ecos-cos/ecos/store"
)

// A request is signed once, and the database says so: a second command
// for a request is refused whatever the code above the store does, in
// every state the first one can be in, except an intent abandoned before
// it was signed (what recovery does with an intent whose fate it cannot
// know).
func testSignOnceStates(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	steps := map[string]func(t *testing.T, id store.CommandID, in store.Intent){
		"intent": func(*testing.T, store.CommandID, store.Intent) {},
		"signed": func(t *testing.T, id store.CommandID, _ store.Intent) {
			must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
		},
		"sent": func(t *testing.T, id store.CommandID, _ store.Intent) {
			must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
			must(t, db.MarkSent(ctx, id, t0))
		},
		"responded": func(t *testing.T, id store.CommandID, in store.Intent) {
			must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
			must(t, db.MarkSent(ctx, id, t0))
			_, err := db.RecordResponse(ctx, in.Device, in.Counter, []byte("answer"), "success", t0)
			must(t, err)
		},
		"failed after signing": func(t *testing.T, id store.CommandID, _ store.Intent) {
			must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
			must(t, db.MarkFailed(ctx, id, "gave up", t0))
		},
		"failed after sending": func(t *testing.T, id store.CommandID, _ store.Intent) {
			must(t, db.MarkSigned(ctx, id, []byte("frame"), t0))
			must(t, db.MarkSent(ctx, id, t0))
			must(t, db.MarkFailed(ctx, id, "no response", t0))
		},
	}
	n := uint32(0)
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			n++
			req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, n), Counter: 100 + uint64(n)}
			must(t, db.ReceiveRequest(ctx, req, t0))
			id, in := intentFor(t, db, n, req)
			step(t, id, in)
			before, err := db.ReserveCounter(ctx, "cos")
			must(t, err)

			// Straight to the insert, and the way the signer goes: both
			// refused, and the refused reservation spends no counter.
			second := in
			second.Counter = before + 1000
			second.TBS = []byte("second")
			_, err = db.RecordIntent(ctx, second)
			wantLive(t, err)
			_, _, err = db.ReserveIntent(ctx, "cos", func(c uint64) (store.Intent, error) {
				second.Counter = c
				return second, nil
			})
			wantLive(t, err)
			if after, err := db.ReserveCounter(ctx, "cos"); err != nil || after != before+1 {
				t.Fatalf("counter after a refused second command: %d %v, want %d", after, err, before+1)
			}
			cs, err := db.CommandsForRequest(ctx, req)
			must(t, err)
			if len(cs) != 1 || cs[0].ID != id {
				t.Fatalf("commands for the request after a refused second one: %+v", cs)
			}
		})
	}

	// An intent abandoned unsigned may be followed by a new command, which
	// is then the one live command; the party's own commands (no request)
	// are not bound at all.
	req := store.RequestID{Originator: eu(0x90, 1), Target: eu(0x00, 99), Counter: 99}
	must(t, db.ReceiveRequest(ctx, req, t0))
	first, _ := intentFor(t, db, 99, req)
	must(t, db.MarkFailed(ctx, first, "never sent: the service stopped while signing", t0))
	again, _ := intentFor(t, db, 99, req)
	must(t, db.MarkSigned(ctx, again, []byte("frame"), t0))
	_, err := db.RecordIntent(ctx, store.Intent{RequestID: req, Device: req.Target, Counter: 1 << 40, KeyID: "ecos", TBS: []byte{1}, CreatedAt: t0})
	wantLive(t, err)
	for range 3 {
		intentFor(t, db, 99, store.RequestID{})
	}
}

// Racing signers for one request, half on a second handle, each through
// the counter and intent transaction the signer uses: exactly one command
// is recorded and exactly one counter spent, whoever wins.
func testSignOnceConcurrent(t *testing.T, open Opener) {
	db := open(t)
	dbs := []*store.DB{db, reopen(t, db)}
	ctx := ctxOf(t)
	const racers = 8
	for round := range 10 {
		req := store.RequestID{Originator: eu(0x90, 2), Target: eu(0x00, uint32(round+1)), Counter: uint64(round + 1)}
		must(t, db.ReceiveRequest(ctx, req, t0))
		start, err := db.ReserveCounter(ctx, "cos")
		must(t, err)
		results := make([]error, racers)
		var wg sync.WaitGroup
		for r := range racers {
			wg.Go(func() {
				_, _, results[r] = dbs[r%2].ReserveIntent(ctx, "cos", func(c uint64) (store.Intent, error) {
					return store.Intent{RequestID: req, Device: req.Target, Counter: c, KeyID: "ecos",
						TBS: []byte(fmt.Sprintf("racer %d", r)), CreatedAt: t0}, nil
				})
			})
		}
		wg.Wait()
		won := 0
		for r, err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrLiveCommand):
				t.Fatalf("round %d racer %d: %v, want ErrLiveCommand", round, r, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d commands recorded for one request, want 1", round, won)
		}
		cs, err := db.CommandsForRequest(ctx, req)
		must(t, err)
		if len(cs) != 1 || cs[0].Counter != start+1 {
			t.Fatalf("round %d: commands %+v, want one with counter %d", round, cs, start+1)
		}
		if next, err := db.ReserveCounter(ctx, "cos"); err != nil || next != start+2 {
			t.Fatalf("round %d: next counter %d %v, want %d: a refused command spent one", round, next, err, start+2)
		}
	}
}

func wantLive(t *testing.T, err error) {
	t.Helper()
	wantIs(t, err, store.ErrLiveCommand)
	wantIs(t, err, store.ErrDuplicate)
}
