package store_test

import (
	"flag"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// The storage cost of the signing path, per backend:
//
//	go test -run '^$' -bench . -benchtime 3s ./store
//
// sqlite is the default (WAL, synchronous=FULL: every commit fsynced);
// sqlite-normal shows what synchronous=NORMAL would buy (durable against
// kill -9 only); postgres runs when ECOS_TEST_POSTGRES_DSN is set. Each
// reports ops/s; "parallel" runs 8 goroutines, as a busy pipeline would.
func backends() []struct {
	name string
	open func(testing.TB) *store.DB
} {
	return []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{"sqlite", func(tb testing.TB) *store.DB { return openSQLite(tb, "") }},
		{"sqlite-normal", func(tb testing.TB) *store.DB { return openSQLite(tb, "_pragma=synchronous(NORMAL)") }},
		{"postgres", openPostgres},
	}
}

var benchParallelism = flag.Int("store.par", 4, "BenchmarkCommand runs store.par × GOMAXPROCS goroutines")

func perSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkReserveCounter(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			for b.Loop() {
				if _, err := db.ReserveCounter(b.Context(), "cos"); err != nil {
					b.Fatal(err)
				}
			}
			perSecond(b)
		})
		b.Run(be.name+"/parallel", func(b *testing.B) {
			db := be.open(b)
			b.SetParallelism(4) // 4 × GOMAXPROCS (2 here) = 8 goroutines
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := db.ReserveCounter(b.Context(), "cos"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			perSecond(b)
		})
	}
}

// tbs is the size of a CS02b mode 7 body with three replacement
// certificates, roughly: what RecordIntent and MarkSigned carry.
var tbs = make([]byte, 1600)

// BenchmarkIntentSigned: RecordIntent then MarkSigned, with counters the
// benchmark makes up (ReserveCounter is measured above).
func BenchmarkIntentSigned(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			dev := eui.MustParse("00-DB-12-34-56-78-90-A0")
			at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			var counter uint64
			for b.Loop() {
				counter++
				id, err := db.RecordIntent(b.Context(), store.Intent{Device: dev, Counter: counter, KeyID: "ecos", TBS: tbs, CreatedAt: at})
				if err != nil {
					b.Fatal(err)
				}
				if err := db.MarkSigned(b.Context(), id, tbs, at); err != nil {
					b.Fatal(err)
				}
			}
			perSecond(b)
		})
	}
}

// BenchmarkCommand is the whole store side of signing one command:
// ReserveCounter, RecordIntent, MarkSigned, from 4×GOMAXPROCS goroutines
// (-store.par N to change; the service will have as many in flight as
// requests it is handling).
func BenchmarkCommand(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name+"/parallel", func(b *testing.B) {
			db := be.open(b)
			at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			var devs atomic.Uint32
			b.SetParallelism(*benchParallelism)
			b.RunParallel(func(pb *testing.PB) {
				n := devs.Add(1)
				dev := eui.EUI{0, 0xDB, 0, 0, 0, 0, 0, byte(n)}
				for pb.Next() {
					c, err := db.ReserveCounter(b.Context(), "cos")
					if err == nil {
						var id store.CommandID
						id, err = db.RecordIntent(b.Context(), store.Intent{Device: dev, Counter: c, KeyID: "ecos", TBS: tbs, CreatedAt: at})
						if err == nil {
							err = db.MarkSigned(b.Context(), id, tbs, at)
						}
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			perSecond(b)
		})
	}
}

// BenchmarkImportDevices: one all-or-nothing import of 100,000 devices per
// op, reported as rows/s (10⁷ devices is a hundred of these).
func BenchmarkImportDevices(b *testing.B) {
	const n = 100_000
	ds := make([]store.Device, n)
	for i := range ds {
		ds[i] = store.Device{
			EUI:  eui.EUI{0, 0xDB, 0, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)},
			Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS,
			CredentialSKI: []byte{1, 2, 3, 4, 5, 6, 7, 8},
		}
	}
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			for b.Loop() {
				if err := db.ImportDevices(b.Context(), ds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkMigrationMoves: one device's migration, tcos → queued → sent →
// ecos, three compare-and-set moves each with its history row, per op;
// 8 goroutines, each on its own devices, as orchestrator workers would be.
// Reported as devices/s: the store's share of the migration's budget.
func BenchmarkMigrationMoves(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name+"/parallel", func(b *testing.B) {
			db := be.open(b)
			const n = 200_000
			ds := make([]store.Device, n)
			for i := range ds {
				ds[i] = store.Device{EUI: eui.EUI{0, 0xDB, 0, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)},
					Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS}
			}
			if err := db.ImportDevices(b.Context(), ds); err != nil {
				b.Fatal(err)
			}
			path := []store.MigrationState{store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationECoS}
			at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			var next atomic.Int64
			b.SetParallelism(*benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					if i >= n {
						b.Error("more ops than devices: raise n")
						return
					}
					for s := 1; s < len(path); s++ {
						if _, err := db.MoveDevice(b.Context(), store.Move{Device: ds[i].EUI, From: path[s-1], To: path[s], At: at,
							Cause: "bench", Counter: uint64(i + 1)}); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "devices/s")
		})
		// The same in batches of 100 devices (MoveDevices): one transaction
		// per step of a batch, as a wave worker would move its page.
		b.Run(be.name+"/batch100", func(b *testing.B) {
			db := be.open(b)
			const batch = 100
			n := b.N * batch
			ds := make([]store.Device, n)
			for i := range ds {
				ds[i] = store.Device{EUI: eui.EUI{0, 0xDB, 0, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)},
					Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS}
			}
			for lo := 0; lo < n; lo += 100_000 {
				if err := db.ImportDevices(b.Context(), ds[lo:min(n, lo+100_000)]); err != nil {
					b.Fatal(err)
				}
			}
			path := []store.MigrationState{store.MigrationTCoS, store.MigrationQueued, store.MigrationSent, store.MigrationECoS}
			at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			moves := make([]store.Move, batch)
			b.ResetTimer()
			for op := 0; op < b.N; op++ {
				for s := 1; s < len(path); s++ {
					for i := range moves {
						moves[i] = store.Move{Device: ds[op*batch+i].EUI, From: path[s-1], To: path[s], At: at, Cause: "bench", Counter: uint64(i + 1)}
					}
					res, err := db.MoveDevices(b.Context(), moves)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range res {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "devices/s")
		})
	}
}
