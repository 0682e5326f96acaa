package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// walk moves device along path (path[0] is its current state), failing
// the test at any refusal.
func walk(t *testing.T, db *store.DB, device eui.EUI, path ...store.MigrationState) {
	t.Helper()
	for i := 1; i < len(path); i++ {
		_, err := db.MoveDevice(ctxOf(t), store.Move{Device: device, From: path[i-1], To: path[i],
			At: t0.Add(hour * time.Duration(i)), Cause: fmt.Sprintf("step %d", i), Counter: uint64(i)})
		must(t, err)
	}
}

// A migration that retries once, then succeeds; every step is in the
// history with its time, cause, attempt and counter, and the credential
// follows the resting states.
func testMigrationLifecycle(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	must(t, db.ImportDevices(ctx, devices(1)))
	d := eu(0x00, 1)
	path := []store.MigrationState{store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationRetryWait,
		store.MigrationQueued, store.MigrationSent, store.MigrationUnknown, store.MigrationECoS}
	for i := 1; i < len(path); i++ {
		m := store.Move{Device: d, From: path[i-1], To: path[i], At: t0.Add(hour * time.Duration(i)), Cause: fmt.Sprintf("step %d", i)}
		if path[i] == store.MigrationSent {
			m.Counter = uint64(100 + i)
		}
		if path[i] == store.MigrationECoS {
			m.SKI = []byte{0xEC, 0, 0, 0, 0, 0, 0, 1}
		}
		st, err := db.MoveDevice(ctx, m)
		must(t, err)
		if st.State != path[i] || st.Seq != int64(i) || !st.Since.Equal(m.At) {
			t.Fatalf("step %d: status %+v", i, st)
		}
		dev, err := db.Device(ctx, d)
		must(t, err)
		wantCred := map[store.MigrationState]store.Credential{store.MigrationUnknown: store.CredentialUnknown,
			store.MigrationECoS: store.CredentialECoS}[path[i]]
		if wantCred == "" {
			wantCred = store.CredentialTCoS
		}
		if dev.Credential != wantCred {
			t.Fatalf("step %d (%s): credential %s, want %s", i, path[i], dev.Credential, wantCred)
		}
	}
	if dev, _ := db.Device(ctx, d); string(dev.CredentialSKI) != string([]byte{0xEC, 0, 0, 0, 0, 0, 0, 1}) {
		t.Fatalf("SKI after ecos: % x", dev.CredentialSKI)
	}
	h, err := db.MigrationHistory(ctx, d)
	must(t, err)
	if len(h) != len(path)-1 {
		t.Fatalf("%d history rows, want %d", len(h), len(path)-1)
	}
	wantAttempts := []int64{0, 1, 1, 1, 2, 2, 2}
	for i, tr := range h {
		if tr.Seq != int64(i+1) || tr.From != path[i] || tr.To != path[i+1] || !tr.At.Equal(t0.Add(hour*time.Duration(i+1))) ||
			tr.Cause != fmt.Sprintf("step %d", i+1) || tr.Attempt != wantAttempts[i] {
			t.Errorf("history row %d: %+v", i, tr)
		}
		if wantCounter := map[bool]uint64{true: uint64(101 + i)}[path[i+1] == store.MigrationSent]; tr.Counter != wantCounter {
			t.Errorf("history row %d: counter %d, want %d", i, tr.Counter, wantCounter)
		}
	}
	// ecos is final.
	_, err = db.MoveDevice(ctx, store.Move{Device: d, From: store.MigrationECoS, To: store.MigrationQueued, At: t0, Cause: "again"})
	wantTransition(t, err, string(store.MigrationECoS))
}

