package xmldsig

import (
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

// Most tests use a synthetic signer from testpki (seeded, so the same
// bytes every run) and need no external vectors; conformance with the DCC
// tools is in vectors_test.go, oracle_test.go and java_test.go.

type party struct {
	key  *ecdsa.PrivateKey
	cert *smki.Certificate
	cred *testpki.Credential
}

type fixture struct {
	signer, other party      // two XML-signing suppliers
	pool          *smki.Pool // knows both
	request       string     // a 6.23-shaped request, indented, unsigned
}

var loadFixture = sync.OnceValues(func() (*fixture, error) {
	p, err := testpki.Generate(testpki.Options{
		Now:       time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Rand:      rand.NewChaCha8([32]byte{'x', 'm', 'l', 'd', 's', 'i', 'g'}),
		Suppliers: 2,
		Devices:   1,
	})
	if err != nil {
		return nil, err
	}
	mk := func(name string) (party, error) {
		c := p.ByName(name)
		cert, err := smki.Parse(c.Cert)
		return party{key: c.Key, cert: cert, cred: c}, err
	}
	f := &fixture{}
	if f.signer, err = mk("supplier1-xml-sign"); err != nil {
		return nil, err
	}
	if f.other, err = mk("supplier2-xml-sign"); err != nil {
		return nil, err
	}
	f.pool = smki.NewPool(f.signer.cert, f.other.cert)
	b64 := func(name string) string { return base64.StdEncoding.EncodeToString(p.ByName(name).Cert) }
	f.request = strings.NewReplacer(
		"{DS}", b64("supplier2-ds"), "{KA}", b64("supplier2-ka"),
		"{KATOPUP}", b64("supplier2-ka-topup"), "{CA}", b64("org-ca"),
	).Replace(requestTemplate)
	return f, nil
})

func testFixture(tb testing.TB) *fixture {
	tb.Helper()
	f, err := loadFixture()
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// requestTemplate is shaped like a DUIS 6.23 Update Security Credentials
// (CoS) request (docs dcc-formats.md §2.1–2.3) with testpki identities; it
// is our own text, not a copy of the GPL templates.
const requestTemplate = `<?xml version="1.0" encoding="UTF-8"?>
<sr:Request xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" schemaVersion="5.4">
  <sr:Header>
    <sr:RequestID>EE-C0-5E-00-01-00-00-01:EE-C0-5E-DE-00-00-00-01:1006</sr:RequestID>
    <sr:CommandVariant>1</sr:CommandVariant>
    <sr:ServiceReference>6.23</sr:ServiceReference>
    <sr:ServiceReferenceVariant>6.23</sr:ServiceReferenceVariant>
  </sr:Header>
  <sr:Body>
    <sr:UpdateSecurityCredentialsCoS>
      <sr:SupplierFloorSeqNumber>0</sr:SupplierFloorSeqNumber>
      <sr:SupplierPrepaymentTopUpFloorSeqNumber>0</sr:SupplierPrepaymentTopUpFloorSeqNumber>
      <sr:SupplierReplacementCertificates>
        <sr:DigitalSigningCertificate>{DS}</sr:DigitalSigningCertificate>
        <sr:KeyAgreementCertificate>{KA}</sr:KeyAgreementCertificate>
        <sr:KeyAgreementTopUpCertificate>{KATOPUP}</sr:KeyAgreementTopUpCertificate>
      </sr:SupplierReplacementCertificates>
      <sr:CertificationPathCertificates>
        <sr:Certificate>{CA}</sr:Certificate>
      </sr:CertificationPathCertificates>
      <sr:ApplyTimeBasedCPVChecks>true</sr:ApplyTimeBasedCPVChecks>
      <sr:ImportMPxN>1312345678333</sr:ImportMPxN>
    </sr:UpdateSecurityCredentialsCoS>
  </sr:Body>
</sr:Request>
`

// signWith signs deterministically (RFC 6979) and fails the test on error.
func signWith(tb testing.TB, p party, doc string, opts ...SignOption) string {
	tb.Helper()
	out, err := Sign([]byte(doc), p.key, p.cert, nil, opts...)
	if err != nil {
		tb.Fatalf("Sign: %v", err)
	}
	return string(out)
}

// signedRequest is the fixture request signed by the fixture signer,
// indentation and all (KeepWhitespace), so that hostile edits can reach
// it and Verify reads every one both as the DCC does and as given.
func signedRequest(tb testing.TB) string {
	tb.Helper()
	f := testFixture(tb)
	return signWith(tb, f.signer, f.request, KeepWhitespace())
}

// wantReason asserts err is an *Error with reason want.
func wantReason(tb testing.TB, v *Verified, err error, want Reason) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("accepted; want %v", want)
	}
	if v != nil {
		tb.Errorf("non-nil *Verified with error %v", err)
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		tb.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Reason != want || !errors.Is(err, want) {
		tb.Fatalf("reason %v (%v); want %v", e.Reason, err, want)
	}
}

// replace applies one textual edit and fails if old is absent, so a
// mutation test cannot pass because its edit silently did nothing.
func replace(tb testing.TB, s, old, new string) string {
	tb.Helper()
	if !strings.Contains(s, old) {
		tb.Fatalf("mutation target %q not found", old)
	}
	return strings.Replace(s, old, new, 1)
}

// between returns the substring of s from the first from up to and
// including the following to.
func between(tb testing.TB, s, from, to string) string {
	tb.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		tb.Fatalf("%q not found", from)
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		tb.Fatalf("%q not found after %q", to, from)
	}
	return s[i : i+j+len(to)]
}

// compact drops the indentation between elements, which is what the Java
// signer's schema-validating parser does (see java_test.go).
func compact(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimSpace(line))
	}
	return b.String()
}

// tool finds an oracle binary: a skip locally, a failure in CI.
func tool(tb testing.TB, name string) string {
	tb.Helper()
	return testkit.Tool(tb, name, "see .ci/run")
}

func writeTemp(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := tb.TempDir() + "/" + name
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}
