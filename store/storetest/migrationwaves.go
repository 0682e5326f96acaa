package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// waveFleet imports two suppliers and n inventory devices (invDevice).
func waveFleet(t *testing.T, open Opener, n int) *store.DB {
	t.Helper()
	db := withSuppliers(t, open)
	_, err := importInventory(t, db, invDevices(n))
	must(t, err)
	return db
}

func newWave(t *testing.T, db *store.DB, name string, f store.WaveFilter) store.Wave {
	t.Helper()
	id, err := db.CreateWave(ctxOf(t), store.Wave{Name: name, Filter: f, Rate: 10, Concurrency: 4, CreatedAt: t0})
	must(t, err)
	w, err := db.WaveByID(ctxOf(t), id)
	must(t, err)
	return w
}

func ns(ns ...uint32) []eui.EUI {
	out := make([]eui.EUI, len(ns))
	for i, n := range ns {
		out[i] = eu(0x00, n)
	}
	return out
}

func stateOf(t *testing.T, db *store.DB, d eui.EUI) store.MigrationState {
	t.Helper()
	st, err := db.MigrationStatusOf(ctxOf(t), d)
	must(t, err)
	return st.State
}

// A wave comes back as it was created; every bad wave is refused with
// ErrInvalid and nothing is written.
func testWaveCreate(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	f := store.WaveFilter{Suppliers: []string{"SUP1"}, Manufacturers: []string{"Maker 1", "Maker 2"}, Models: []string{"M1"},
		Firmware: []string{"1.0"}, MPxNPrefix: "19", InstalledFrom: t0.Add(-48 * hour), InstalledTo: t0,
		Devices: ns(1, 2), State: store.MigrationQueued, After: eu(0, 9)}
	id, err := db.CreateWave(ctx, store.Wave{Name: "north", Filter: f, Rate: 2.5, Concurrency: 7, CreatedAt: t0})
	must(t, err)
	w, err := db.WaveByID(ctx, id)
	must(t, err)
	f.State, f.After = "", eui.EUI{} // not part of a wave
	want := store.Wave{ID: id, Name: "north", Filter: f, Rate: 2.5, Concurrency: 7, State: store.WaveRunning,
		CreatedAt: t0.Truncate(time.Microsecond), UpdatedAt: t0.Truncate(time.Microsecond)}
	if d := cmp.Diff(want, w); d != "" {
		t.Fatalf("wave (-want +got):\n%s", d)
	}
	id2, err := db.CreateWave(ctx, store.Wave{Name: "all", Concurrency: 1, CreatedAt: t0})
	must(t, err)
	if id2 <= id {
		t.Errorf("second wave id %d after %d", id2, id)
	}

	tooMany := make([]eui.EUI, store.MaxWaveDevices+1)
	for i := range tooMany {
		tooMany[i] = eu(0x00, uint32(i+1))
	}
	good := store.Wave{Name: "w", Concurrency: 1, CreatedAt: t0}
	for name, edit := range map[string]func(*store.Wave){
		"no name":              func(w *store.Wave) { w.Name = "" },
		"long name":            func(w *store.Wave) { w.Name = strings.Repeat("n", 201) },
		"control in name":      func(w *store.Wave) { w.Name = "a\nb" },
		"invalid utf-8 name":   func(w *store.Wave) { w.Name = "a\xffb" },
		"negative rate":        func(w *store.Wave) { w.Rate = -1 },
		"NaN rate":             func(w *store.Wave) { w.Rate = math.NaN() },
		"infinite rate":        func(w *store.Wave) { w.Rate = math.Inf(1) },
		"zero concurrency":     func(w *store.Wave) { w.Concurrency = 0 },
		"huge concurrency":     func(w *store.Wave) { w.Concurrency = store.MaxWaveConcurrency + 1 },
		"no creation time":     func(w *store.Wave) { w.CreatedAt = time.Time{} },
		"10,001 devices":       func(w *store.Wave) { w.Filter.Devices = tooMany },
		"empty supplier":       func(w *store.Wave) { w.Filter.Suppliers = []string{"SUP1", ""} },
		"control in model":     func(w *store.Wave) { w.Filter.Models = []string{"M\x00"} },
		"control in prefix":    func(w *store.Wave) { w.Filter.MPxNPrefix = "19\t" },
		"empty install range":  func(w *store.Wave) { w.Filter.InstalledFrom, w.Filter.InstalledTo = t0, t0 },
		"reversed install day": func(w *store.Wave) { w.Filter.InstalledFrom, w.Filter.InstalledTo = t0, t0.Add(-hour) },
	} {
		w := good
		edit(&w)
		if _, err := db.CreateWave(ctx, w); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if ws, err := db.Waves(ctx); err != nil || len(ws) != 2 || ws[0].ID != id || ws[1].ID != id2 {
		t.Errorf("waves after refusals: %+v, %v", ws, err)
	}
	_, err = db.WaveByID(ctx, 999)
	wantIs(t, err, store.ErrNotFound)
	_, _, err = db.WaveCounts(ctx, 999)
	wantIs(t, err, store.ErrNotFound)
}

// Every pair of wave states: the graph's edges are made, with reason and
// time, and every other move is refused naming the state the wave is in.
func testWaveStates(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	states := []store.WaveState{store.WaveRunning, store.WavePaused, store.WaveDone, store.WaveCancelled}
	allowed := map[[2]store.WaveState]bool{
		{store.WaveRunning, store.WavePaused}: true, {store.WaveRunning, store.WaveDone}: true, {store.WaveRunning, store.WaveCancelled}: true,
		{store.WavePaused, store.WaveRunning}: true, {store.WavePaused, store.WaveCancelled}: true,
		{store.WaveDone, store.WaveRunning}: true,
	}
	for _, from := range states {
		for _, to := range states {
			w := newWave(t, db, fmt.Sprintf("%s to %s", from, to), store.WaveFilter{})
			if from != store.WaveRunning {
				_, err := db.SetWaveState(ctx, w.ID, from, "setup", t0)
				must(t, err)
			}
			at := t0.Add(hour)
			got, err := db.SetWaveState(ctx, w.ID, to, "because", at)
			after, err2 := db.WaveByID(ctx, w.ID)
			must(t, err2)
			if allowed[[2]store.WaveState{from, to}] {
				if err != nil || got.State != to || got.Reason != "because" || !got.UpdatedAt.Equal(at.Truncate(time.Microsecond)) ||
					after.State != to {
					t.Errorf("%s → %s: %+v, %v", from, to, got, err)
				}
				continue
			}
			if te, ok := errors.AsType[*store.TransitionError](err); !ok || te.From != string(from) || te.To != string(to) {
				t.Errorf("%s → %s: %v, want a refusal from %s", from, to, err, from)
			}
			if after.State != from {
				t.Errorf("%s → %s refused, but the wave is %s", from, to, after.State)
			}
		}
	}
	_, err := db.SetWaveState(ctx, 999, store.WavePaused, "", t0)
	wantIs(t, err, store.ErrNotFound)
}

// PlanWave and WaveCounts choose by each filter field; an MPxN prefix
// means itself (% and _ are not patterns); only tcos and unknown devices
// in no wave are counted.
func testWaveFilters(t *testing.T, open Opener) {
	db := waveFleet(t, open, 12)
	ctx := ctxOf(t)
	// invDevice n: supplier SUP(n%2+1), manufacturer "Maker n%3", model M1,
	// firmware 1.(n%2), MPxN 19 and n in 11 digits, installed t0 − n hours.
	cases := []struct {
		name string
		f    store.WaveFilter
		want []uint32
	}{
		{"all", store.WaveFilter{}, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"supplier", store.WaveFilter{Suppliers: []string{"SUP1"}}, []uint32{2, 4, 6, 8, 10, 12}},
		{"suppliers", store.WaveFilter{Suppliers: []string{"SUP1", "SUP2"}}, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"unknown supplier", store.WaveFilter{Suppliers: []string{"SUP9"}}, nil},
		{"manufacturer", store.WaveFilter{Manufacturers: []string{"Maker 0"}}, []uint32{3, 6, 9, 12}},
		{"model", store.WaveFilter{Models: []string{"M2"}}, nil},
		{"firmware", store.WaveFilter{Firmware: []string{"1.1"}}, []uint32{1, 3, 5, 7, 9, 11}},
		{"mpxn prefix", store.WaveFilter{MPxNPrefix: "190000000001"}, []uint32{10, 11, 12}},
		{"mpxn prefix %", store.WaveFilter{MPxNPrefix: "1%"}, nil},
		{"mpxn prefix _", store.WaveFilter{MPxNPrefix: "_9"}, nil},
		{"mpxn prefix non-ascii", store.WaveFilter{MPxNPrefix: "é"}, nil},
		{"mpxn whole", store.WaveFilter{MPxNPrefix: mpan(7)}, []uint32{7}},
		{"installed from", store.WaveFilter{InstalledFrom: t0.Add(-5 * hour)}, []uint32{1, 2, 3, 4, 5}},
		{"installed to", store.WaveFilter{InstalledTo: t0.Add(-3 * hour)}, []uint32{4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"installed range", store.WaveFilter{InstalledFrom: t0.Add(-5 * hour), InstalledTo: t0.Add(-3 * hour)}, []uint32{4, 5}},
		{"devices", store.WaveFilter{Devices: ns(7, 1, 99)}, []uint32{1, 7}},
		{"supplier and manufacturer", store.WaveFilter{Suppliers: []string{"SUP1"}, Manufacturers: []string{"Maker 0"}}, []uint32{6, 12}},
	}
	for _, c := range cases {
		tcos, unknown, first, err := db.PlanWave(ctx, c.f, 100)
		if err != nil || tcos != int64(len(c.want)) || unknown != 0 || !slices.Equal(first, ns(c.want...)) {
			t.Errorf("plan %s: %d tcos, %d unknown, %v, %v; want %v", c.name, tcos, unknown, first, err, c.want)
		}
		w := newWave(t, db, c.name, c.f)
		counts, untaken, err := db.WaveCounts(ctx, w.ID)
		if err != nil || untaken != int64(len(c.want)) || len(counts) != len(store.MigrationStates) {
			t.Errorf("counts %s: %v, %d untaken, %v; want %d", c.name, counts, untaken, err, len(c.want))
		}
	}
	if _, _, first, err := db.PlanWave(ctx, store.WaveFilter{}, 3); err != nil || !slices.Equal(first, ns(1, 2, 3)) {
		t.Errorf("sample of 3: %v, %v", first, err)
	}
	for _, sample := range []int{-1, 10001} {
		_, _, _, err := db.PlanWave(ctx, store.WaveFilter{}, sample)
		wantIs(t, err, store.ErrInvalid)
	}
	_, _, _, err := db.PlanWave(ctx, store.WaveFilter{InstalledFrom: t0, InstalledTo: t0}, 1)
	wantIs(t, err, store.ErrInvalid)

	// Out of the count: excluded, ecos, and devices another wave took;
	// unknown devices are counted apart.
	walk(t, db, eu(0, 1), store.MigrationTCoS, store.MigrationExcluded)
	walk(t, db, eu(0, 2), store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationECoS)
	walk(t, db, eu(0, 3), store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationUnknown)
	other := newWave(t, db, "other", store.WaveFilter{Devices: ns(4, 5)})
	if _, taken, err := db.TakeForWave(ctx, other, eui.EUI{}, 10, t0); err != nil || taken != 2 {
		t.Fatalf("take 4 and 5: %d, %v", taken, err)
	}
	tcos, unknown, first, err := db.PlanWave(ctx, store.WaveFilter{}, 3)
	if err != nil || tcos != 7 || unknown != 1 || !slices.Equal(first, ns(3, 6, 7)) {
		t.Errorf("plan after moves: %d tcos, %d unknown, %v, %v", tcos, unknown, first, err)
	}
	counts, untaken, err := db.WaveCounts(ctx, other.ID)
	if err != nil || untaken != 0 || counts[store.MigrationQueued] != 2 || counts[store.MigrationTCoS] != 0 {
		t.Errorf("other wave: %v, %d untaken, %v", counts, untaken, err)
	}
}

// TakeForWave pages through the filter: it queues tcos devices in no
// wave, takes unknown ones in no wave for a read-back, and never touches
// an excluded, ecos or exception device or one of another wave.
func testTakeForWave(t *testing.T, open Opener) {
	db := waveFleet(t, open, 30)
	ctx := ctxOf(t)
	walk(t, db, eu(0, 2), store.MigrationTCoS, store.MigrationExcluded)
	walk(t, db, eu(0, 3), store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationECoS)
	walk(t, db, eu(0, 4), store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationUnknown)
	walk(t, db, eu(0, 5), store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationException)
	a := newWave(t, db, "a", store.WaveFilter{Devices: ns(10, 11, 12)})
	if _, taken, err := db.TakeForWave(ctx, a, eui.EUI{}, 1000, t0); err != nil || taken != 3 {
		t.Fatalf("wave a: %d, %v", taken, err)
	}
	b := newWave(t, db, "b", store.WaveFilter{})
	var after eui.EUI
	total, pages := 0, 0
	for {
		last, taken, err := db.TakeForWave(ctx, b, after, 7, t0.Add(hour))
		must(t, err)
		if last == (eui.EUI{}) {
			if taken != 0 {
				t.Fatalf("%d taken with no last device", taken)
			}
			break
		}
		if bytes.Compare(last[:], after[:]) <= 0 {
			t.Fatalf("page ended at %s after %s", last, after)
		}
		total += taken
		after = last
		if pages++; pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	// 30 devices less 2 (excluded), 3 (ecos), 5 (exception), 10-12 (wave a).
	if total != 24 {
		t.Errorf("wave b took %d devices, want 24", total)
	}
	queued, err := db.WaveDevices(ctx, b.ID, store.MigrationQueued, eui.EUI{}, t0, 1000)
	must(t, err)
	var want []uint32
	for n := uint32(1); n <= 30; n++ {
		if !slices.Contains([]uint32{2, 3, 4, 5, 10, 11, 12}, n) {
			want = append(want, n)
		}
	}
	if !slices.Equal(queued, ns(want...)) {
		t.Errorf("wave b queued %v, want %v", queued, ns(want...))
	}
	if unk, err := db.WaveDevices(ctx, b.ID, store.MigrationUnknown, eui.EUI{}, t0, 10); err != nil || !slices.Equal(unk, ns(4)) {
		t.Errorf("wave b unknown %v, %v; want device 4", unk, err)
	}
	if aq, err := db.WaveDevices(ctx, a.ID, store.MigrationQueued, eui.EUI{}, t0, 10); err != nil || !slices.Equal(aq, ns(10, 11, 12)) {
		t.Errorf("wave a lost devices: %v, %v", aq, err)
	}
	for n, st := range map[uint32]store.MigrationState{2: store.MigrationExcluded, 3: store.MigrationECoS, 4: store.MigrationUnknown, 5: store.MigrationException} {
		if got := stateOf(t, db, eu(0, n)); got != st {
			t.Errorf("device %d in %s, want %s", n, got, st)
		}
	}
	if h, _ := db.MigrationHistory(ctx, eu(0, 1)); len(h) != 1 || h[0].Cause != fmt.Sprintf("wave %d", b.ID) || h[0].To != store.MigrationQueued {
		t.Errorf("device 1 history %+v", h)
	}
	// A second pass finds nothing.
	if last, taken, err := db.TakeForWave(ctx, b, eui.EUI{}, 1000, t0); err != nil || taken != 0 || last != (eui.EUI{}) {
		t.Errorf("second pass: %s, %d, %v", last, taken, err)
	}
	for _, limit := range []int{0, 1001} {
		_, _, err := db.TakeForWave(ctx, b, eui.EUI{}, limit, t0)
		wantIs(t, err, store.ErrInvalid)
	}
}

// claimAll claims kind for every device in one batch.
func claimAll(t *testing.T, db *store.DB, kind store.OwnKind, wave store.WaveID, ds []eui.EUI, at time.Time) []store.Claimed {
	t.Helper()
	claims := make([]store.Claim, len(ds))
	for i, d := range ds {
		claims[i] = store.Claim{Device: d, Kind: kind, Wave: wave, Cause: "test"}
	}
	out, err := db.ClaimCommands(ctxOf(t), "cos", claims, at, buildFor)
	must(t, err)
	return out
}

func buildFor(c store.Claim, counter uint64) (store.Built, error) {
	return store.Built{KeyID: "tcos", TBS: fmt.Appendf(nil, "%s/%s/%d", c.Kind, c.Device, counter)}, nil
}

// queue takes the devices into a new wave.
func queue(t *testing.T, db *store.DB, ds []eui.EUI) store.Wave {
	t.Helper()
	w := newWave(t, db, "q", store.WaveFilter{Devices: ds})
	_, taken, err := db.TakeForWave(ctxOf(t), w, eui.EUI{}, 1000, t0)
	must(t, err)
	if taken != len(ds) {
		t.Fatalf("queued %d of %d", taken, len(ds))
	}
	return w
}

// ClaimCommands takes its counters above every 6.23 counter, in one
// contiguous range per call; a refused claim burns only its counter; a
// device has one open command at most.
func testClaimCommands(t *testing.T, open Opener) {
	db := waveFleet(t, open, 10)
	ctx := ctxOf(t)
	var c623 uint64
	for range 3 {
		var err error
		c623, err = db.ReserveCounter(ctx, "cos")
		must(t, err)
	}
	w := queue(t, db, ns(1, 2, 3, 5, 6))
	walk(t, db, eu(0, 7), store.MigrationTCoS, store.MigrationExcluded)
	out := claimAll(t, db, store.OwnMigrate, w.ID, ns(1, 2, 4, 3), t0)
	base := c623 + 1
	for i, n := range []uint32{1, 2, 4, 3} {
		if n == 4 { // tcos: not queued
			if _, ok := errors.AsType[*store.TransitionError](out[i].Err); !ok {
				t.Errorf("claim for tcos device 4: %v, want a transition refusal", out[i].Err)
			}
			continue
		}
		c := out[i].Command
		want := sha256.Sum256(fmt.Appendf(nil, "migrate/%s/%d", eu(0, n), base+uint64(i)))
		if out[i].Err != nil || c.Counter != base+uint64(i) || c.State != store.OwnIntent || c.KeyID != "tcos" || c.Wave != w.ID ||
			c.TBSHash != want || out[i].Attempt != 1 {
			t.Errorf("claim %d: %+v", i, out[i])
		}
		if st := stateOf(t, db, eu(0, n)); st != store.MigrationSent {
			t.Errorf("device %d in %s after its claim", n, st)
		}
		h, _ := db.MigrationHistory(ctx, eu(0, n))
		if len(h) != 2 || h[1].Counter != base+uint64(i) {
			t.Errorf("device %d history %+v", n, h)
		}
	}
	if cs, err := db.CommandsOf(ctx, eu(0, 4)); err != nil || len(cs) != 0 {
		t.Errorf("refused device 4 has commands %+v, %v", cs, err)
	}
	if st := stateOf(t, db, eu(0, 4)); st != store.MigrationTCoS {
		t.Errorf("refused device 4 in %s", st)
	}
	// The next call starts after the burnt range, and a 6.23 counter after it.
	out = claimAll(t, db, store.OwnMigrate, w.ID, ns(5, 1, 7, 99), t0)
	if out[0].Err != nil || out[0].Command.Counter != base+4 {
		t.Errorf("device 5: %+v, want counter %d", out[0], base+4)
	}
	wantIs(t, out[1].Err, store.ErrLiveCommand)
	if _, ok := errors.AsType[*store.TransitionError](out[2].Err); !ok {
		t.Errorf("excluded device 7: %v", out[2].Err)
	}
	wantIs(t, out[3].Err, store.ErrNotFound)
	if c, err := db.ReserveCounter(ctx, "cos"); err != nil || c != base+8 {
		t.Errorf("6.23 counter after claims: %d, %v; want %d", c, err, base+8)
	}

	// Read-backs: only of an unknown device, one at a time.
	walk(t, db, eu(0, 8), store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationUnknown)
	out = claimAll(t, db, store.OwnReadBack, 0, ns(8, 8, 9), t0)
	if out[0].Err != nil || out[0].Command.Kind != store.OwnReadBack || out[0].Command.Wave != 0 {
		t.Errorf("read-back of 8: %+v", out[0])
	}
	wantIs(t, out[1].Err, store.ErrLiveCommand)
	if _, ok := errors.AsType[*store.TransitionError](out[2].Err); !ok {
		t.Errorf("read-back of tcos device 9: %v", out[2].Err)
	}
	if st := stateOf(t, db, eu(0, 8)); st != store.MigrationUnknown {
		t.Errorf("device 8 in %s after its read-back claim", st)
	}

	// A build failure changes nothing, not even the counter.
	before, _ := db.ReserveCounter(ctx, "cos")
	_, err := db.ClaimCommands(ctx, "cos", []store.Claim{{Device: eu(0, 6), Kind: store.OwnMigrate, Wave: w.ID}}, t0,
		func(store.Claim, uint64) (store.Built, error) { return store.Built{}, errors.New("no key") })
	if err == nil {
		t.Fatal("a failed build was not reported")
	}
	if st := stateOf(t, db, eu(0, 6)); st != store.MigrationQueued {
		t.Errorf("device 6 in %s after a failed build", st)
	}
	if c, _ := db.ReserveCounter(ctx, "cos"); c != before+1 {
		t.Errorf("counter %d after a failed build, want %d", c, before+1)
	}
	if out, err := db.ClaimCommands(ctx, "cos", nil, t0, buildFor); err != nil || out != nil {
		t.Errorf("no claims: %v, %v", out, err)
	}
	_, err = db.ClaimCommands(ctx, "cos", make([]store.Claim, 1001), t0, buildFor)
	wantIs(t, err, store.ErrInvalid)
	_, err = db.ClaimCommands(ctx, "", []store.Claim{{Device: eu(0, 6), Kind: store.OwnMigrate}}, t0, buildFor)
	wantIs(t, err, store.ErrInvalid)
}

// Eight workers claim the same devices at once, in different orders:
// each device is claimed once, and no two commands share a counter.
func testClaimConcurrent(t *testing.T, open Opener) {
	const n = 40
	db := waveFleet(t, open, n)
	ctx := ctxOf(t)
	all := make([]uint32, n)
	for i := range all {
		all[i] = uint32(i + 1)
	}
	w := queue(t, db, ns(all[:n/2]...))
	for _, d := range all[n/2:] {
		walk(t, db, eu(0, d), store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationUnknown)
	}
	var mu sync.Mutex
	won := map[eui.EUI]int{}
	counters := map[uint64]bool{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			claims := make([]store.Claim, n)
			for i := range claims {
				d := all[(i+g*5)%n]
				kind := store.OwnMigrate
				if d > n/2 {
					kind = store.OwnReadBack
				}
				claims[i] = store.Claim{Device: eu(0, d), Kind: kind, Wave: w.ID}
			}
			db := db
			if g%2 == 1 {
				db = reopen(t, db)
			}
			out, err := db.ClaimCommands(ctx, "cos", claims, t0, buildFor)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, c := range out {
				if c.Err == nil {
					won[c.Command.Device]++
					if counters[c.Command.Counter] {
						t.Errorf("counter %d twice", c.Command.Counter)
					}
					counters[c.Command.Counter] = true
				} else if !errors.Is(c.Err, store.ErrLiveCommand) && !errors.Is(c.Err, store.ErrTransition) {
					t.Errorf("claim refused with %v", c.Err)
				}
			}
		})
	}
	wg.Wait()
	for _, d := range all {
		if won[eu(0, d)] != 1 {
			t.Errorf("device %d claimed %d times", d, won[eu(0, d)])
		}
	}
	open2, err := db.OpenCommands(ctx, 1000)
	must(t, err)
	if len(open2) != n {
		t.Errorf("%d open commands, want %d", len(open2), n)
	}
}

// MarkOwnSent moves intents to sent, all or nothing; SettleCommands
// settles each command once and makes its move; OpenCommands lists what
// is not settled.
func testOwnSettle(t *testing.T, open Opener) {
	db := waveFleet(t, open, 5)
	ctx := ctxOf(t)
	w := queue(t, db, ns(1, 2, 3, 4))
	out := claimAll(t, db, store.OwnMigrate, w.ID, ns(1, 2, 3, 4), t0)
	key := func(i int) store.OwnKey {
		return store.OwnKey{Device: out[i].Command.Device, Counter: out[i].Command.Counter}
	}

	must(t, db.MarkOwnSent(ctx, []store.OwnKey{key(0), key(1)}, t0.Add(hour)))
	// A batch with one bad key changes nothing.
	err := db.MarkOwnSent(ctx, []store.OwnKey{key(2), {Device: eu(0, 1), Counter: 999999}}, t0)
	wantIs(t, err, store.ErrTransition)
	err = db.MarkOwnSent(ctx, []store.OwnKey{key(0)}, t0)
	wantIs(t, err, store.ErrTransition)
	err = db.MarkOwnSent(ctx, make([]store.OwnKey, 1001), t0)
	wantIs(t, err, store.ErrInvalid)
	cs, err := db.CommandsOf(ctx, eu(0, 3))
	must(t, err)
	if len(cs) != 1 || cs[0].State != store.OwnIntent {
		t.Errorf("device 3 after a refused batch: %+v", cs)
	}
	cs, _ = db.CommandsOf(ctx, eu(0, 1))
	if len(cs) != 1 || cs[0].State != store.OwnSent || !cs[0].SentAt.Equal(t0.Add(hour).Truncate(time.Microsecond)) {
		t.Errorf("device 1 after sent: %+v", cs)
	}

	ski := []byte{0xEC, 1, 2, 3, 4, 5, 6, 7}
	res, err := db.SettleCommands(ctx, []store.Settlement{
		{OwnKey: key(0), State: store.OwnAnswered, Outcome: "success", Response: []byte{1, 2},
			Move: &store.Move{Device: eu(0, 1), From: store.MigrationSent, To: store.MigrationECoS, At: t0, Cause: "answered", SKI: ski}},
		{OwnKey: key(0), State: store.OwnAnswered, Outcome: "again"},
		{OwnKey: key(1), State: store.OwnSent},
		{OwnKey: store.OwnKey{Device: eu(0, 2), Counter: 1}, State: store.OwnFailed},
		{OwnKey: key(2), State: store.OwnFailed, Outcome: "never left",
			Move: &store.Move{Device: eu(0, 3), From: store.MigrationUnknown, To: store.MigrationRetryWait, At: t0, Cause: "stale"}},
		{OwnKey: key(3), State: store.OwnFailed, Outcome: "no answer",
			Move: &store.Move{Device: eu(0, 4), From: store.MigrationSent, To: store.MigrationUnknown, At: t0, Cause: "lost"}},
	}, t0.Add(2*hour))
	must(t, err)
	if res[0] != nil || res[5] != nil {
		t.Errorf("good settlements refused: %v, %v", res[0], res[5])
	}
	wantIs(t, res[1], store.ErrTransition)
	wantIs(t, res[2], store.ErrInvalid)
	wantIs(t, res[3], store.ErrTransition)
	wantIs(t, res[4], store.ErrTransition)
	cs, _ = db.CommandsOf(ctx, eu(0, 1))
	if len(cs) != 1 || cs[0].State != store.OwnAnswered || cs[0].Outcome != "success" || string(cs[0].Response) != "\x01\x02" ||
		!cs[0].SettledAt.Equal(t0.Add(2*hour).Truncate(time.Microsecond)) {
		t.Errorf("device 1 command after settle: %+v", cs)
	}
	if dev, _ := db.Device(ctx, eu(0, 1)); dev.Credential != store.CredentialECoS || string(dev.CredentialSKI) != string(ski) {
		t.Errorf("device 1 after ecos: %+v", dev)
	}
	if st := stateOf(t, db, eu(0, 4)); st != store.MigrationUnknown {
		t.Errorf("device 4 in %s", st)
	}
	// Device 2's command is still sent, device 3's intent: both open.
	open2, err := db.OpenCommands(ctx, 10)
	must(t, err)
	if len(open2) != 2 || open2[0].Device != eu(0, 2) || open2[0].State != store.OwnSent || open2[1].Device != eu(0, 3) {
		t.Errorf("open commands %+v", open2)
	}
	if one, err := db.OpenCommands(ctx, 1); err != nil || len(one) != 1 {
		t.Errorf("open commands, limit 1: %+v, %v", one, err)
	}
	for _, limit := range []int{0, -1, 10001} {
		_, err := db.OpenCommands(ctx, limit)
		wantIs(t, err, store.ErrInvalid)
	}
	_, err = db.SettleCommands(ctx, make([]store.Settlement, 1001), t0)
	wantIs(t, err, store.ErrInvalid)
}

// WaveDevices returns retry-wait and unknown devices only once due;
// DeferDevice moves the due time of a device still in the state named;
// UnansweredReadBacks counts failed read-backs since the device last moved.
func testWaveDue(t *testing.T, open Opener) {
	db := waveFleet(t, open, 4)
	ctx := ctxOf(t)
	w := queue(t, db, ns(1, 2, 3))
	out := claimAll(t, db, store.OwnMigrate, w.ID, ns(1, 2, 3), t0)
	due := t0.Add(3 * hour)
	ss := []store.Settlement{
		{OwnKey: store.OwnKey{Device: eu(0, 1), Counter: out[0].Command.Counter}, State: store.OwnAnswered, Outcome: "busy",
			Move: &store.Move{Device: eu(0, 1), From: store.MigrationSent, To: store.MigrationRetryWait, At: t0, Cause: "busy", Due: due}},
		{OwnKey: store.OwnKey{Device: eu(0, 2), Counter: out[1].Command.Counter}, State: store.OwnFailed, Outcome: "lost",
			Move: &store.Move{Device: eu(0, 2), From: store.MigrationSent, To: store.MigrationUnknown, At: t0, Cause: "lost"}},
		{OwnKey: store.OwnKey{Device: eu(0, 3), Counter: out[2].Command.Counter}, State: store.OwnFailed, Outcome: "unreachable",
			Move: &store.Move{Device: eu(0, 3), From: store.MigrationSent, To: store.MigrationRetryWait, At: t0, Cause: "no due"}},
	}
	res, err := db.SettleCommands(ctx, ss, t0)
	must(t, err)
	for i, e := range res {
		if e != nil {
			t.Fatalf("settlement %d: %v", i, e)
		}
	}
	page := func(state store.MigrationState, at time.Time) []eui.EUI {
		t.Helper()
		ds, err := db.WaveDevices(ctx, w.ID, state, eui.EUI{}, at, 10)
		must(t, err)
		return ds
	}
	if got := page(store.MigrationRetryWait, due.Add(-time.Microsecond)); !slices.Equal(got, ns(3)) {
		t.Errorf("retry-wait before due: %v, want device 3 (due at once)", got)
	}
	if got := page(store.MigrationRetryWait, due); !slices.Equal(got, ns(1, 3)) {
		t.Errorf("retry-wait at due: %v", got)
	}
	if got := page(store.MigrationUnknown, t0); !slices.Equal(got, ns(2)) {
		t.Errorf("unknown: %v", got)
	}
	// A read-back of device 2 goes unanswered: defer it.
	for i := range 2 {
		at := t0.Add(time.Duration(i+1) * time.Minute)
		rb := claimAll(t, db, store.OwnReadBack, w.ID, ns(2), at)
		if rb[0].Err != nil {
			t.Fatal(rb[0].Err)
		}
		_, err := db.SettleCommands(ctx, []store.Settlement{{OwnKey: store.OwnKey{Device: eu(0, 2), Counter: rb[0].Command.Counter},
			State: store.OwnFailed, Outcome: "unanswered"}}, at)
		must(t, err)
		if n, err := db.UnansweredReadBacks(ctx, eu(0, 2)); err != nil || n != i+1 {
			t.Errorf("unanswered read-backs after %d: %d, %v", i+1, n, err)
		}
	}
	must(t, db.DeferDevice(ctx, eu(0, 2), store.MigrationUnknown, due))
	if got := page(store.MigrationUnknown, due.Add(-time.Second)); len(got) != 0 {
		t.Errorf("deferred device returned before due: %v", got)
	}
	if got := page(store.MigrationUnknown, due); !slices.Equal(got, ns(2)) {
		t.Errorf("deferred device not returned when due: %v", got)
	}
	// Deferring in a state the device is not in changes nothing.
	must(t, db.DeferDevice(ctx, eu(0, 3), store.MigrationUnknown, due.Add(hour)))
	if got := page(store.MigrationRetryWait, due); !slices.Equal(got, ns(1, 3)) {
		t.Errorf("defer in the wrong state moved device 3: %v", got)
	}
	// The device moves: its count starts again.
	walk(t, db, eu(0, 2), store.MigrationUnknown, store.MigrationExcluded)
	if n, err := db.UnansweredReadBacks(ctx, eu(0, 2)); err != nil || n != 0 {
		t.Errorf("unanswered read-backs after a move: %d, %v", n, err)
	}
	if n, err := db.UnansweredReadBacks(ctx, eu(0, 4)); err != nil || n != 0 {
		t.Errorf("device 4 read-backs: %d, %v", n, err)
	}
	for _, limit := range []int{0, 10001} {
		_, err := db.WaveDevices(ctx, w.ID, store.MigrationQueued, eui.EUI{}, t0, limit)
		wantIs(t, err, store.ErrInvalid)
	}
}