// Refusals change nothing: an edge the graph lacks, a stale expected
// state (naming the current one), an unknown device, a move without a
// cause or time.
func testMigrationRefusals(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	must(t, db.ImportDevices(ctx, devices(1)))
	d := eu(0x00, 1)
	move := func(from, to store.MigrationState) error {
		_, err := db.MoveDevice(ctx, store.Move{Device: d, From: from, To: to, At: t0, Cause: "test"})
		return err
	}
	wantTransition(t, move(store.MigrationTCoS, store.MigrationSent), string(store.MigrationTCoS))   // skips queued
	wantTransition(t, move(store.MigrationTCoS, store.MigrationECoS), string(store.MigrationTCoS))   // no command, no ecos
	wantTransition(t, move(store.MigrationUnknown, store.MigrationQueued), "unknown")                // never sent on a guess
	wantTransition(t, move(store.MigrationExcluded, store.MigrationTCoS), "excluded")                // back only by read-back
	wantTransition(t, move(store.MigrationQueued, store.MigrationSent), string(store.MigrationTCoS)) // stale: it is in tcos
	wantTransition(t, move("nonsense", store.MigrationQueued), "nonsense")
	_, err := db.MoveDevice(ctx, store.Move{Device: eu(0x00, 9), From: store.MigrationTCoS, To: store.MigrationQueued, At: t0, Cause: "x"})
	wantIs(t, err, store.ErrNotFound)
	_, err = db.MoveDevice(ctx, store.Move{Device: d, From: store.MigrationTCoS, To: store.MigrationQueued, At: t0})
	wantIs(t, err, store.ErrInvalid)
	_, err = db.MoveDevice(ctx, store.Move{Device: d, From: store.MigrationTCoS, To: store.MigrationQueued, Cause: "x"})
	wantIs(t, err, store.ErrInvalid)
	st, err := db.MigrationStatusOf(ctx, d)
	must(t, err)
	if st != (store.MigrationStatus{State: store.MigrationTCoS}) {
		t.Fatalf("after refusals: %+v", st)
	}
	if h, err := db.MigrationHistory(ctx, d); err != nil || len(h) != 0 {
		t.Fatalf("history after refusals: %v, %v", h, err)
	}
	_, err = db.MigrationHistory(ctx, eu(0x00, 9))
	wantIs(t, err, store.ErrNotFound)
}

// Random sequences of moves, some from a stale state: a move succeeds
// exactly when it starts from the current state along an edge of the
// graph; the device never leaves the graph; its credential is its state
// whenever the state is a resting one; and the history replays, edge by
// edge, to the current state.
func testMigrationProperty(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	var n atomic.Uint32
	rapid.Check(t, func(rt *rapid.T) {
		d := device(n.Add(1))
		d.Credential = rapid.SampledFrom([]store.Credential{store.CredentialTCoS, store.CredentialECoS, store.CredentialUnknown}).Draw(rt, "credential")
		if err := db.ImportDevices(ctx, []store.Device{d}); err != nil {
			rt.Fatal(err)
		}
		cur := store.MigrationState(d.Credential)
		steps := rapid.IntRange(0, 30).Draw(rt, "steps")
		for i := range steps {
			from := cur
			if rapid.IntRange(0, 4).Draw(rt, "stale") == 0 {
				from = rapid.SampledFrom(store.MigrationStates).Draw(rt, "from")
			}
			to := rapid.SampledFrom(store.MigrationStates).Draw(rt, "to")
			_, err := db.MoveDevice(ctx, store.Move{Device: d.EUI, From: from, To: to, At: t0.Add(hour * time.Duration(i)), Cause: "p"})
			ok := from == cur && store.MigrationAllowed(from, to)
			switch {
			case ok && err != nil:
				rt.Fatalf("%s → %s refused: %v", from, to, err)
			case !ok && !errors.Is(err, store.ErrTransition):
				rt.Fatalf("%s → %s (current %s): got %v, want a refusal", from, to, cur, err)
			case ok:
				cur = to
			}
			st, err := db.MigrationStatusOf(ctx, d.EUI)
			if err != nil || st.State != cur {
				rt.Fatalf("state %s (%v), want %s", st.State, err, cur)
			}
			if !slices.Contains(store.MigrationStates, st.State) {
				rt.Fatalf("state %q is off the graph", st.State)
			}
			dev, err := db.Device(ctx, d.EUI)
			if err != nil {
				rt.Fatal(err)
			}
			if (cur == store.MigrationTCoS || cur == store.MigrationECoS || cur == store.MigrationUnknown) && string(dev.Credential) != string(cur) {
				rt.Fatalf("state %s with credential %s", cur, dev.Credential)
			}
		}
		h, err := db.MigrationHistory(ctx, d.EUI)
		if err != nil {
			rt.Fatal(err)
		}
		replay := store.MigrationState(d.Credential)
		for i, tr := range h {
			if tr.Seq != int64(i+1) || tr.From != replay || !store.MigrationAllowed(tr.From, tr.To) {
				rt.Fatalf("history row %d %+v does not follow %s along the graph", i, tr, replay)
			}
			replay = tr.To
		}
		if replay != cur {
			rt.Fatalf("history replays to %s, device is in %s", replay, cur)
		}
	})
}

