package smki

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

// FuzzParse is seeded with generated certificates of every kind and, when
// $ECOS_VECTORS_DIR is set, with every vector certificate.
func FuzzParse(f *testing.F) {
	p := newTestPKI(f)
	f.Add(p.root.Raw)
	f.Add(p.ca.Raw)
	f.Add(p.orgSpec(f, "05", eui.MustParse("90B3D51F30000004"), KeyUsageDigitalSignature).der(f))
	f.Add(p.deviceSpec(f, eui.MustParse("00DB1234567890A0"), KeyUsageKeyAgreement).der(f))
	if dir := os.Getenv("ECOS_VECTORS_DIR"); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "keys", "*.pem"))
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			if blk, _ := pem.Decode(data); blk != nil {
				f.Add(blk.Bytes)
			}
		}
		if data, err := os.ReadFile(filepath.Join(dir, "keys", "keystore.json")); err == nil {
			entries, err := ParseKeystore(data)
			if err != nil {
				f.Fatal(err)
			}
			for _, e := range entries {
				f.Add(e.Certificate.Raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := Parse(der)
		if err != nil {
			if c != nil {
				t.Fatal("non-nil certificate with an error")
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Fatalf("error %T is not *ParseError", err)
			}
			return
		}
		if !bytes.Equal(c.Raw, der) {
			t.Fatal("Raw differs from the input")
		}
		for _, n := range []Name{c.Issuer, c.Subject} {
			back, err := ParseName(n.String())
			if err != nil || !back.Equal(n) {
				t.Fatalf("name %q does not round-trip: %v", n.String(), err)
			}
		}
		for _, v := range Violations(c.CheckProfile()) {
			if v.Field == "" || v.Reason == "" {
				t.Fatalf("empty violation %+v", v)
			}
		}
		_ = c.String()
		_ = c.IsSelfSigned()
		// Anchored on itself, at its own notBefore: must not panic.
		_, _ = Verify(c, VerifyOptions{Roots: NewPool(c), Now: c.NotBefore})
		_, _ = Verify(c, VerifyOptions{Roots: NewPool(p.root), Intermediates: NewPool(c, p.ca), SkipTime: true})
	})
}

// FuzzParseKeystore: a keystore is refused with a *ParseError and nothing
// else, or every entry it yields agrees with its certificate, no
// certificate comes twice, and writing the entries back out reads the
// same entries again.
func FuzzParseKeystore(f *testing.F) {
	fx, _ := newKSFixture(f)
	f.Add(fx.json(f))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":{},"a":{}}`))
	if dir := os.Getenv("ECOS_VECTORS_DIR"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "keys", "keystore.json")); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseKeystore(data)
		if err != nil {
			if entries != nil {
				t.Fatal("entries with an error")
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Fatalf("error %T is not *ParseError", err)
			}
			if strings.Count(err.Error(), "smki:") != 1 {
				t.Fatalf("error %q repeats its prefix", err)
			}
			return
		}
		again, err := ParseKeystore(keystoreJSON(t, entries))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("written back: %d entries, %v; want %d", len(again), err, len(entries))
		}
		for i, e := range entries {
			c := e.Certificate
			if c.EUI != e.EUI || c.KeyUsage != e.Usage || c.Role != e.Role || !c.PublicKey.Equal(&e.PrivateKey.PublicKey) {
				t.Fatalf("entry %d disagrees with its certificate", i)
			}
			if i > 0 && entries[i-1].EUI == e.EUI && entries[i-1].Usage == e.Usage && entries[i-1].Certificate.SerialNumber.Cmp(c.SerialNumber) == 0 {
				t.Fatalf("entry %d is entry %d again", i, i-1)
			}
			if a := again[i]; !a.Certificate.Equal(c) || !a.PrivateKey.Equal(e.PrivateKey) || a.Name != e.Name {
				t.Fatalf("entry %d changed when written back", i)
			}
		}
	})
}

// keystoreJSON writes entries in the dccboxed-keystore format.
func keystoreJSON(t *testing.T, entries []KeystoreEntry) []byte {
	doc := map[string]map[string]map[string]any{}
	for _, e := range entries {
		usage := "digitalSignature"
		if e.Usage == KeyUsageKeyAgreement {
			usage = "keyAgreement"
		}
		pk8, err := x509.MarshalPKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		k := e.EUI.Hex()
		if doc[k] == nil {
			doc[k] = map[string]map[string]any{}
		}
		if doc[k][usage] == nil {
			doc[k][usage] = map[string]any{}
		}
		doc[k][usage][e.Certificate.SerialNumber.String()] = map[string]any{
			"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Certificate.Raw})),
			"privateKey":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8})),
			"name":        e.Name,
			"role":        int(e.Role),
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParsePEM: PEM text yields its certificates in order, each as Parse
// reads its DER, and those certificates written back as PEM read the same;
// or a *ParseError and nothing.
func FuzzParsePEM(f *testing.F) {
	p := newTestPKI(f)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw}))
	f.Add(append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw})...))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw[:40]}))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParsePEM(data)
		if err != nil {
			if certs != nil {
				t.Fatal("certificates with an error")
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Fatalf("error %T is not *ParseError", err)
			}
			return
		}
		if len(certs) == 0 {
			t.Fatal("no certificates and no error")
		}
		var back []byte
		for _, c := range certs {
			if d, err := Parse(c.Raw); err != nil || !d.Equal(c) {
				t.Fatalf("certificate %s does not parse alone: %v", c, err)
			}
			back = append(back, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		again, err := ParsePEM(back)
		if err != nil || len(again) != len(certs) {
			t.Fatalf("written back: %d certificates, %v; want %d", len(again), err, len(certs))
		}
		for i := range certs {
			if !again[i].Equal(certs[i]) {
				t.Fatalf("certificate %d changed when written back", i)
			}
		}
	})
}
