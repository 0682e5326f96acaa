package device

import (
	"runtime"
	"testing"
)

// BenchmarkHandleSupplierByTransCoS is one 6.23 on one device: decode, KRP
// signature check, counter, three replacement certificates (profile, issuer
// signature, path to the root, validity), atomic update, and the signed
// response. Commands are pre-built with increasing counters, alternating
// between supplier 2 and supplier 1 so every one really replaces the cells.
func BenchmarkHandleSupplierByTransCoS(b *testing.B) {
	p := genPKI(b, pkiNow)
	d, _ := newESME(b, p)
	const batch = 512
	frames := make([][]byte, batch)
	for i := range frames {
		frames[i] = frame(b, p.TCoS, d.EUI(), cmd623(b, body623(p, 2-i%2), uint64(i+1)))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == batch {
			b.StopTimer()
			d, _ = newESME(b, p)
			i = 0
			b.StartTimer()
		}
		if _, err := d.Handle(frames[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkNewFleet100k builds the 100,000-device fleet and reports what a
// device costs in heap before any command (nothing: see TestFleetMemory).
func BenchmarkNewFleet100k(b *testing.B) {
	p := genPKI(b, pkiNow)
	const n = 100_000
	var perDevice float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f, _ := newFleet(b, p, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perDevice = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(f)
	}
	b.ReportMetric(perDevice, "bytes/device")
}
