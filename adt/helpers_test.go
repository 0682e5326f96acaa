package adt

import (
	"crypto/rand"
	"encoding/base64"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

// pkiNow starts every test certificate's validity; verifyNow is inside it.
var (
	pkiNow    = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	verifyNow = pkiNow.Add(24 * time.Hour)
)

// fixture is a generated test PKI with the pools Verify needs.
type fixture struct {
	pki   *testpki.PKI
	certs *smki.Pool // every certificate of the PKI, as a signer directory
	iki   *smki.Pool // the IKI File Signing CA alone
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	p, err := testpki.Generate(testpki.Options{
		Now: pkiNow, Rand: mrand.NewChaCha8([32]byte{'a', 'd', 't'}), Suppliers: 2, Devices: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []*smki.Certificate
	for _, c := range p.Credentials() {
		all = append(all, parseCert(t, c))
	}
	return &fixture{pki: p, certs: smki.NewPool(all...), iki: smki.NewPool(parseCert(t, p.FileSigningCA))}
}

func parseCert(t testing.TB, c *testpki.Credential) *smki.Certificate {
	t.Helper()
	cert, err := smki.Parse(c.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// sign signs body with credential c.
func sign(t testing.TB, c *testpki.Credential, body []byte) []byte {
	t.Helper()
	out, err := Sign(body, c.Key, parseCert(t, c), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (fx *fixture) verify(f *File) (*smki.Certificate, error) {
	return Verify(f, fx.certs, VerifyOptions{IKI: fx.iki, Now: verifyNow})
}

// goodFile is a valid file of user with two rows.
func goodFile(user eui.EUI, seq uint64) *File {
	return &File{User: user, Sequence: seq, Rows: []Row{
		{SRV: "6.23", Warning: 50, Quarantine: 100, Interval: 1440},
		{SRV: "1.1.1", Warning: 999999, Quarantine: 999999, Interval: 1440},
	}}
}

// fakeSig is a syntactically valid signature line that signs nothing, for
// tests of Parse and Validate.
var fakeSig = "Signature,CN%3DIKI+File+Signing+CA%2C+OU%3DissuingAuthority%2C+O%3DDCC,12345," +
	base64.StdEncoding.EncodeToString(make([]byte, 64))

// lines joins its arguments as LF-terminated lines.
func lines(ls ...string) []byte {
	return []byte(strings.Join(ls, "\n") + "\n")
}

// problemLines returns the line numbers of err's problems, failing the test
// if err is not a *Problems.
func problemLines(t *testing.T, err error) []int {
	t.Helper()
	ps, ok := err.(*Problems)
	if !ok {
		t.Fatalf("error %v (%T) is not *Problems", err, err)
	}
	var out []int
	for _, p := range *ps {
		out = append(out, p.Line)
	}
	return out
}

var bigOne = big.NewInt(1)
