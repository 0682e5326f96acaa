package migrate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/lease"
	"github.com/ecos-cos/ecos/migrate"
	"github.com/ecos-cos/ecos/signer"
	"github.com/ecos-cos/ecos/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a store, an in-process fleet that trusts TCoS, the signer
// with both CoS keys and a runner, on a clock the test moves.
type fixture struct {
	world  *demoworld.World
	db     *store.DB
	fleet  *device.Fleet
	gw     *watchGateway
	runner *migrate.Runner
	leases *lease.Table
	log    *testkit.Buffer
	cfg    migrate.Config

	mu  sync.Mutex
	now time.Time
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

type fixtureOptions struct {
	devices  int
	database store.Config
	config   func(*migrate.Config)
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	if o.devices == 0 {
		o.devices = 12
	}
	w, err := demoworld.New(demoworld.Options{Now: t0, Devices: o.devices, Suppliers: 2})
	if err != nil {
		t.Fatal(err)
	}
	dbCfg := o.database
	if dbCfg.Driver == "" {
		dbCfg = store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "ecos.db")}
	}
	db, err := store.Open(ctx, dbCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.ImportParties(ctx, w.Parties); err != nil {
		t.Fatal(err)
	}
	if err := db.ImportDevices(ctx, w.Devices); err != nil {
		t.Fatal(err)
	}
	f := &fixture{world: w, db: db, now: t0, leases: lease.New(), log: &testkit.Buffer{}}
	if f.fleet, err = device.NewFleet(device.FleetConfig{PKI: w.PKI, Devices: o.devices, Now: f.clock}); err != nil {
		t.Fatal(err)
	}
	f.gw = &watchGateway{f: f, next: devicesim.NewInProcess(f.fleet), sent: map[eui.EUI][]sentFrame{}}
	tcos, err := signer.NewKey("tcos", w.PKI.TCoS.Key, w.PKI.TCoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	ecos, err := signer.NewKey("ecos", w.PKI.ECoS.Key, w.PKI.ECoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(f.log, nil))
	sig, err := signer.New(signer.Config{Log: db, TCoS: tcos, ECoS: ecos, Now: f.clock, Audit: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg := migrate.Config{Waves: db, Commands: db, Signer: sig, Gateway: f.gw, DeviceKeys: w.DeviceKeys(nil), Leases: f.leases,
		Migration: cosbuild.Migration{NewCertificate: w.PKI.ECoS.Cert, CertificationPath: [][]byte{w.PKI.OrgCA.Cert}},
		Timeout:   time.Minute, Now: f.clock, Log: logger, Audit: logger,
		Wait: func(context.Context, time.Duration) error { return nil }}
	f.cfg = cfg
	f.runner = f.runnerWith(t, o.config)
	return f
}

// runnerWith is another runner on the fixture's store, fleet and keys (a
// restart), with cfg changed by change.
func (f *fixture) runnerWith(t *testing.T, change func(*migrate.Config)) *migrate.Runner {
	t.Helper()
	cfg := f.cfg
	if change != nil {
		change(&cfg)
	}
	r, err := migrate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sentFrame is one frame the gateway passed on, with what the device's
// cell held when it arrived.
type sentFrame struct {
	code      gbcs.MessageCode
	counter   uint64
	signedBy  eui.EUI // the originator: the TCoS or ECoS party
	cellHeld  []byte  // the certificate in the transitionalCoS cell at that moment
	wrongCell bool    // a mode 6 command sent while the cell did not hold TCoS
}

// watchGateway records every frame on its way to a device.
type watchGateway struct {
	f    *fixture
	next *devicesim.InProcess
	mu   sync.Mutex
	sent map[eui.EUI][]sentFrame
}

func (g *watchGateway) Send(ctx context.Context, frame []byte) (*dispatch.Reply, error) {
	m, err := gbcs.ParseMessage(frame)
	if err != nil {
		return nil, err
	}
	var held []byte
	if d, ok := g.f.fleet.Device(m.Recipient); ok {
		if c, ok := d.TransitionalCoS(); ok {
			held = c.Raw
		}
	}
	sf := sentFrame{code: m.Code, counter: m.Counter, signedBy: m.Originator, cellHeld: held}
	sf.wrongCell = m.Code == gbcs.CodeTransCoSByTransCoS && !bytes.Equal(held, g.f.world.PKI.TCoS.Cert)
	g.mu.Lock()
	g.sent[m.Recipient] = append(g.sent[m.Recipient], sf)
	g.mu.Unlock()
	return g.next.Send(ctx, frame)
}

func (g *watchGateway) frames(d eui.EUI) []sentFrame {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sentFrame(nil), g.sent[d]...)
}

func (f *fixture) wave(t *testing.T, filter store.WaveFilter, concurrency int) store.WaveID {
	t.Helper()
	id, err := f.db.CreateWave(context.Background(), store.Wave{Name: "test", Filter: filter, Concurrency: concurrency, CreatedAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// runUntilSettled runs the wave, moving the clock past every retry, until
// it is no longer running or rounds run out.
func (f *fixture) runUntilSettled(t *testing.T, id store.WaveID, rounds int) migrate.Pass {
	t.Helper()
	var p migrate.Pass
	for range rounds {
		var err error
		p, err = f.runner.RunWave(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Wave.State != store.WaveRunning {
			return p
		}
		f.advance(7 * time.Hour) // past the longest backoff
	}
	return p
}

// migrationFrame is a TCoS-signed mode 6 command for device i, sent
// around the runner (another party's doing).
func (f *fixture) migrationFrame(t *testing.T, i int, counter uint64) []byte {
	t.Helper()
	payload, err := cosbuild.TransCoSByTransCoS(cosbuild.Migration{NewCertificate: f.world.PKI.ECoS.Cert,
		CertificationPath: [][]byte{f.world.PKI.OrgCA.Cert}}, counter)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cosbuild.Command(eui.EUI(f.world.PKI.TCoS.EUI), f.world.Devices[i].EUI, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sign(rand.Reader, f.world.PKI.TCoS.Key); err != nil {
		t.Fatal(err)
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
