package adt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/smki"
)

func TestSignVerify(t *testing.T) {
	fx := newFixture(t)
	s1, s2 := fx.pki.Suppliers[0], fx.pki.Suppliers[1]
	body := func(crlf bool) []byte {
		f := goodFile(s1.EUI, 7)
		f.CRLF = crlf
		return f.AppendBody(nil)
	}
	// resignDER replaces an r‖s signature with a DER one over the same bytes.
	resignDER := func(t *testing.T, signed []byte) []byte {
		f, err := Parse(signed)
		if err != nil {
			t.Fatal(err)
		}
		d := sha256.Sum256(f.Signed)
		der, err := ecdsa.SignASN1(rand.Reader, s1.FileSigning.Key, d[:])
		if err != nil {
			t.Fatal(err)
		}
		f.Signature = der
		return f.Marshal()
	}
	for _, tc := range []struct {
		name string
		file func(t *testing.T) []byte
		now  time.Time
		kind error  // nil: verifies
		msg  string // in the error
	}{
		{"ok/LF", func(t *testing.T) []byte { return sign(t, s1.FileSigning, body(false)) }, verifyNow, nil, ""},
		{"ok/CRLF", func(t *testing.T) []byte { return sign(t, s1.FileSigning, body(true)) }, verifyNow, nil, ""},
		{"ok/DER-signature", func(t *testing.T) []byte { return resignDER(t, sign(t, s1.FileSigning, body(false))) }, verifyNow, nil, ""},
		{"ok/no-final-newline", func(t *testing.T) []byte {
			return bytes.TrimSuffix(sign(t, s1.FileSigning, body(false)), []byte("\n"))
		}, verifyNow, nil, ""},
		{"fail/other-supplier", func(t *testing.T) []byte { return sign(t, s2.FileSigning, body(false)) }, verifyNow, ErrSigner, "not to the file's User"},
		{"fail/not-IKI-issued", func(t *testing.T) []byte { return sign(t, s1.DS, body(false)) }, verifyNow, ErrSigner, "does not chain to the IKI"},
		{"fail/xml-signing-cert", func(t *testing.T) []byte { return sign(t, s1.XMLSign, body(false)) }, verifyNow, ErrSigner, "XML signing"},
		{"fail/key-agreement-cert", func(t *testing.T) []byte { return sign(t, s1.KA, body(false)) }, verifyNow, ErrSigner, "key usage"},
		{"fail/expired", func(t *testing.T) []byte { return sign(t, s1.FileSigning, body(false)) }, pkiNow.AddDate(60, 0, 0), ErrSigner, "does not chain"},
		{"fail/not-yet-valid", func(t *testing.T) []byte { return sign(t, s1.FileSigning, body(false)) }, pkiNow.Add(-time.Hour), ErrSigner, "does not chain"},
		{"fail/altered-digit", func(t *testing.T) []byte {
			return bytes.Replace(sign(t, s1.FileSigning, body(false)), []byte("6.23,50,"), []byte("6.23,51,"), 1)
		}, verifyNow, ErrSignature, "does not verify"},
		{"fail/altered-sequence", func(t *testing.T) []byte {
			return bytes.Replace(sign(t, s1.FileSigning, body(false)), []byte(",7\n"), []byte(",8\n"), 1)
		}, verifyNow, ErrSignature, "does not verify"},
		{"fail/LF-signed-sent-as-CRLF", func(t *testing.T) []byte {
			return bytes.ReplaceAll(sign(t, s1.FileSigning, body(false)), []byte("\n"), []byte("\r\n"))
		}, verifyNow, ErrSignature, "does not verify"},
		{"fail/CRLF-signed-sent-as-LF", func(t *testing.T) []byte {
			return bytes.ReplaceAll(sign(t, s1.FileSigning, body(true)), []byte("\r\n"), []byte("\n"))
		}, verifyNow, ErrSignature, "does not verify"},
		{"fail/unknown-serial", func(t *testing.T) []byte {
			f, _ := Parse(sign(t, s1.FileSigning, body(false)))
			f.Signer.Serial.Add(f.Signer.Serial, bigOne)
			return f.Marshal()
		}, verifyNow, ErrSigner, "no known certificate"},
		{"fail/signature-bit-flip", func(t *testing.T) []byte {
			f, _ := Parse(sign(t, s1.FileSigning, body(false)))
			f.Signature[10] ^= 1
			return f.Marshal()
		}, verifyNow, ErrSignature, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.file(t)
			f, err := Read(in, ValidateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cert, err := Verify(f, fx.certs, VerifyOptions{IKI: fx.iki, Now: tc.now})
			if tc.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(cert.Raw, s1.FileSigning.Cert) {
					t.Errorf("Verify returned %s, want supplier 1's file-signing certificate", cert)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify accepted")
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %v; want %v mentioning %q", err, tc.kind, tc.msg)
			}
			if got := problemLines(t, err); len(got) != 1 || got[0] != f.SignatureLine {
				t.Errorf("problem lines = %v, want the signature line %d", got, f.SignatureLine)
			}
		})
	}
}

