package service_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// running is a demo service serving HTTP on a loopback port.
type running struct {
	dir    string
	svc    *service.Service
	sim    *devicesim.Sim // the meters the service sends to
	client *api.Client
	world  *demoworld.World
}

// start runs a demo service on db (zero: SQLite).
func start(t *testing.T, db store.Config) *running {
	t.Helper()
	dir := t.TempDir()
	return serve(t, dir, installDemo(t, dir, demoworld.InstallOptions{Devices: 5, Database: db}))
}

// serve runs the demo installed in dir with configuration cfg.
func serve(t *testing.T, dir string, cfg *config.Config) *running {
	t.Helper()
	ctx := context.Background()
	sim := simulator(t, cfg)
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard(), Simulator: sim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &running{dir: dir, svc: svc, sim: sim, client: demoClient(t, dir, w, 2, ln.Addr()), world: w}
}

// simulator is the simulated meters cfg names, as ecos serve plugs them in.
func simulator(t *testing.T, cfg *config.Config) *devicesim.Sim {
	t.Helper()
	sim, err := devicesim.ForConfig(cfg.Devices, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// demoClient acts as the demo's supplier n on the Users' listener at addr,
// over mutual TLS with the supplier's certificate.
func demoClient(t *testing.T, dir string, w *demoworld.World, n int, addr net.Addr) *api.Client {
	t.Helper()
	c, err := demoworld.Client(dir, w.PKI.Suppliers[n-1].EUI, "https://"+addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDemoOverHTTP: a supplier posts a signed 6.23 to the demo service,
// gets a signed I99, then a signed response carrying the meter's answer,
// which the SmartDCC Java validator accepts; the meter trusts the new
// supplier, and the store says so. On SQLite and on PostgreSQL.
func TestDemoOverHTTP(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDemoOverHTTP(t, start(t, store.Config{})) })
	t.Run("postgres", func(t *testing.T) { testDemoOverHTTP(t, start(t, testkit.FreshPostgres(t))) })
}

func testDemoOverHTTP(t *testing.T, r *running) {
	ctx := context.Background()
	d := demoworld.Device(2)
	doc, err := r.world.Sign(demoworld.Request{Supplier: 2, Device: d, Counter: uint64(time.Now().UnixMilli())})
	if err != nil {
		t.Fatal(err)
	}
	ack, accepted, err := r.client.Submit(ctx, doc)
	if err != nil || !accepted {
		t.Fatalf("submit: accepted=%v err=%v\n%s", accepted, err, ack)
	}
	req, err := duis.DecodeRequest(doc)
	if err != nil {
		t.Fatal(err)
	}
	resp, final, err := r.client.Response(ctx, req.Header.RequestID.String(), 10*time.Second)
	if err != nil || !final {
		t.Fatalf("response: final=%v err=%v", final, err)
	}
	dsp := smki.NewPool(mustParse(t, r.world.PKI.DSPXMLSign.Cert))
	for name, b := range map[string][]byte{"acknowledgement": ack, "response": resp} {
		v, err := xmldsig.Verify(b, dsp)
		if err != nil {
			t.Fatalf("%s signature: %v", name, err)
		}
		got, err := duis.DecodeResponse(v.Digested)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]duis.ResponseCode{"acknowledgement": duis.ResponseAcknowledged, "response": duis.ResponseSuccess}[name]
		if got.Header.ResponseCode != want {
			t.Errorf("%s code %s, want %s", name, got.Header.ResponseCode, want)
		}
		javaValidate(t, b, filepath.Join(r.dir, demoworld.PKIDir, r.world.PKI.DSPXMLSign.Name+".pem"))
	}
	dev, ok := r.sim.Fleet().Device(d)
	if !ok {
		t.Fatal("no meter")
	}
	for _, a := range dev.Anchors() {
		if a.Cell.Role == gbcs.RoleSupplier && a.Cert != nil && a.Cert.EUI != r.world.PKI.Suppliers[1].EUI {
			t.Errorf("supplier cell %v holds %s, want supplier 2", a.Cell, a.Cert.EUI)
		}
	}

	id := store.RequestID(req.Header.RequestID)
	if stored, err := r.svc.Store().Request(ctx, id); err != nil || stored.State != store.RequestResponded || stored.ResponseCode != "I0" {
		t.Errorf("stored request: %+v %v", stored, err)
	}
	if sd, err := r.svc.Store().Device(ctx, d); err != nil || sd.Supplier != demoworld.PartyID(2) {
		t.Errorf("stored device: supplier %q, want %q (%v)", sd.Supplier, demoworld.PartyID(2), err)
	}

	// Refused requests get their code over HTTP too, as a 400 with a
	// signed acknowledgement.
	again, accepted, err := r.client.Submit(ctx, doc)
	if err != nil || accepted {
		t.Fatalf("replay accepted=%v err=%v", accepted, err)
	}
	if !bytes.Contains(again, []byte("E062303")) {
		t.Errorf("replay answered\n%s", again)
	}
}

// javaValidate runs the SmartDCC signing tool's Validate on doc with the
// signer's certificate, when the tool is available (always in CI).
func javaValidate(t *testing.T, doc []byte, certPEM string) {
	t.Helper()
	jar, ok := testkit.OptionalEnv(t, "ECOS_DUIS_SIGN_JAR")
	if !ok {
		return
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-cp", jar, "uk.co.smartdcc.boxed.xmldsig.Validate", "-", certPEM)
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		t.Fatalf("Java Validate exit %d:\n%s\n%s", ee.ExitCode(), out, doc)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func mustParse(t *testing.T, der []byte) *smki.Certificate {
	t.Helper()
	c, err := smki.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNoSimulatorNoSimulatedMeters: package service holds no simulated
// meter; a configuration that names them starts only when the command
// that starts it plugs them in.
func TestNoSimulatorNoSimulatedMeters(t *testing.T) {
	ctx := context.Background()
	cfg := installDemo(t, t.TempDir(), demoworld.InstallOptions{Devices: 2})
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard()})
	if err == nil {
		svc.Close()
		t.Fatal("a demo configuration started without its simulated meters")
	}
	if !strings.Contains(err.Error(), `simulated meters (devices.pki, or the "sim" gateway) are for the demo and tests`) {
		t.Errorf("error %q does not say what is missing", err)
	}
}

// installDemo writes a demo installation into dir and loads its
// configuration.
func installDemo(t *testing.T, dir string, o demoworld.InstallOptions) *config.Config {
	t.Helper()
	cfgPath, err := demoworld.Install(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
