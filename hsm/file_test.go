package hsm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadFileForms(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	sec1, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	forms := map[string][]byte{
		"pkcs8.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"sec1.pem":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"pkcs8.der": pkcs8,
		"sec1.der":  sec1,
	}
	for name, b := range forms {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadFile(p)
		if err != nil || !got.Equal(k) {
			t.Errorf("%s: %v", name, err)
		}
		if err := CheckMatches(got, &k.PublicKey); err != nil {
			t.Errorf("%s: CheckMatches: %v", name, err)
		}
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := CheckMatches(k, &other.PublicKey); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("mismatch not detected: %v", err)
	}
}

func TestParseKeyRefuses(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(p384)
	k256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der256, _ := x509.MarshalPKCS8PrivateKey(k256)
	two := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der256}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der256})...)
	for name, b := range map[string][]byte{"p384": der, "garbage": []byte("hello"), "two-keys": two} {
		if _, err := ParseKey(b); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func FuzzParseKey(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if (err == nil) == (k == nil) {
			t.Fatalf("key %v with error %v", k, err)
		}
	})
}
