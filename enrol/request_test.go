package enrol

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

var ecosEUI = eui.MustParse("EE-C0-5E-00-00-00-00-05")

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCreateRequestContents reads each request back with crypto/x509 (a
// parser that is not ours) and with smki, and checks every field an SMKI
// Organisation certificate request must carry.
func TestCreateRequestContents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		subject Subject
		wantRDN []asn1.ObjectIdentifier
	}{
		{"no name", Subject{Role: role.TransitionalCoS, EUI: ecosEUI}, []asn1.ObjectIdentifier{oidOrgUnit, oidUniqueIdentifier}},
		{"with name", Subject{CommonName: "ECOS PARTY", Role: role.TransitionalCoS, EUI: ecosEUI}, []asn1.ObjectIdentifier{oidCommonName, oidOrgUnit, oidUniqueIdentifier}},
		{"non-ASCII name", Subject{CommonName: "Énergie Ltd", Role: role.TransitionalCoS, EUI: ecosEUI}, []asn1.ObjectIdentifier{oidCommonName, oidOrgUnit, oidUniqueIdentifier}},
		{"supplier", Subject{Role: role.Supplier, EUI: eui.MustParse("90-B3-D5-1F-30-01-00-00")}, []asn1.ObjectIdentifier{oidOrgUnit, oidUniqueIdentifier}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := newKey(t)
			der, err := CreateRequest(rand.Reader, key, tc.subject)
			if err != nil {
				t.Fatal(err)
			}
			csr, err := x509.ParseCertificateRequest(der)
			if err != nil {
				t.Fatalf("crypto/x509 cannot read the request: %v", err)
			}
			if err := csr.CheckSignature(); err != nil {
				t.Errorf("crypto/x509: signature: %v", err)
			}
			if csr.SignatureAlgorithm != x509.ECDSAWithSHA256 || csr.PublicKeyAlgorithm != x509.ECDSA {
				t.Errorf("algorithms %v %v", csr.SignatureAlgorithm, csr.PublicKeyAlgorithm)
			}
			if !key.PublicKey.Equal(csr.PublicKey) {
				t.Error("the request carries another public key")
			}
			var got []asn1.ObjectIdentifier
			for _, a := range csr.Subject.Names {
				got = append(got, a.Type)
				switch {
				case a.Type.Equal(oidOrgUnit):
					if a.Value != strings.ToUpper(hexByte(uint8(tc.subject.Role))) {
						t.Errorf("OU %v, want %02X", a.Value, uint8(tc.subject.Role))
					}
				case a.Type.Equal(oidCommonName):
					if a.Value != tc.subject.CommonName {
						t.Errorf("CN %v", a.Value)
					}
				case a.Type.Equal(oidUniqueIdentifier):
					bs, ok := a.Value.(asn1.BitString)
					if !ok || bs.BitLength != 64 || !bytes.Equal(bs.Bytes, tc.subject.EUI[:]) {
						t.Errorf("x500UniqueIdentifier %#v, want BIT STRING of the EUI-64", a.Value)
					}
				}
			}
			if len(got) != len(tc.wantRDN) {
				t.Fatalf("subject attributes %v, want %v", got, tc.wantRDN)
			}
			for i := range got {
				if !got[i].Equal(tc.wantRDN[i]) {
					t.Fatalf("subject attributes %v, want %v", got, tc.wantRDN)
				}
			}
			if len(csr.Extensions) != 1 || !csr.Extensions[0].Id.Equal(oidExtKeyUsage) || !csr.Extensions[0].Critical ||
				!bytes.Equal(csr.Extensions[0].Value, []byte{0x03, 0x02, 0x07, 0x80}) {
				t.Errorf("extensions %+v, want only keyUsage digitalSignature, critical", csr.Extensions)
			}
			r, err := smki.ParseRequest(der)
			if err != nil {
				t.Fatal(err)
			}
			if r.Role != tc.subject.Role || r.EUI != tc.subject.EUI || r.CommonName != tc.subject.CommonName || r.KeyUsage != smki.KeyUsageDigitalSignature {
				t.Errorf("smki reads role %v EUI %v CN %q usage %v", r.Role, r.EUI, r.CommonName, r.KeyUsage)
			}
			if err := errors.Join(r.CheckSignature(), r.CheckProfile()); err != nil {
				t.Error(err)
			}
		})
	}
}

func hexByte(b uint8) string {
	return string("0123456789ABCDEF"[b>>4]) + string("0123456789ABCDEF"[b&15])
}

// TestCreateRequestOpenSSL: openssl reads the request and verifies its
// signature, as an SMKI registration authority's tools would.
func TestCreateRequestOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	der, err := CreateRequest(rand.Reader, newKey(t), Subject{CommonName: "ECOS", Role: role.TransitionalCoS, EUI: ecosEUI})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "req.der")
	if err := os.WriteFile(f, der, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "req", "-inform", "DER", "-in", f, "-noout", "-verify", "-text").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verify OK") {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	for _, want := range []string{"Digital Signature", "Key Usage: critical", "OU = 05", "x500UniqueIdentifier = #030900EEC05E0000000005", "NIST CURVE: P-256"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("openssl's reading lacks %q:\n%s", want, out)
		}
	}
}

func TestCreateRequestRefuses(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		s    Subject
		want string
	}{
		{"no EUI", newKey(t), Subject{Role: role.TransitionalCoS}, "no EUI-64"},
		{"CA role", newKey(t), Subject{Role: role.IssuingAuthority, EUI: ecosEUI}, "not an organisation's"},
		{"root role", newKey(t), Subject{Role: role.Root, EUI: ecosEUI}, "not an organisation's"},
		{"unknown role", newKey(t), Subject{Role: 0x42, EUI: ecosEUI}, "not an organisation's"},
		{"long name", newKey(t), Subject{CommonName: strings.Repeat("x", 65), Role: role.TransitionalCoS, EUI: ecosEUI}, "at most 64"},
		{"bad UTF-8", newKey(t), Subject{CommonName: "\xff", Role: role.TransitionalCoS, EUI: ecosEUI}, "not UTF-8"},
		{"P-384", p384, Subject{Role: role.TransitionalCoS, EUI: ecosEUI}, "not an ECDSA P-256 key"},
		{"wrong signer", lyingSigner{newKey(t), newKey(t)}, Subject{Role: role.TransitionalCoS, EUI: ecosEUI}, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CreateRequest(rand.Reader, tc.key, tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// lyingSigner reports one key and signs with another, as a token holding
// a mismatched pair would.
type lyingSigner struct{ pub, priv *ecdsa.PrivateKey }

func (l lyingSigner) Public() crypto.PublicKey { return &l.pub.PublicKey }
func (l lyingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return l.priv.Sign(r, d, o)
}
