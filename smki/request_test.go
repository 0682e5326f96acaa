package smki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// orgSubject is an Organisation subject as SMKI writes it: OU=05 in
// UTF8String and the EUI-64 as a 64-bit BIT STRING.
func orgSubject(t testing.TB) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range []struct {
			oid asn1.ObjectIdentifier
			tag cbasn1.Tag
			v   []byte
		}{{oidAttrOrgUnit, cbasn1.UTF8String, []byte("05")}, {oidAttrUniqueIdentifier, cbasn1.BIT_STRING, []byte{0, 0xEE, 0xC0, 0x5E, 0, 0, 0, 0, 5}}} {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(a.oid)
					b.AddASN1(a.tag, func(b *cryptobyte.Builder) { b.AddBytes(a.v) })
				})
			})
		}
	})
	return b.BytesOrPanic()
}

var kuDigitalSignature = pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: []byte{0x03, 0x02, 0x07, 0x80}}

func newRequest(t testing.TB, exts ...pkix.Extension) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{RawSubject: orgSubject(t), ExtraExtensions: exts}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseRequest(t *testing.T) {
	der := newRequest(t, kuDigitalSignature)
	r, err := ParseRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	if r.Role != RoleTransitionalCoS || r.EUI.Hex() != "EEC05E0000000005" || r.KeyUsage != KeyUsageDigitalSignature || r.PublicKey == nil {
		t.Errorf("role %v EUI %v usage %v", r.Role, r.EUI, r.KeyUsage)
	}
	if err := errors.Join(r.CheckSignature(), r.CheckProfile()); err != nil {
		t.Fatal(err)
	}
	p, err := ParseRequestPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if err != nil || string(p.Raw) != string(der) {
		t.Fatalf("PEM: %v", err)
	}
	tampered := append([]byte{}, der...)
	tampered[len(tampered)-2] ^= 1
	if r, err := ParseRequest(tampered); err != nil || !errors.Is(r.CheckSignature(), ErrRequestSignature) {
		t.Errorf("a changed signature: parse %v, check %v", err, r.CheckSignature())
	}
}

func TestParseRequestMalformed(t *testing.T) {
	good := newRequest(t, kuDigitalSignature)
	twice := newRequest(t, kuDigitalSignature, pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: []byte{0x03, 0x02, 0x03, 0x08}})
	for _, tc := range []struct {
		name string
		der  []byte
		want string
	}{
		{"empty", nil, "not a single DER SEQUENCE"},
		{"trailing data", append(append([]byte{}, good...), 0), "not a single DER SEQUENCE"},
		{"a certificate's worth of garbage", []byte{0x30, 0x03, 0x02, 0x01, 0x00}, "malformed structure"},
		{"two keyUsage extensions", twice, "duplicate extension"},
		{"cut short", good[:len(good)-10], "not a single DER SEQUENCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequest(tc.der)
			if r != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseRequest: %v, %v; want an error saying %q", r, err, tc.want)
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Errorf("%T is not a *ParseError", err)
			}
		})
	}
	if _, err := ParseRequestPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: good})); err == nil || !strings.Contains(err.Error(), "want CERTIFICATE REQUEST") {
		t.Errorf("a CERTIFICATE block: %v", err)
	}
}

// FuzzParseRequest: ParseRequest and ParseRequestPEM never panic, fail
// only with a *ParseError, and what they accept keeps the input's bytes;
// the checks never panic on what they accept.
func FuzzParseRequest(f *testing.F) {
	f.Add(newRequest(f, kuDigitalSignature))
	f.Add(newRequest(f))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: newRequest(f, kuDigitalSignature)}))
	f.Fuzz(func(t *testing.T, der []byte) {
		if r, err := ParseRequestPEM(der); err != nil {
			if _, ok := errors.AsType[*ParseError](err); !ok || r != nil {
				t.Fatalf("PEM: error %T with request %v", err, r)
			}
		} else {
			_ = r.CheckProfile()
		}
		r, err := ParseRequest(der)
		if err != nil {
			if _, ok := errors.AsType[*ParseError](err); !ok || r != nil {
				t.Fatalf("error %T with request %v", err, r)
			}
			return
		}
		if string(r.Raw) != string(der) {
			t.Fatal("Raw differs from the input")
		}
		_ = r.CheckSignature()
		_ = r.CheckProfile()
	})
}
