package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/store"
)

// MigrateOptions size a migration benchmark (`ecos bench migrate`).
type MigrateOptions struct {
	Devices     int // simulated meters to migrate; 0: 100,000
	Concurrency int // the wave's devices in flight; 0: 1024
	// Dir, Postgres: as in Options.
	Dir      string
	Postgres string
	// Progress, if set, is called about once a second with the devices
	// migrated so far.
	Progress func(done, total int64)
	// CPUProfile, if set, receives a pprof CPU profile of the timed
	// section only; MemProfile a heap profile at its end.
	CPUProfile io.Writer
	MemProfile io.Writer
}

// CryptoPerDevice is what migrating one device costs everyone in the run:
// the party signs the mode 6 command, the meter verifies it (the ECoS
// certificate's path is checked once for the fleet), the meter signs its
// response, the party verifies it.
var CryptoPerDevice = []CryptoStep{
	{"CS02b mode 6 sign (TCoS key)", 1, 0},
	{"device: command verify", 0, 1},
	{"device: response sign", 1, 0},
	{"device response verify", 0, 1},
}

// floorSample bounds the devices the crypto floor is timed for: the
// floor per device is the same for any number, and timing a million
// would double the run.
const floorSample = 20_000

// MigrateResult is what a migration benchmark measured.
type MigrateResult struct {
	Store         string  `json:"store"`
	Devices       int     `json:"devices"`
	Concurrency   int     `json:"concurrency"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
	SetupSeconds  float64 `json:"setup_seconds"`
	WallSeconds   float64 `json:"wall_seconds"`
	DevicesPerSec float64 `json:"devices_per_sec"`
	P50ms         float64 `json:"p50_ms"` // command to confirmed ecos
	P99ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	// FleetMB is what the simulated meters' own state holds (it grows with
	// N: every meter's counters and cells), inside PeakRSSMB.
	FleetMB float64 `json:"fleet_mb"`
	// PartyHeapMB is the live heap once the wave is done, after a
	// collection, less the simulated meters' state: what the party (and
	// the benchmark) keep. It does not grow with N; the peak RSS does,
	// by the fleet's state and the room the collector keeps beside it.
	PartyHeapMB       float64      `json:"party_heap_mb"`
	CryptoFloorPerSec float64      `json:"crypto_floor_per_sec"`
	Ratio             float64      `json:"ratio"`
	Migrated          int64        `json:"migrated"`
	NotMigrated       int64        `json:"not_migrated"`
	Crypto            []CryptoStep `json:"crypto_per_device"`
}

// Migrate migrates o.Devices simulated meters end to end: a demo
// installation whose inventory is o.Devices meters trusting TCoS (written
// as a stream, so the process never holds the fleet's rows), the service
// running with its in-process fleet, one wave over every device, timed
// from its start until every device is ecos. Latency is each device's
// time from its command's claim (the move into sent) to its move into
// ecos. Peak RSS is the process's high-water mark, setup included: the
// party, the fleet and the benchmark are this one process.
func Migrate(ctx context.Context, o MigrateOptions) (*MigrateResult, error) {
	if o.Devices == 0 {
		o.Devices = 100_000
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1024
	}
	if o.Devices < 1 || o.Devices > config.MaxSimulated || o.Concurrency < 1 {
		return nil, fmt.Errorf("bench: devices %d (1..%d), concurrency %d (at least 1)", o.Devices, config.MaxSimulated, o.Concurrency)
	}
	setup := time.Now()
	cfg, _, cleanup, err := install(ctx, o.Dir, o.Postgres, 1)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cfg.Devices.Simulated = o.Devices
	if err := importFleet(ctx, cfg, o.Devices); err != nil {
		return nil, err
	}
	sim, err := devicesim.ForConfig(cfg.Devices, nil)
	if err != nil {
		return nil, err
	}
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Simulator: sim})
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, nil, nil) }()
	defer func() {
		stop()
		<-done
	}()
	res := &MigrateResult{Store: cfg.Database.Driver, Devices: o.Devices, Concurrency: o.Concurrency,
		GOMAXPROCS: runtime.GOMAXPROCS(0), SetupSeconds: time.Since(setup).Seconds(), Crypto: CryptoPerDevice}

	select {
	case <-svc.Recovered():
	case err := <-done:
		done <- err // for the deferred wait
		return nil, fmt.Errorf("bench: the service stopped: %v", err)
	}
	op := svc.Migration()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	w, err := op.Start(ctx, store.Wave{Name: "bench", Concurrency: o.Concurrency})
	if err != nil {
		return nil, err
	}
	// The wave's state is one row; its counts are a scan of its devices,
	// so they are read only for the progress line, once a second.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastShown := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-done:
			done <- err // for the deferred wait
			return nil, fmt.Errorf("bench: the service stopped: %v", err)
		case <-tick.C:
		}
		if w, err = op.Wave(ctx, w.ID); err != nil {
			return nil, err
		}
		if w.State != store.WaveRunning {
			break
		}
		if o.Progress != nil && time.Since(lastShown) >= time.Second {
			p, err := op.Progress(ctx, w.ID)
			if err != nil {
				return nil, err
			}
			o.Progress(p.Counts[store.MigrationECoS], int64(o.Devices))
			lastShown = time.Now()
		}
	}
	wall := time.Since(start)
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if o.MemProfile != nil {
		if err := pprof.Lookup("heap").WriteTo(o.MemProfile, 0); err != nil {
			return nil, err
		}
	}
	if w.State != store.WaveDone {
		return nil, fmt.Errorf("bench: the wave ended %s: %s", w.State, w.Reason)
	}
	p, err := op.Progress(ctx, w.ID)
	if err != nil {
		return nil, err
	}
	res.WallSeconds = wall.Seconds()
	res.Migrated = p.Counts[store.MigrationECoS]
	res.NotMigrated = int64(o.Devices) - res.Migrated
	res.DevicesPerSec = float64(res.Migrated) / wall.Seconds()
	res.PeakRSSMB = peakRSSMB()
	var fleet int64
	if f := sim.Fleet(); f != nil {
		fleet = f.StateBytes()
		res.FleetMB = float64(fleet) / (1 << 20)
	}
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	res.PartyHeapMB = float64(int64(mem.HeapAlloc)-fleet) / (1 << 20)

	lat, err := latencies(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50ms = ms(percentile(lat, 0.50))
		res.P99ms = ms(percentile(lat, 0.99))
		res.MaxMs = ms(lat[len(lat)-1])
	}
	signs, verifies := 0, 0
	for _, s := range CryptoPerDevice {
		signs, verifies = signs+s.Signs, verifies+s.Verifies
	}
	sample := min(o.Devices, floorSample)
	floor, err := CryptoFloor(sample*signs, sample*verifies, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	res.CryptoFloorPerSec = float64(sample) / floor.Seconds()
	res.Ratio = res.DevicesPerSec / res.CryptoFloorPerSec
	return res, nil
}

// importFleet writes n meters trusting TCoS into the inventory, as a
// stream.
func importFleet(ctx context.Context, cfg *config.Config, n int) error {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ImportInventory(ctx, &fleetSource{n: n}, nil)
	return err
}

func openStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	dsn, err := cfg.DatabaseDSN()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Config{Driver: cfg.Database.Driver, DSN: dsn})
}

// fleetSource yields the demo fleet's meters 1..n, spread over a few
// makes and models as a real inventory would be.
type fleetSource struct{ i, n int }

var models = []struct{ make, model string }{{"Acme", "E1"}, {"Acme", "E2"}, {"Volt", "S9"}, {"Meterco", "M3"}}

func (s *fleetSource) Next() (int, store.InventoryDevice, bool) {
	if s.i >= s.n {
		return 0, store.InventoryDevice{}, false
	}
	s.i++
	m := models[s.i%len(models)]
	return s.i, store.InventoryDevice{
		Device:       store.Device{EUI: device.FleetEUI(s.i), Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS},
		Manufacturer: m.make, Model: m.model, Firmware: "1.0", MPxN: demoworld.MPAN(s.i), ResponsibleSupplier: demoworld.PartyID(2),
	}, true
}

func (s *fleetSource) Err() error { return nil }

// latencies reads each device's time from its move into sent to its move
// into ecos.
func latencies(ctx context.Context, cfg *config.Config) ([]time.Duration, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var out []time.Duration
	err = db.MigrationDurations(ctx, func(d time.Duration) error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// peakRSSMB is the process's resident-set high-water mark (VmHWM), in MiB;
// 0 where /proc is not there.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}
