package enrol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func testPKI(t *testing.T) *testpki.PKI {
	t.Helper()
	p, err := testpki.Generate(testpki.Options{Now: testNow, Suppliers: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// issue has p's Organisation CA certify key for s, as `ecos pki sign-csr`
// does.
func issue(t *testing.T, p *testpki.PKI, key *ecdsa.PrivateKey, s Subject) []byte {
	t.Helper()
	csr, err := CreateRequest(rand.Reader, key, s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := smki.ParseRequest(csr)
	if err != nil {
		t.Fatal(err)
	}
	der, err := p.IssueOrganisation(r, IssueOpts(s.Role))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func IssueOpts(r role.Role) testpki.IssueOptions { return testpki.IssueOptions{Now: testNow, Role: r} }

func verifyOpts(t *testing.T, p *testpki.PKI, now time.Time) smki.VerifyOptions {
	t.Helper()
	root, err := smki.Parse(p.Root.Cert)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := smki.Parse(p.OrgCA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return smki.VerifyOptions{Roots: smki.NewPool(root), Intermediates: smki.NewPool(ca), Now: now}
}

// withoutPolicies is a certificate for key that chains to p's root but
// breaks the SMKI profile (no certificatePolicies, a SKI by SHA-1).
func withoutPolicies(t *testing.T, p *testpki.PKI, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	csr, _ := CreateRequest(rand.Reader, key, Subject{Role: role.TransitionalCoS, EUI: ecosEUI})
	r, _ := smki.ParseRequest(csr)
	ca, err := x509.ParseCertificate(p.OrgCA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(77), RawSubject: r.Subject.Raw, NotBefore: testNow, NotAfter: testNow.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, SubjectKeyId: KeyID(&key.PublicKey),
	}, ca, &key.PublicKey, p.OrgCA.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestCheck(t *testing.T) {
	p, other := testPKI(t), testPKI(t)
	key := newKey(t)
	tcos := Subject{Role: role.TransitionalCoS, EUI: ecosEUI}
	good := issue(t, p, key, tcos)
	if _, err := Check(good, &key.PublicKey, verifyOpts(t, p, testNow)); err != nil {
		t.Fatalf("the issued certificate: %v", err)
	}
	blk, _ := pem.Decode(good)
	if _, err := Check(blk.Bytes, &key.PublicKey, verifyOpts(t, p, testNow)); err != nil {
		t.Fatalf("the issued certificate as DER: %v", err)
	}
	for _, tc := range []struct {
		name string
		cert []byte
		now  time.Time
		want string
	}{
		{"another key's", issue(t, p, newKey(t), tcos), testNow, "certifies another key"},
		{"not chaining", issue(t, other, key, tcos), testNow, "does not chain to the configured trust anchors"},
		{"expired", good, testNow.AddDate(11, 0, 0), "expired"},
		{"supplier role", issue(t, p, key, Subject{Role: role.Supplier, EUI: testpki.SupplierEUI(1)}), testNow, "supplier certificate (OU 02)"},
		{"key agreement", p.ACB.KA.CertPEM(), testNow, "accessControlBroker certificate"},
		{"a CA", p.OrgCA.CertPEM(), testNow, "CA certificate, not an Organisation"},
		{"a device", p.Devices[0].DS.CertPEM(), testNow, "device certificate"},
		{"breaks the profile", withoutPolicies(t, p, key), testNow, "certificatePolicies: absent"},
		{"two certificates", append(append([]byte{}, good...), p.OrgCA.CertPEM()...), testNow, "holds 2 certificates"},
		{"not a certificate", []byte("hello"), testNow, "not a certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(tc.cert, &key.PublicKey, verifyOpts(t, p, tc.now))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestInstall(t *testing.T) {
	p := testPKI(t)
	key := newKey(t)
	opts := verifyOpts(t, p, testNow)
	chain, err := Check(issue(t, p, key, Subject{Role: role.TransitionalCoS, EUI: ecosEUI}), &key.PublicKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 3 {
		t.Fatalf("a chain of %d, want the certificate, the Organisation CA and the root", len(chain))
	}
	c := chain[0]
	path := filepath.Join(t.TempDir(), "ecos.pem")
	if done, err := Install(path, c); !done || err != nil {
		t.Fatalf("first install: %v %v", done, err)
	}
	written, _ := os.ReadFile(path)
	certs, err := smki.ParsePEM(written)
	if err != nil || len(certs) != 1 || !certs[0].Equal(c) {
		t.Fatalf("the file holds %d certificates (%v), want the installed one", len(certs), err)
	}
	if done, err := Install(path, c); done || err != nil {
		t.Fatalf("installing the same certificate again: %v %v, want a no-op", done, err)
	}
	other, err := Check(issue(t, p, key, Subject{CommonName: "X", Role: role.TransitionalCoS, EUI: ecosEUI}), &key.PublicKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := Install(path, other[0]); done || !errors.Is(err, ErrExists) {
		t.Fatalf("replacing with another certificate: %v %v, want ErrExists", done, err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, written) {
		t.Fatal("the refused install changed the file")
	}
}