// Many workers try each step of a migration on one device at once:
// exactly one wins each step, the others are told it moved.
func testMigrationConcurrent(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	must(t, db.ImportDevices(ctx, devices(1)))
	d := eu(0x00, 1)
	const workers = 8
	handles := []*store.DB{db, reopen(t, db)}
	path := []store.MigrationState{store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationRetryWait,
		store.MigrationQueued, store.MigrationSent, store.MigrationECoS}
	for i := 1; i < len(path); i++ {
		var wins, lost atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				<-start
				_, err := handles[w%2].MoveDevice(ctx, store.Move{Device: d, From: path[i-1], To: path[i], At: t0.Add(hour * time.Duration(i)),
					Cause: fmt.Sprintf("worker %d", w)})
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, store.ErrTransition):
					lost.Add(1)
				default:
					t.Errorf("worker %d: %v", w, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || lost.Load() != workers-1 {
			t.Fatalf("step %d (%s → %s): %d won, %d lost", i, path[i-1], path[i], wins.Load(), lost.Load())
		}
	}
	h, err := db.MigrationHistory(ctx, d)
	must(t, err)
	if len(h) != len(path)-1 {
		t.Fatalf("%d history rows, want %d", len(h), len(path)-1)
	}
}

// NextDevices pages through a state in EUI order, filtered.
func testMigrationNextDevices(t *testing.T, open Opener) {
	db := withSuppliers(t, open)
	ctx := ctxOf(t)
	ds := invDevices(30)
	_, err := importInventory(t, db, ds)
	must(t, err)
	walk(t, db, ds[0].EUI, store.MigrationTCoS, store.MigrationQueued)
	all := func(f store.WaveFilter) []eui.EUI {
		var out []eui.EUI
		for {
			page, err := db.NextDevices(ctx, f, 4)
			must(t, err)
			out = append(out, page...)
			if len(page) < 4 {
				return out
			}
			f.After = page[len(page)-1]
		}
	}
	want := func(keep func(store.InventoryDevice) bool) []eui.EUI {
		var out []eui.EUI
		for _, d := range ds[1:] {
			if keep(d) {
				out = append(out, d.EUI)
			}
		}
		return out
	}
	cases := []struct {
		name string
		f    store.WaveFilter
		keep func(store.InventoryDevice) bool
	}{
		{"all", store.WaveFilter{}, func(store.InventoryDevice) bool { return true }},
		{"supplier", store.WaveFilter{Suppliers: []string{"SUP2"}}, func(d store.InventoryDevice) bool { return d.ResponsibleSupplier == "SUP2" }},
		{"maker and firmware", store.WaveFilter{Manufacturers: []string{"Maker 1", "Maker 2"}, Firmware: []string{"1.0"}},
			func(d store.InventoryDevice) bool { return d.Manufacturer != "Maker 0" && d.Firmware == "1.0" }},
		{"mpxn prefix", store.WaveFilter{MPxNPrefix: mpan(1)[:12]}, func(d store.InventoryDevice) bool { return d.MPxN[:12] == mpan(1)[:12] }},
		{"installed", store.WaveFilter{InstalledFrom: t0.Add(-10 * hour), InstalledTo: t0.Add(-5 * hour)},
			func(d store.InventoryDevice) bool {
				return !d.Installed.Before(t0.Add(-10*hour)) && d.Installed.Before(t0.Add(-5*hour))
			}},
		{"model none", store.WaveFilter{Models: []string{"M9"}}, func(store.InventoryDevice) bool { return false }},
	}
	for _, c := range cases {
		c.f.State = store.MigrationTCoS
		got, w := all(c.f), want(c.keep)
		if !slices.Equal(got, w) {
			t.Errorf("%s: got %v, want %v", c.name, got, w)
		}
	}
	if got, err := db.NextDevices(ctx, store.WaveFilter{State: store.MigrationQueued}, 10); err != nil || !slices.Equal(got, []eui.EUI{ds[0].EUI}) {
		t.Errorf("queued: %v, %v", got, err)
	}
	_, err = db.NextDevices(ctx, store.WaveFilter{State: "nonsense"}, 10)
	wantIs(t, err, store.ErrInvalid)
	_, err = db.NextDevices(ctx, store.WaveFilter{State: store.MigrationTCoS}, 0)
	wantIs(t, err, store.ErrInvalid)
}

