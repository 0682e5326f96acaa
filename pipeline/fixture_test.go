package pipeline_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/intake"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/signer"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a whole ECoS Party on SQLite with an in-process fleet of
// five meters that trust supplier 1 and TCoS, registered to supplier 2.
type fixture struct {
	world   *demoworld.World
	db      *store.DB
	fleet   *device.Fleet
	gateway pipeline.Gateway
	p       *pipeline.Pipeline
	dsp     *smki.Pool
	audit   *testkit.Buffer
	reg     *prometheus.Registry
	// cfg and keys build the pipeline again on the same store (restart).
	cfg        pipeline.Config
	tcos, ecos *signer.Key
	stopRun    func(*testing.T)

	mu  sync.Mutex
	now time.Time
}

type options struct {
	authorise func(*authorise.Config)
	pipeline  func(*pipeline.Config)
	database  store.Config // zero: a SQLite file in t.TempDir()
	gateway   func(pipeline.Gateway) pipeline.Gateway
	// store, if set, is the seam the pipeline and its signer write
	// through instead of the database itself.
	store func(*store.DB) durable
}

// durable is everything the pipeline and its signer keep.
type durable interface {
	pipeline.Requests
	pipeline.Commands
	pipeline.Holds
	signer.CommandLog
}

func newFixture(t *testing.T, o options) *fixture {
	t.Helper()
	ctx := context.Background()
	w, err := demoworld.New(demoworld.Options{Now: t0, Devices: 5, Suppliers: 3})
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
	if err := db.ImportRegistrations(ctx, w.Registrations); err != nil {
		t.Fatal(err)
	}
	f := &fixture{world: w, db: db, now: t0, audit: &testkit.Buffer{}, reg: prometheus.NewRegistry()}
	f.fleet, err = device.NewFleet(device.FleetConfig{PKI: w.PKI, Devices: 5, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.gateway = devicesim.NewInProcess(f.fleet)
	if o.gateway != nil {
		f.gateway = o.gateway(f.gateway)
	}
	root := mustParse(t, w.PKI.Root.Cert)
	orgCA := mustParse(t, w.PKI.OrgCA.Cert)
	acfg := authorise.Config{Reference: db, Pending: store.FutureDatedAt{DB: db, Now: f.clock}, OrganisationCAs: smki.NewPool(root),
		MPID: authorise.MPIDConfig{Policy: authorise.PolicyEnforce, BySerial: w.MPIDBySerial}}
	if o.authorise != nil {
		o.authorise(&acfg)
	}
	auth, err := authorise.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	audit := slog.New(slog.NewJSONHandler(f.audit, nil))
	tcos, err := signer.NewKey("tcos", w.PKI.TCoS.Key, w.PKI.TCoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	ecos, err := signer.NewKey("ecos", w.PKI.ECoS.Key, w.PKI.ECoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	var seam durable = db
	if o.store != nil {
		seam = o.store(db)
	}
	f.tcos, f.ecos = tcos, ecos
	sig, err := signer.New(signer.Config{Log: seam, TCoS: tcos, ECoS: ecos, Now: f.clock, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	var xmlSigners []*smki.Certificate
	for _, s := range w.PKI.Suppliers {
		xmlSigners = append(xmlSigners, mustParse(t, s.XMLSign.Cert))
	}
	users := smki.NewPool(xmlSigners...)
	dspCert := mustParse(t, w.PKI.DSPXMLSign.Cert)
	f.dsp = smki.NewPool(dspCert)
	cfg := pipeline.Config{
		Requests: seam, Commands: seam, Holds: seam, Authoriser: auth, Signer: sig, Gateway: f.gateway, DeviceKeys: w.DeviceKeys(nil),
		UserCertificates: users,
		SignerPolicy:     intake.SignerPolicy{OrganisationCAs: smki.NewPool(root), Intermediates: smki.NewPool(orgCA)},
		ResponseKey:      pipeline.ResponseKey{Signer: w.PKI.DSPXMLSign.Key, Cert: dspCert},
		Workers:          2, DeviceTimeout: 2 * time.Second,
		Now: f.clock, Log: slog.New(slog.DiscardHandler), Audit: audit, Metrics: f.reg,
	}
	if o.pipeline != nil {
		o.pipeline(&cfg)
	}
	f.cfg = cfg
	f.p, err = pipeline.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// restart is a fresh pipeline on the same database, gateway and fleet, as
// the next start after a crash makes: nothing in memory carries over.
func (f *fixture) restart(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	audit := slog.New(slog.NewJSONHandler(f.audit, nil))
	sig, err := signer.New(signer.Config{Log: f.db, TCoS: f.tcos, ECoS: f.ecos, Now: f.clock, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg
	cfg.Requests, cfg.Commands, cfg.Holds = f.db, f.db, f.db
	cfg.Signer, cfg.Audit, cfg.Metrics = sig, audit, prometheus.NewRegistry()
	p, err := pipeline.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run starts the workers until the test ends or stop.
func (f *fixture) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Run(ctx) }()
	var once sync.Once
	f.stopRun = func(t *testing.T) {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(func() { f.stopRun(t) })
}

// stop ends Run and waits for the work in hand.
func (f *fixture) stop(t *testing.T) { f.stopRun(t) }

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) sign(t *testing.T, r demoworld.Request) []byte {
	t.Helper()
	doc, err := f.world.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustParse(t *testing.T, der []byte) *smki.Certificate {
	t.Helper()
	c, err := smki.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gains registers dev's MPAN to supplier from the day given, and returns it.
func (f *fixture) gains(t *testing.T, supplier int, dev eui.EUI, from time.Time) time.Time {
	t.Helper()
	if err := f.db.ImportRegistrations(context.Background(), []store.Registration{
		{MPxN: demoworld.MPANOf(dev), From: from, Supplier: demoworld.PartyID(supplier), MPID: demoworld.MPID(supplier), Device: dev},
	}); err != nil {
		t.Fatal(err)
	}
	return from
}

// submit signs r and submits it.
func (f *fixture) submit(t *testing.T, r demoworld.Request) *pipeline.Ack {
	t.Helper()
	ack, err := f.p.Submit(context.Background(), f.sign(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return ack
}

// final waits for the accepted request of ack to end.
func (f *fixture) final(t *testing.T, ack *pipeline.Ack) store.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := f.p.WaitFinal(ctx, store.RequestID(*ack.RequestID))
	if err != nil {
		t.Fatal(err)
	}
	return req
}
