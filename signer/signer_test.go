package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/testpki"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const mpan = "1200023305967"

// fixture: a PKI, a SQLite command log, reference data in it, an
// authoriser and a fleet whose meter 1 trusts supplier 1 and TCoS.
type fixture struct {
	pki   *testpki.PKI
	db    *store.DB
	auth  *authorise.Authoriser
	fleet *device.Fleet
	audit *bytes.Buffer
	tcos  *Key
	ecos  *Key
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	p, err := testpki.Generate(testpki.Options{Now: t0.Add(-24 * time.Hour), Suppliers: 2, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "ecos.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s2, d1 := p.Suppliers[1], p.Devices[0].EUI
	if err := db.ImportParties(ctx, []store.Party{{ID: "SUP2", Name: "Supplier Two", State: store.PartyActive,
		Users: []store.User{{EUI: s2.EUI, Role: store.RoleImportSupplier}}, MPIDs: []string{"SUPB"}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.ImportDevices(ctx, []store.Device{{EUI: d1, Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS}}); err != nil {
		t.Fatal(err)
	}
	if err := db.ImportRegistrations(ctx, []store.Registration{{MPxN: mpan, From: t0.Add(-time.Hour), Supplier: "SUP2", MPID: "SUPB", Device: d1}}); err != nil {
		t.Fatal(err)
	}
	root, err := smki.Parse(p.Root.Cert)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := authorise.New(authorise.Config{Reference: db, OrganisationCAs: smki.NewPool(root), MPID: authorise.MPIDConfig{Policy: authorise.PolicyReport}})
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := device.NewFleet(device.FleetConfig{PKI: p, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pki: p, db: db, auth: auth, fleet: fleet, audit: &bytes.Buffer{}}
	if f.tcos, err = NewKey("tcos", p.TCoS.Key, p.TCoS.Cert); err != nil {
		t.Fatal(err)
	}
	if f.ecos, err = NewKey("ecos", p.ECoS.Key, p.ECoS.Cert); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) signer(t *testing.T, mutate func(*Config)) *Signer {
	t.Helper()
	cfg := Config{Log: f.db, TCoS: f.tcos, ECoS: f.ecos, Now: func() time.Time { return t0 }, Audit: slog.New(slog.NewJSONHandler(f.audit, nil))}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// approve runs a request with RequestID counter n through the store's
// replay guard and the real authoriser.
func (f *fixture) approve(t *testing.T, n uint64) *authorise.Approved {
	t.Helper()
	id := duis.RequestID{Originator: f.pki.Suppliers[1].EUI, Target: f.pki.Devices[0].EUI, Counter: n}
	if err := f.db.ReceiveRequest(context.Background(), store.RequestID(id), t0); err != nil {
		t.Fatal(err)
	}
	return f.decide(t, n)
}

// decide runs the stored request with counter n through the authoriser
// again: a second approval for the same request, as recovery makes.
func (f *fixture) decide(t *testing.T, n uint64) *authorise.Approved {
	t.Helper()
	s := f.pki.Suppliers[1]
	id := duis.RequestID{Originator: s.EUI, Target: f.pki.Devices[0].EUI, Counter: n}
	req := &duis.Request{
		Header: duis.Header{RequestID: id, CommandVariant: 1, ServiceReference: "6.23", ServiceReferenceVariant: "6.23"},
		UpdateSecurityCredentialsCoS: &duis.UpdateSecurityCredentialsCoS{
			DigitalSigningCertificate: s.DS.Cert, KeyAgreementCertificate: s.KA.Cert,
			CertificationPath: [][]byte{f.pki.OrgCA.Cert}, ApplyTimeBasedCPVChecks: true, ImportMPxN: mpan,
		},
	}
	signer, _ := smki.Parse(s.XMLSign.Cert)
	a, _, err := f.auth.Authorise(context.Background(), authorise.Verified{Request: req, Signer: signer, ReceivedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSignCoSEndToEnd(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.signer(t, nil)
	signed, err := s.SignCoS(ctx, f.approve(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if signed.Counter != 1 || signed.KeyID != "tcos" || signed.Originator != f.pki.TCoS.EUI {
		t.Errorf("signed %+v", signed)
	}
	// The command log holds the signed frame, and the intent's bytes are
	// the frame's signed bytes.
	c, err := f.db.Command(ctx, signed.Command)
	if err != nil || c.State != store.CommandSigned || !bytes.Equal(c.Frame, signed.Frame) {
		t.Fatalf("command log: %+v, %v", c, err)
	}
	m, _ := gbcs.ParseMessage(signed.Frame)
	if tbs, _ := m.SignedBytes(); !bytes.Equal(tbs, c.TBS) {
		t.Error("recorded intent differs from the signed bytes")
	}
	// The meter accepts it and now trusts supplier 2.
	res, err := f.fleet.Handle(signed.Frame)
	if err != nil || res.Outcome == nil || res.Outcome.Outcomes[0].Status != gbcs.StatusSuccess || res.Outcome.Outcomes[0].ReplacingSubjectUniqueID != f.pki.Suppliers[1].EUI {
		t.Fatalf("device: %+v, %v", res, err)
	}
	// Audit: one record before, one after, each naming request, counter and key.
	lines := strings.Split(strings.TrimSpace(f.audit.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"outcome":"intent"`) || !strings.Contains(lines[1], `"outcome":"signed"`) {
		t.Errorf("audit records:\n%s", f.audit)
	}
	for _, want := range []string{`"counter":1`, `"key_id":"tcos"`, `"request_id":"` + f.approve(t, 2).RequestID().String()[:23]} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("audit lacks %s: %s", want, lines[0])
		}
	}
}

func TestCountersNeverRepeat(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A key that fails (an HSM error) after the reservation burns the counter.
	failing, err := NewKey("tcos", failingSigner{f.pki.TCoS.Key}, f.pki.TCoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	broken := f.signer(t, func(c *Config) { c.TCoS = failing })
	if _, err := broken.SignCoS(ctx, f.approve(t, 1)); err == nil {
		t.Fatal("signing with a failing random source succeeded")
	}
	s := f.signer(t, nil)
	seen := map[uint64]bool{}
	for n := uint64(2); n < 7; n++ {
		signed, err := s.SignCoS(ctx, f.approve(t, n))
		if err != nil {
			t.Fatal(err)
		}
		if seen[signed.Counter] || signed.Counter < 2 {
			t.Fatalf("counter %d reused or below the burnt one", signed.Counter)
		}
		seen[signed.Counter] = true
	}
	// The failed attempt left its intent behind, unsigned, for recovery.
	pending, err := f.db.PendingUnsent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	intents := 0
	for _, c := range pending {
		if c.State == store.CommandIntent && c.Counter == 1 {
			intents++
		}
	}
	if intents != 1 {
		t.Errorf("%d intents left for the failed signature, want 1", intents)
	}
}

func TestKeyChoice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.db.ImportDevices(ctx, []store.Device{{EUI: f.pki.Devices[0].EUI, Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialECoS}}); err != nil {
		t.Fatal(err)
	}
	signed, err := f.signer(t, nil).SignCoS(ctx, f.approve(t, 1))
	if err != nil || signed.KeyID != "ecos" || signed.Originator != f.pki.ECoS.EUI {
		t.Fatalf("ECoS device: %+v, %v", signed, err)
	}
	// The meter still trusts TCoS, so it refuses the ECoS-signed command.
	if _, err := f.fleet.Handle(signed.Frame); err == nil {
		t.Error("meter accepted a command signed with a key it does not trust")
	}
	if _, err := f.signer(t, func(c *Config) { c.ECoS = nil }).SignCoS(ctx, f.approve(t, 2)); !errors.Is(err, ErrNoKey) {
		t.Errorf("no ECoS key: %v", err)
	}
}

func TestNewKeyRefuses(t *testing.T) {
	p, err := testpki.Generate(testpki.Options{Now: t0, Suppliers: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := NewKey("tcos", other, p.TCoS.Cert); err == nil {
		t.Error("key that does not match the certificate accepted")
	}
	if _, err := NewKey("tcos", p.Suppliers[0].DS.Key, p.Suppliers[0].DS.Cert); err == nil {
		t.Error("supplier certificate accepted as a CoS key")
	}
	if _, err := NewKey("tcos", p.TCoS.Key, []byte{0x30}); err == nil {
		t.Error("garbage certificate accepted")
	}
	if _, err := New(Config{}); err == nil {
		t.Error("empty config accepted")
	}
}

// failingSigner has the TCoS public key but cannot sign, as an HSM that
// lost its session.
type failingSigner struct{ key *ecdsa.PrivateKey }

func (f failingSigner) Public() crypto.PublicKey { return f.key.Public() }
func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("hsm: session closed")
}

// TestWrongSignatureNotSent: a signer other than Go's own ECDSA (an HSM
// whose private key object is not the one its public key object names)
// has every signature verified, so a command that no device would accept
// is never handed out, and its counter is not reused.
func TestWrongSignatureNotSent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	wrong, err := NewKey("tcos", mismatchedSigner{pub: f.pki.TCoS.Key, priv: other}, f.pki.TCoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	s := f.signer(t, func(c *Config) { c.TCoS = wrong })
	if signed, err := s.SignCoS(ctx, f.approve(t, 1)); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("got %+v, %v; want a signature that does not verify", signed, err)
	}
	signed, err := f.signer(t, nil).SignCoS(ctx, f.approve(t, 2))
	if err != nil || signed.Counter < 2 {
		t.Fatalf("after the refused signature: %+v, %v", signed, err)
	}
}

type mismatchedSigner struct{ pub, priv *ecdsa.PrivateKey }

func (m mismatchedSigner) Public() crypto.PublicKey { return m.pub.Public() }
func (m mismatchedSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return m.priv.Sign(r, d, o)
}

// TestApprovalRedeemedOnce: one approval, one signature, however often
// and from however many goroutines it is presented; the refusals spend
// no counter and record nothing.
func TestApprovalRedeemedOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.signer(t, nil)
	a := f.approve(t, 1)
	if _, err := s.SignCoS(ctx, a); err != nil {
		t.Fatal(err)
	}
	if signed, err := s.SignCoS(ctx, a); !errors.Is(err, authorise.ErrRedeemed) {
		t.Fatalf("second redemption: %+v, %v; want ErrRedeemed", signed, err)
	}

	a = f.approve(t, 2)
	const racers = 16
	results := make([]error, racers)
	var wg sync.WaitGroup
	for r := range racers {
		wg.Go(func() { _, results[r] = s.SignCoS(ctx, a) })
	}
	wg.Wait()
	won := 0
	for r, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, authorise.ErrRedeemed):
			t.Errorf("racer %d: %v, want ErrRedeemed", r, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d signatures from one approval, want 1", won)
	}
	for n := uint64(1); n <= 2; n++ {
		cs, err := f.db.CommandsForRequest(ctx, store.RequestID{Originator: f.pki.Suppliers[1].EUI, Target: f.pki.Devices[0].EUI, Counter: n})
		if err != nil || len(cs) != 1 || cs[0].Counter != n {
			t.Fatalf("request %d: commands %+v %v, want one with counter %d", n, cs, err, n)
		}
	}
	if next, err := f.db.ReserveCounter(ctx, CounterKey); err != nil || next != 3 {
		t.Fatalf("next counter %d %v, want 3: a refused redemption spent one", next, err)
	}
}

// TestRequestSignedOnce: a second approval of a request that already has
// a command (a bug above the signer, or two recoveries at once) is refused
// by the command log, not signed.
func TestRequestSignedOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.signer(t, nil)
	first, err := s.SignCoS(ctx, f.approve(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.SignCoS(ctx, f.decide(t, 1))
	if !errors.Is(err, store.ErrLiveCommand) {
		t.Fatalf("second approval of one request: %+v, %v; want ErrLiveCommand", signed, err)
	}
	cs, err := f.db.CommandsForRequest(ctx, store.RequestID{Originator: f.pki.Suppliers[1].EUI, Target: f.pki.Devices[0].EUI, Counter: 1})
	if err != nil || len(cs) != 1 || cs[0].ID != first.Command {
		t.Fatalf("commands after a refused second approval: %+v %v, want only %d", cs, err, first.Command)
	}
	if n := strings.Count(f.audit.String(), `"msg":"signing cs02b"`); n != 1 {
		t.Errorf("%d signatures begun in the audit log, want 1", n)
	}

	// Racing approvals of one request: one signature.
	f.approve(t, 2)
	const racers = 8
	approvals := make([]*authorise.Approved, racers)
	for r := range approvals {
		approvals[r] = f.decide(t, 2)
	}
	results := make([]error, racers)
	var wg sync.WaitGroup
	for r := range racers {
		wg.Go(func() { _, results[r] = s.SignCoS(ctx, approvals[r]) })
	}
	wg.Wait()
	won := 0
	for r, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrLiveCommand):
			t.Errorf("racer %d: %v, want ErrLiveCommand", r, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d signatures for one request, want 1", won)
	}
}
