package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

// TestNoClearKeyFinds: each way a key can be written in the clear is
// found; a directory without it passes.
func TestNoClearKeyFinds(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d, _ := key.Bytes()
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	sec1, _ := x509.MarshalECPrivateKey(key)
	for name, content := range map[string][]byte{
		"raw scalar": append([]byte("x"), d...),
		"hex scalar": []byte("key=" + hex.EncodeToString(d) + "\n"),
		"PKCS#8 PEM": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"SEC1 PEM":   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"PKCS#8 DER": pkcs8,
		"hex PKCS#8": []byte(hex.EncodeToString(pkcs8)),
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "innocent"), []byte("nothing"), 0o600)
		os.MkdirAll(filepath.Join(dir, "sub"), 0o700)
		os.WriteFile(filepath.Join(dir, "sub", "f"), content, 0o600)
		r := &recorder{TB: t}
		NoClearKey(r, key, dir)
		if !r.failed {
			t.Errorf("%s: not found", name)
		}
	}
	clean := t.TempDir()
	os.WriteFile(filepath.Join(clean, "pub"), []byte("only a public key"), 0o600)
	r := &recorder{TB: t}
	NoClearKey(r, key, clean)
	if r.failed {
		t.Error("a clean directory failed")
	}
}
