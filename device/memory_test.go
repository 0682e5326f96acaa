package device

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// maxBytesPerMigratedDevice is what a migrated device may cost in a
// million-device fleet: its state slot (stateSize), its share of the page
// table, and its share of what does not grow with the fleet (the
// interned tables and the bounded caches, about 4 MiB at their fullest,
// mostly derived keys). maxMarginalBytes is what each further device
// adds, which is what keeps memory flat.
const (
	maxBytesPerMigratedDevice = 64
	maxMarginalBytes          = 48
)

// TestFleetMemoryMigrated migrates every device of a 100,000- and a
// 1,000,000-device fleet (mode 6: the ECoS certificate replaces the TCoS
// one) and checks what migrated devices cost in heap, caches included at
// their steady state: at most maxMarginalBytes for each device beyond
// the first 100,000, and at most maxBytesPerMigratedDevice per device
// all told at a million. `go test -run TestFleetMemoryMigrated -v
// ./device/` prints the figures.
func TestFleetMemoryMigrated(t *testing.T) {
	if testing.Short() {
		t.Skip("migrates 1,100,000 devices")
	}
	p := genPKI(t, pkiNow)
	const small, large = 100_000, 1_000_000
	heapSmall, perSmall := migratedFleetHeap(t, p, small)
	t.Logf("%d devices migrated: heap in use %.1f MiB, %.1f bytes/device (state slot %d bytes)", small, float64(heapSmall)/(1<<20), perSmall, stateSize)
	if raceEnabled {
		return // the million takes minutes under the race detector
	}
	heapLarge, perLarge := migratedFleetHeap(t, p, large)
	marginal := float64(heapLarge-heapSmall) / (large - small)
	t.Logf("%d devices migrated: heap in use %.1f MiB, %.1f bytes/device; %.1f bytes per device beyond %d",
		large, float64(heapLarge)/(1<<20), perLarge, marginal, small)
	if perLarge > maxBytesPerMigratedDevice {
		t.Errorf("%.1f bytes per migrated device at %d, want at most %d", perLarge, large, maxBytesPerMigratedDevice)
	}
	if marginal > maxMarginalBytes {
		t.Errorf("each device beyond %d adds %.1f bytes, want at most %d", small, marginal, maxMarginalBytes)
	}
}

// migratedFleetHeap builds a fleet of n devices, migrates them all and
// returns the heap it holds then, and that per device.
func migratedFleetHeap(t *testing.T, p *testpki.PKI, n int) (int64, float64) {
	before := heapInUse()
	f, clk := newFleet(t, p, n)
	migrateAll(t, f, p, clk.Now())
	heap := heapInUse() - before
	runtime.KeepAlive(f)
	return heap, float64(heap) / float64(n)
}

// heapInUse is the live heap after a collection. Two collections, so that
// what the first one's cleanups (crypto/ecdsa's key caches) release is
// gone too.
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// migrateAll migrates every device of f. The first and the last devices
// go through Handle, signed commands and signed responses; the rest get
// exactly what Handle commits (applyMigration), without the two signature
// operations, which leave nothing on a device and would make a million
// devices take minutes. The test then checks that both kinds of device
// ended in the same state, down to sharing one cell table. Keys are
// derived for the last 2·derivedKeysGeneration devices, so that the key
// cache holds what it holds in a real run.
func migrateAll(t *testing.T, f *Fleet, p *testpki.PKI, now time.Time) {
	t.Helper()
	ids := f.EUIs()
	const viaHandle = 256
	mig := migration(t, p, p.ECoS.Cert, 0)
	for i, id := range ids {
		counter := uint64(1000 + i)
		if i < viaHandle || i >= len(ids)-viaHandle {
			res, err := f.Handle(frame(t, p.TCoS, id, migration(t, p, p.ECoS.Cert, counter)))
			if err != nil || res.Outcome.Outcomes[0].Status != gbcs.StatusSuccess {
				t.Fatalf("device %v: %v %+v", id, err, res)
			}
			continue
		}
		applyMigration(t, f, mig, id, counter, now)
	}
	digest := sha256.Sum256([]byte("steady"))
	for _, id := range ids[max(len(ids)-2*derivedKeysGeneration, 0):] {
		if key, err := f.Keys().PrivateKey(id); err == nil {
			// Signing once also fills crypto/ecdsa's own cache for the key.
			if _, err := ecdsa.SignASN1(nil, key, digest[:]); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, _ := f.Device(ids[0])
	want := first.peek().table
	for i, id := range ids {
		d, _ := f.Device(id)
		if i%997 != 0 && i != len(ids)-1 && i >= viaHandle {
			continue // a sample is enough
		}
		if cert, _ := d.TransitionalCoS(); cert == nil || string(cert.Raw) != string(p.ECoS.Cert) {
			t.Fatalf("device %v not migrated", id)
		}
		if got := d.SeqNumber(gbcs.RoleTransitionalCoS); got != uint64(1000+i) {
			t.Fatalf("device %v: counter %d, want %d", id, got, 1000+i)
		}
		if d.peek().table != want {
			t.Fatalf("device %v holds its own copy of the migrated table", id)
		}
	}
}

// applyMigration commits mode 6 command cmd on device id, counter counter,
// exactly as handleCS02b does for an authentic immediate command.
func applyMigration(t *testing.T, f *Fleet, cmd *gbcs.UpdateSecurityCredentials, id eui.EUI, counter uint64, now time.Time) {
	d, _ := f.Device(id)
	st := d.touch()
	st.mu.Lock()
	defer st.mu.Unlock()
	rule := modeRules[gbcs.ModeTransCoSByTransCoS]
	cur := st.cells(d.env)
	outcome, next, counters := d.execute(cmd, cellTransCoSDS, rule, now, Fault{}, cur, st.seqs().with(seqKey{role: rule.auth}, counter))
	if outcome.Outcomes[0].Status != gbcs.StatusSuccess {
		t.Fatalf("device %v: %v", id, outcome.Outcomes[0].Status)
	}
	st.commit(d.env, cur, next, counters)
}

// stateSize is what a commanded fleet device costs in its page.
const stateSize = unsafe.Sizeof(state{})

// TestStateStaysSmall keeps the per-device slot from growing unnoticed:
// it is most of what a migrated device costs.
func TestStateStaysSmall(t *testing.T) {
	if stateSize > 40 {
		t.Errorf("state is %d bytes, want at most 40", stateSize)
	}
}