func TestSignFormat(t *testing.T) {
	fx := newFixture(t)
	s1 := fx.pki.Suppliers[0]
	for _, crlf := range []bool{false, true} {
		f := goodFile(s1.EUI, 1)
		f.CRLF = crlf
		body := f.AppendBody(nil)
		out := sign(t, s1.FileSigning, body)
		eol := "\n"
		if crlf {
			eol = "\r\n"
		}
		sigLine := string(out[len(body):])
		want := "Signature,CN%3DIKI+File+Signing+CA%2C+OU%3DissuingAuthority%2C+O%3DDCC," + s1.FileSigning.Serial.String() + ","
		if !strings.HasPrefix(sigLine, want) || !strings.HasSuffix(sigLine, eol) || strings.Count(sigLine, "\r") != strings.Count(eol, "\r") {
			t.Errorf("signature line %q, want prefix %q and ending %q", sigLine, want, eol)
		}
		b64 := strings.TrimSuffix(sigLine[len(want):], eol)
		if sig, err := base64.StdEncoding.DecodeString(b64); err != nil || len(sig) != 64 {
			t.Errorf("signature %q is not 64 bytes of base64 (%v)", b64, err)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	fx := newFixture(t)
	s1, s2 := fx.pki.Suppliers[0], fx.pki.Suppliers[1]
	body := goodFile(s1.EUI, 1).AppendBody(nil)
	if _, err := Sign(bytes.TrimSuffix(body, []byte("\n")), s1.FileSigning.Key, parseCert(t, s1.FileSigning), rand.Reader); err == nil {
		t.Error("Sign accepted a body without a final line ending")
	}
	if _, err := Sign(body, s2.FileSigning.Key, parseCert(t, s1.FileSigning), rand.Reader); err == nil {
		t.Error("Sign accepted a key that does not match the certificate")
	}
}

func TestVerifyNeedsTime(t *testing.T) {
	fx := newFixture(t)
	s1 := fx.pki.Suppliers[0]
	f, err := Parse(sign(t, s1.FileSigning, goodFile(s1.EUI, 1).AppendBody(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(f, fx.certs, VerifyOptions{IKI: fx.iki}); err == nil {
		t.Error("Verify without Now accepted")
	}
	// A pool anchored at the Organisation root instead of the IKI CA is the
	// caller's choice; with the IKI CA missing from it nothing chains.
	if _, err := Verify(f, fx.certs, VerifyOptions{IKI: smki.NewPool(parseCert(t, fx.pki.OrgCA)), Now: verifyNow}); !errors.Is(err, ErrSigner) {
		t.Errorf("Verify with the wrong anchor: %v", err)
	}
}

// lyingFinder returns one fixed certificate whatever it is asked.
type lyingFinder struct{ c *smki.Certificate }

func (l lyingFinder) FindByIssuerSerial(smki.Name, *big.Int) *smki.Certificate { return l.c }

func TestVerifyDistrustsFinder(t *testing.T) {
	fx := newFixture(t)
	s1 := fx.pki.Suppliers[0]
	f, err := Parse(sign(t, s1.FileSigning, goodFile(s1.EUI, 1).AppendBody(nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.Signer.Serial.Add(f.Signer.Serial, bigOne)
	if _, err := Verify(f, lyingFinder{parseCert(t, s1.FileSigning)}, VerifyOptions{IKI: fx.iki, Now: verifyNow}); !errors.Is(err, ErrSigner) {
		t.Errorf("Verify trusted a finder that returned the wrong certificate: %v", err)
	}
}
