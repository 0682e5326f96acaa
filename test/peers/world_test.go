package peers

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/testpki"
)

// The PKI is issued at pkiNow; the meter runs at meterNow, inside every
// certificate's validity.
var (
	pkiNow   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	meterNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
)

// world is a seeded test PKI and one commissioned ESME (device 1 of the
// PKI, trusting supplier 1 and the TCoS credential) on a settable clock.
type world struct {
	pki   *testpki.PKI
	meter *device.Device
	mu    sync.Mutex
	now   time.Time
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	p, err := testpki.Generate(testpki.Options{Now: pkiNow, Rand: rand.NewChaCha8([32]byte{11}), Suppliers: 2, Devices: 1})
	if err != nil {
		tb.Fatal(err)
	}
	w := &world{pki: p, now: meterNow}
	cfg, err := device.ESMEConfig(p, 1, w.clock)
	if err != nil {
		tb.Fatal(err)
	}
	if w.meter, err = device.New(cfg); err != nil {
		tb.Fatal(err)
	}
	return w
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) set(t time.Time) {
	w.mu.Lock()
	w.now = t
	w.mu.Unlock()
}

// keys is the peers' key store: every DS and KA key of the world by the
// EUI-64 gbcs-parser will ask for. Where an EUI-64 has several keys of one
// usage (a supplier's KA and top-up KA, the ACB's DS and the DSP's
// XML-signing key) the one a GBCS frame uses comes first.
func (w *world) keys(tb testing.TB) []peerKey {
	tb.Helper()
	p := w.pki
	var ks []peerKey
	add := func(c *testpki.Credential, typ string) { ks = append(ks, newPeerKey(tb, c.EUI, typ, c.Key)) }
	add(p.TCoS, "DS")
	add(p.ECoS, "DS")
	add(p.ACB.DS, "DS")
	add(p.ACB.KA, "KA")
	add(p.NetworkOperator.DS, "DS")
	add(p.NetworkOperator.KA, "KA")
	for _, s := range p.Suppliers {
		add(s.DS, "DS")
		add(s.KA, "KA")
	}
	for _, d := range p.Devices {
		add(d.DS, "DS")
		add(d.KA, "KA")
	}
	return ks
}
