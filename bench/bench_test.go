package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/bench"
)

// TestBench runs a small end-to-end benchmark: every request must end
// responded with I0 and the figures must be filled in. Throughput is not
// asserted: it depends on the machine.
func TestBench(t *testing.T) {
	r, err := bench.Run(context.Background(), bench.Options{N: 40, Devices: 20, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failures != 0 {
		t.Fatalf("%d failures; first: %s", r.Failures, r.FirstFailure)
	}
	signs, verifies := bench.CryptoCounts(bench.CryptoPerRequest)
	switch {
	case r.Store != "sqlite" || r.N != 40 || r.Concurrency != 8 || r.GOMAXPROCS < 1:
		t.Errorf("result %+v", r)
	case r.SignsPerRequest != signs || r.VerifiesPerRequest != verifies || signs != 4 || verifies != 3:
		t.Errorf("%d signs and %d verifies per request, counted %d and %d", r.SignsPerRequest, r.VerifiesPerRequest, signs, verifies)
	case r.RequestsPerSec <= 0 || r.CryptoFloorPerSec <= 0 || r.Ratio <= 0:
		t.Errorf("throughput %v, floor %v, ratio %v", r.RequestsPerSec, r.CryptoFloorPerSec, r.Ratio)
	case r.P50ms <= 0 || r.P99ms < r.P50ms || r.MaxMs < r.P99ms:
		t.Errorf("latencies p50 %v p99 %v max %v", r.P50ms, r.P99ms, r.MaxMs)
	}
}

// BenchmarkSubmit623 is `ecos bench cos` as a Go benchmark: b.N SR 6.23
// end to end on SQLite with the in-process fleet. ns/op is the timed
// section's wall time per request (setup excluded); req/s, the latencies
// and the ratio to the crypto floor are reported alongside.
func BenchmarkSubmit623(b *testing.B) {
	r, err := bench.Run(b.Context(), bench.Options{N: b.N})
	if err != nil {
		b.Fatal(err)
	}
	if r.Failures != 0 {
		b.Fatalf("%d failures; first: %s", r.Failures, r.FirstFailure)
	}
	b.ReportMetric(float64(time.Duration(r.WallSeconds*float64(time.Second)))/float64(b.N), "ns/op")
	b.ReportMetric(r.RequestsPerSec, "req/s")
	b.ReportMetric(r.P50ms, "p50-ms")
	b.ReportMetric(r.P99ms, "p99-ms")
	b.ReportMetric(r.CryptoFloorPerSec, "floor-req/s")
	b.ReportMetric(r.Ratio, "ratio")
}
