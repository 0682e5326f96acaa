package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/mpidreport"
	"github.com/ecos-cos/ecos/reportgen"
	"github.com/ecos-cos/ecos/store"
)

// MPIDOptions size an MPID report benchmark (`ecos bench mpid`).
type MPIDOptions struct {
	// Sizes are the months generated, in requests each (the deck's
	// proportions of parties and MPIDs); one fresh database per size, so
	// the report's time and memory can be compared across sizes.
	Sizes []int
	// Postgres, if set, is a server URL where the run may create (and
	// afterwards drops) its databases; otherwise SQLite files in a
	// temporary directory.
	Postgres string
	// Progress, if set, is told what the run is doing.
	Progress func(string)
}

// MPIDResult is one size's measurement.
type MPIDResult struct {
	Store           string  `json:"store"`
	Requests        int     `json:"requests"`
	Parties         int     `json:"parties"`
	MPIDs           int     `json:"mpids"`
	GenerateSeconds float64 `json:"generate_seconds"`
	// The whole month's report (mpidreport.Build), then one party's
	// extract, each timed after a first run has warmed the caches.
	ReportSeconds float64 `json:"report_seconds"`
	PartySeconds  float64 `json:"party_seconds"`
	DetailRows    int     `json:"detail_rows"`
	// Memory the report took: bytes allocated while building it, and the
	// live heap after, before the report is dropped.
	AllocMB    float64 `json:"alloc_mb"`
	LiveHeapMB float64 `json:"live_heap_mb"`
	Total      int64   `json:"total"` // the headline's 6.23 processed: Requests, as a check
}

// MPID generates a month of each size and times its MPID report.
func MPID(ctx context.Context, o MPIDOptions) ([]MPIDResult, error) {
	var out []MPIDResult
	for _, n := range o.Sizes {
		r, err := mpidOnce(ctx, o, n)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func mpidOnce(ctx context.Context, o MPIDOptions, n int) (_ MPIDResult, err error) {
	say := func(f string, a ...any) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf(f, a...))
		}
	}
	cfg, drop, err := scratchStore(ctx, o.Postgres)
	if err != nil {
		return MPIDResult{}, err
	}
	defer drop()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return MPIDResult{}, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return MPIDResult{}, err
	}
	g := reportgen.Deck()
	// The deck's month, scaled: its parties and MPIDs while the month is
	// big enough to spread them, fewer below.
	g.Requests = n
	g.Parties, g.MPIDs, g.SilentParties = min(g.Parties, max(1, n/1000)), min(g.MPIDs, max(1, n/500)), min(g.SilentParties, max(0, n/2000))
	if db.Driver() == store.DriverPostgres {
		g.Writers = 4
	}
	say("generating %d requests on %s", n, db.Driver())
	start := time.Now()
	if _, err := reportgen.Generate(ctx, db, g, time.Now); err != nil {
		return MPIDResult{}, err
	}
	res := MPIDResult{Store: db.Driver(), Requests: n, Parties: g.Parties, MPIDs: g.MPIDs, GenerateSeconds: time.Since(start).Seconds()}
	month := g.Month
	if _, err := mpidreport.Build(ctx, db, month, ""); err != nil { // warm
		return MPIDResult{}, err
	}
	say("timing the report")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	rep, err := mpidreport.Build(ctx, db, month, "")
	if err != nil {
		return MPIDResult{}, err
	}
	res.ReportSeconds = time.Since(start).Seconds()
	runtime.ReadMemStats(&after)
	res.AllocMB = float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
	runtime.GC()
	runtime.ReadMemStats(&after)
	res.LiveHeapMB = float64(after.HeapAlloc) / (1 << 20)
	res.DetailRows, res.Total = len(rep.Rows), rep.Headline.Total
	runtime.KeepAlive(rep)
	if len(rep.Rows) > 0 {
		party := rep.Rows[0].SECPartyID
		start = time.Now()
		if _, err := mpidreport.Build(ctx, db, month, party); err != nil {
			return MPIDResult{}, err
		}
		res.PartySeconds = time.Since(start).Seconds()
	}
	return res, nil
}

// scratchStore is a database of the run's own: a SQLite file in a
// temporary directory, or a new database on the PostgreSQL server.
func scratchStore(ctx context.Context, postgres string) (store.Config, func(), error) {
	if postgres != "" {
		cfg, drop, err := store.CreatePostgresDatabase(ctx, postgres, "ecos_bench_"+strings.ToLower(rand.Text()[:12]))
		if err != nil {
			return store.Config{}, nil, fmt.Errorf("bench: %w", err)
		}
		return cfg, func() { drop(context.WithoutCancel(ctx)) }, nil
	}
	dir, err := os.MkdirTemp("", "ecos-bench-mpid-")
	if err != nil {
		return store.Config{}, nil, err
	}
	return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "ecos.db")}, func() { os.RemoveAll(dir) }, nil
}
