package prove

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/testpki"
)

func testPKI(t *testing.T, now time.Time) *testpki.PKI {
	t.Helper()
	p, err := testpki.Generate(testpki.Options{Now: now, Suppliers: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A software key proved against its certificate, today inside its
// validity: every check passes on both meters, the one whose clock is
// past the certificate's notAfter included.
func TestProveSoftwareKey(t *testing.T) {
	issued := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	p := testPKI(t, issued)
	now := issued.AddDate(1, 0, 0)
	r, err := Run(Options{Signer: p.TCoS.Key, Key: "software key tcos.key", Cert: p.TCoS.Cert, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.WriteText(&out)
	if !r.OK() {
		t.Fatalf("the proof failed:\n%s", out.String())
	}
	if len(r.Meters) != 2 || r.Meters[0].AnchorExpired || !r.Meters[1].AnchorExpired ||
		!r.Meters[0].Clock.Equal(now) || !r.Meters[1].Clock.After(r.Certificate.NotAfter) {
		t.Errorf("meters %+v", r.Meters)
	}
	// key; then per meter control, sign/verify/device for mode 7 and 6.
	steps := map[string]int{}
	for _, c := range r.Checks {
		steps[c.Step]++
	}
	if want := map[string]int{"key": 1, "control": 2, "sign": 4, "verify": 4, "device": 4}; !equalCounts(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	for _, want := range []string{"SKI " + r.Certificate.SKI, "counter 1", "counter 2", "anchor-expired", "transCoSByTransCoS", "supplierByTransCoS",
		"{supplier, digitalSignature}: success", "{transitionalCoS, digitalSignature}: success", "bad-signature", "15 of 15 checks passed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
}

// A certificate whose validity is over before now: the first meter runs
// inside it, the second after it.
func TestProveExpiredCertificate(t *testing.T) {
	issued := time.Date(2001, 3, 1, 0, 0, 0, 0, time.UTC)
	p := testPKI(t, issued)
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	r, err := Run(Options{Signer: p.TCoS.Key, Key: "k", Cert: p.TCoS.Cert, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		var out bytes.Buffer
		r.WriteText(&out)
		t.Fatalf("the proof failed:\n%s", out.String())
	}
	if c := r.Meters[0].Clock; !c.Before(r.Certificate.NotAfter) || c.Before(r.Certificate.NotBefore) {
		t.Errorf("the anchor-valid meter's clock %v is outside the certificate's validity", c)
	}
}

// Refused before anything is signed: another key's certificate, and a
// certificate that is no CoS one.
func TestProveRefusesCertificate(t *testing.T) {
	p := testPKI(t, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	now := func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name string
		cert []byte
		want string
	}{
		{"another-key", p.ECoS.Cert, "the certificate's public key is not the key's"},
		{"supplier", p.Suppliers[0].DS.Cert, "a transitionalCoS digitalSignature one"},
		{"garbage", []byte("not a certificate"), "the certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &counting{Signer: p.TCoS.Key}
			r, err := Run(Options{Signer: s, Key: "k", Cert: c.cert, Now: now})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("report %v, error %v; want %q", r, err, c.want)
			}
			if s.n != 0 {
				t.Errorf("%d signatures made before refusing", s.n)
			}
		})
	}
	_, err := Run(Options{Signer: p.TCoS.Key, Key: "k", Cert: p.ECoS.Cert, Now: now})
	if !errors.Is(err, ErrNotTheKey) {
		t.Errorf("another key's certificate: %v, want ErrNotTheKey", err)
	}
}

// A token that answers with another key's signatures (a wrong key behind
// the right public key): the signing checks fail, and nothing reaches a
// meter as if it were proved.
func TestProveWrongSignatures(t *testing.T) {
	p := testPKI(t, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bad := &impostor{pub: &p.TCoS.Key.PublicKey, key: other}
	r, err := Run(Options{Signer: bad, Key: "k", Cert: p.TCoS.Cert, Now: func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Failed != 4 {
		var out bytes.Buffer
		r.WriteText(&out)
		t.Fatalf("%d failed, want the 4 signatures:\n%s", r.Failed, out.String())
	}
	for _, c := range r.Checks {
		if c.Step == "sign" && (c.OK || !strings.Contains(c.Detail, "does not verify")) {
			t.Errorf("sign check %+v", c)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

type counting struct {
	crypto.Signer
	n int
}

func (c *counting) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n++
	return c.Signer.Sign(r, d, o)
}

type impostor struct {
	pub *ecdsa.PublicKey
	key *ecdsa.PrivateKey
}

func (i *impostor) Public() crypto.PublicKey { return i.pub }
func (i *impostor) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return i.key.Sign(r, d, o)
}