// A batch of moves: each is made or refused on its own, in order, in one
// transaction.
func testMigrationBatch(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	must(t, db.ImportDevices(ctx, devices(4)))
	mv := func(n uint32, from, to store.MigrationState, cause string) store.Move {
		return store.Move{Device: eu(0x00, n), From: from, To: to, At: t0, Cause: cause}
	}
	res, err := db.MoveDevices(ctx, []store.Move{
		mv(1, store.MigrationTCoS, store.MigrationQueued, "wave 1"),
		mv(1, store.MigrationQueued, store.MigrationSent, "wave 1"), // sees the move before it
		mv(2, store.MigrationQueued, store.MigrationSent, "stale"),
		mv(3, store.MigrationTCoS, store.MigrationECoS, "no edge"),
		mv(9, store.MigrationTCoS, store.MigrationQueued, "no device"),
		mv(4, store.MigrationTCoS, store.MigrationQueued, ""),
		mv(2, store.MigrationTCoS, store.MigrationExcluded, "operator"),
	})
	must(t, err)
	want := []struct {
		state store.MigrationState
		err   error
	}{{store.MigrationQueued, nil}, {store.MigrationSent, nil}, {"", store.ErrTransition}, {"", store.ErrTransition},
		{"", store.ErrNotFound}, {"", store.ErrInvalid}, {store.MigrationExcluded, nil}}
	if len(res) != len(want) {
		t.Fatalf("%d results for %d moves", len(res), len(want))
	}
	for i, w := range want {
		if res[i].Status.State != w.state || (w.err == nil) != (res[i].Err == nil) || (w.err != nil && !errors.Is(res[i].Err, w.err)) {
			t.Errorf("move %d: %+v, want state %q error %v", i, res[i], w.state, w.err)
		}
	}
	if te, ok := errors.AsType[*store.TransitionError](res[2].Err); !ok || te.From != string(store.MigrationTCoS) {
		t.Errorf("stale move: %v, want one naming tcos", res[2].Err)
	}
	for n, st := range map[uint32]store.MigrationState{1: store.MigrationSent, 2: store.MigrationExcluded, 3: store.MigrationTCoS, 4: store.MigrationTCoS} {
		got, err := db.MigrationStatusOf(ctx, eu(0x00, n))
		must(t, err)
		if got.State != st {
			t.Errorf("device %d in %s, want %s", n, got.State, st)
		}
	}
	if h, _ := db.MigrationHistory(ctx, eu(0x00, 1)); len(h) != 2 || h[1].Attempt != 1 {
		t.Errorf("device 1 history %+v", h)
	}
	_, err = db.MoveDevices(ctx, make([]store.Move, 1001))
	wantIs(t, err, store.ErrInvalid)

	// Two workers queue the same devices in batches at once: every device
	// is queued once, by one of them.
	const n = 200
	ds := make([]store.Device, n)
	for i := range ds {
		ds[i] = device(uint32(100 + i))
	}
	must(t, db.ImportDevices(ctx, ds))
	var moved [2]int
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w, h := range []*store.DB{db, reopen(t, db)} {
		wg.Go(func() {
			<-start
			for lo := 0; lo < n; lo += 50 {
				batch := make([]store.Move, 0, 50)
				for i := lo; i < lo+50; i++ {
					batch = append(batch, mv(uint32(100+i), store.MigrationTCoS, store.MigrationQueued, fmt.Sprintf("worker %d", w)))
				}
				res, err := h.MoveDevices(ctx, batch)
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				for _, r := range res {
					if r.Err == nil {
						moved[w]++
					} else if !errors.Is(r.Err, store.ErrTransition) {
						t.Errorf("worker %d: %v", w, r.Err)
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if moved[0]+moved[1] != n {
		t.Fatalf("workers moved %d and %d devices, want %d in all", moved[0], moved[1], n)
	}
	c, err := db.MigrationCounts(ctx)
	must(t, err)
	if c[store.MigrationQueued] != n {
		t.Fatalf("%d queued, want %d", c[store.MigrationQueued], n)
	}
}
