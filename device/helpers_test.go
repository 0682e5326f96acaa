package device

import (
	"crypto/ecdsa"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// The generated PKI starts at pkiNow; devices run at deviceNow, inside
// every organisation certificate's validity.
var (
	pkiNow    = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	deviceNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
)

// pkiSeed makes every generated PKI reproducible. PKIs generated with the
// same seed at different times have the same keys, names and serials and
// differ only in validity: a certificate from one chains to the CA
// certificate of another, which is how the tests build a replacement that
// is expired or not yet valid while the rest of the path is fine.
const pkiSeed = 62

var (
	pkiMu    sync.Mutex
	pkiCache = map[time.Time]*testpki.PKI{}
)

// genPKI returns the seeded PKI issued at now (generated once per time).
func genPKI(t testing.TB, now time.Time) *testpki.PKI {
	t.Helper()
	pkiMu.Lock()
	defer pkiMu.Unlock()
	if p := pkiCache[now]; p != nil {
		return p
	}
	p, err := testpki.Generate(testpki.Options{Now: now, Rand: rand.NewChaCha8([32]byte{pkiSeed}), Suppliers: 2, Devices: 2})
	if err != nil {
		t.Fatal(err)
	}
	pkiCache[now] = p
	return p
}

// clock is a settable fake device clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newESME builds device 1 of p as a commissioned ESME at deviceNow.
func newESME(t testing.TB, p *testpki.PKI) (*Device, *clock) {
	t.Helper()
	clk := newClock(deviceNow)
	cfg, err := ESMEConfig(p, 1, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d, clk
}

// body623 is an SR 6.23 body replacing the supplier cells with supplier
// n's credentials, issued by the org CA.
func body623(p *testpki.PKI, n int) *duis.UpdateSecurityCredentialsCoS {
	s := p.Suppliers[n-1]
	zero := uint64(0)
	return &duis.UpdateSecurityCredentialsCoS{
		SupplierFloorSeqNumber:                0,
		SupplierPrepaymentTopUpFloorSeqNumber: &zero,
		DigitalSigningCertificate:             s.DS.Cert,
		KeyAgreementCertificate:               s.KA.Cert,
		KeyAgreementTopUpCertificate:          s.KATopUp.Cert,
		CertificationPath:                     [][]byte{p.OrgCA.Cert},
		ApplyTimeBasedCPVChecks:               true,
		ImportMPxN:                            "1312345678333",
	}
}

// cmd623 is the CS02b mode 7 payload for body with the given counter.
func cmd623(t testing.TB, body *duis.UpdateSecurityCredentialsCoS, counter uint64) *gbcs.UpdateSecurityCredentials {
	t.Helper()
	c, err := cosbuild.SupplierByTransCoS(body, counter)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// migration is the CS02b mode 6 payload installing newCert.
func migration(t testing.TB, p *testpki.PKI, newCert []byte, counter uint64) *gbcs.UpdateSecurityCredentials {
	t.Helper()
	c, err := cosbuild.TransCoSByTransCoS(cosbuild.Migration{NewCertificate: newCert, CertificationPath: [][]byte{p.OrgCA.Cert}}, counter)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// message wraps payload from signer's EUI to device, unsigned.
func message(t testing.TB, signer *testpki.Credential, device eui.EUI, payload *gbcs.UpdateSecurityCredentials) *gbcs.Message {
	t.Helper()
	m, err := cosbuild.Command(signer.EUI, device, payload)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// signed signs m with signer's key (RFC 6979) and encodes it.
func signed(t testing.TB, m *gbcs.Message, signer *ecdsa.PrivateKey) []byte {
	t.Helper()
	if err := m.Sign(nil, signer); err != nil {
		t.Fatal(err)
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// frame builds and signs a command from signer to device.
func frame(t testing.TB, signer *testpki.Credential, device eui.EUI, payload *gbcs.UpdateSecurityCredentials) []byte {
	t.Helper()
	return signed(t, message(t, signer, device, payload), signer.Key)
}

// mustHandle handles a frame that must be accepted with a response.
func mustHandle(t testing.TB, d *Device, f []byte) *Result {
	t.Helper()
	res, err := d.Handle(f)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if res == nil || (res.Response == nil && !res.Dropped) {
		t.Fatalf("Handle: no response: %+v", res)
	}
	return res
}

// snapshot is a device's whole mutable state.
type snapshot struct {
	cells        cells
	seqs         seqs
	alertCounter uint64
	pending      []*pending
}

func snap(d *Device) snapshot {
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	return snapshot{cells: slices.Clone(st.cells(d.env)), seqs: slices.Clone(st.seqs()),
		alertCounter: st.alertCounter(), pending: slices.Clone(st.pending())}
}

// mustReject handles a frame that must be refused with reason, leaving the
// device exactly as it was.
func mustReject(t testing.TB, d *Device, f []byte, reason Reason) {
	t.Helper()
	before := snap(d)
	res, err := d.Handle(f)
	if res != nil {
		t.Errorf("refused command returned a result: %+v", res)
	}
	var re *RejectError
	if !errors.As(err, &re) || re.Reason != reason || !errors.Is(err, reason) {
		t.Fatalf("err = %v, want reason %v", err, reason)
	}
	if after := snap(d); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused command changed the device:\nbefore %+v\nafter  %+v", before, after)
	}
}

// parseResponse checks a response's signature with the device's key and
// decodes it.
func parseResponse(t testing.TB, d *Device, b []byte) (*gbcs.Message, *gbcs.UpdateSecurityCredentialsResponse) {
	t.Helper()
	m, err := gbcs.ParseMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(d.PublicKey()); err != nil {
		t.Fatalf("response signature: %v", err)
	}
	if m.CRA != gbcs.CRAResponse || m.Originator != d.EUI() {
		t.Fatalf("response header: %+v", m)
	}
	r, err := gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

// skiOf is a credential's SKI as a gbcs.KeyID.
func skiOf(c *testpki.Credential) gbcs.KeyID {
	var k gbcs.KeyID
	copy(k[:], c.SKI)
	return k
}

// wantOutcome is the expected outcome of one cell.
func wantOutcome(cell cellKey, status gbcs.Status, from, to *testpki.Credential) gbcs.ReplacementOutcome {
	return gbcs.ReplacementOutcome{Cell: cell.cell(), Status: status,
		ExistingSubjectUniqueID: from.EUI, ExistingSubjectKeyID: skiOf(from),
		ReplacingSubjectUniqueID: to.EUI, ReplacingSubjectKeyID: skiOf(to)}
}

// checkOutcomes compares outcomes field by field (gbcs values carry
// private encoding details, so == would compare more than the meaning).
func checkOutcomes(t testing.TB, got, want []gbcs.ReplacementOutcome) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d outcomes, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if keyOf(g.Cell) != keyOf(w.Cell) || g.Status != w.Status ||
			g.ExistingSubjectUniqueID != w.ExistingSubjectUniqueID || g.ExistingSubjectKeyID != w.ExistingSubjectKeyID ||
			g.ReplacingSubjectUniqueID != w.ReplacingSubjectUniqueID || g.ReplacingSubjectKeyID != w.ReplacingSubjectKeyID {
			t.Errorf("outcome %d:\n got %v %v %v/%x → %v/%x\nwant %v %v %v/%x → %v/%x", i,
				keyOf(g.Cell), g.Status, g.ExistingSubjectUniqueID, g.ExistingSubjectKeyID, g.ReplacingSubjectUniqueID, g.ReplacingSubjectKeyID,
				keyOf(w.Cell), w.Status, w.ExistingSubjectUniqueID, w.ExistingSubjectKeyID, w.ReplacingSubjectUniqueID, w.ReplacingSubjectKeyID)
		}
	}
}

// statuses lists the outcome statuses.
func statuses(o *gbcs.ExecutionOutcome) []gbcs.Status {
	var out []gbcs.Status
	for _, r := range o.Outcomes {
		out = append(out, r.Status)
	}
	return out
}

// supplierCells is the supplier's DS, KA and KA top-up cells, in command
// order.
var supplierCells = []cellKey{cellSupplierDS, cellSupplierKA, cellSupplierKATopUp}

// supplierSKIs reads the SKIs the device holds in its supplier cells.
func supplierSKIs(t testing.TB, d *Device) []gbcs.KeyID {
	t.Helper()
	var out []gbcs.KeyID
	for _, k := range supplierCells {
		ski, ok := d.AnchorSKI(k.cell())
		if !ok {
			t.Fatalf("no anchor in %v", k)
		}
		out = append(out, ski)
	}
	return out
}

func supplierCredSKIs(p *testpki.PKI, n int) []gbcs.KeyID {
	s := p.Suppliers[n-1]
	return []gbcs.KeyID{skiOf(s.DS), skiOf(s.KA), skiOf(s.KATopUp)}
}
