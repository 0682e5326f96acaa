// Package testkit holds what our tests share: the external vector folder,
// hex files and test keys. Only test code imports it.
package testkit

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/internal/hexfile"
)

// VectorsDir returns $ECOS_VECTORS_DIR, the shared RTDS / DCC Boxed data.
// Locally a missing folder skips the test; in CI (CI=true) it fails it, so
// CI can never pass by skipping conformance.
func VectorsDir(tb testing.TB) string {
	tb.Helper()
	dir := Env(tb, "ECOS_VECTORS_DIR")
	if _, err := os.Stat(dir); err != nil {
		Unavailable(tb, "ECOS_VECTORS_DIR unusable: %v", err)
	}
	return dir
}

// Vector reads a file under the vector folder.
func Vector(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(VectorsDir(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// HexVector reads and decodes a hex dump under the vector folder.
func HexVector(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := hexfile.Decode(Vector(tb, rel))
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return b
}

// Glob lists vector files matching pattern (relative to the vector folder).
func Glob(tb testing.TB, pattern string) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(VectorsDir(tb), pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(m) == 0 {
		tb.Fatalf("no vectors match %s", pattern)
	}
	return m
}

// PEMBlock returns the first PEM block's bytes in a vector file.
func PEMBlock(tb testing.TB, rel string) []byte {
	tb.Helper()
	blk, _ := pem.Decode(Vector(tb, rel))
	if blk == nil {
		tb.Fatalf("%s: no PEM block", rel)
	}
	return blk.Bytes
}

// ECKey reads a PKCS#8 (or SEC 1) P-256 private key from the vector folder,
// PEM or DER: the signing tool's resources ship raw DER PKCS#8.
func ECKey(tb testing.TB, rel string) *ecdsa.PrivateKey {
	tb.Helper()
	der := Vector(tb, rel)
	if blk, _ := pem.Decode(der); blk != nil {
		der = blk.Bytes
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if ec, ok := k.(*ecdsa.PrivateKey); ok {
			return ec
		}
		tb.Fatalf("%s: not an ECDSA key", rel)
	}
	k, err := x509.ParseECPrivateKey(der)
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return k
}

// OptionalVectorsDir returns $ECOS_VECTORS_DIR or "" without skipping, for
// fuzz targets that add vector seeds when they are there.
func OptionalVectorsDir() string {
	dir := os.Getenv("ECOS_VECTORS_DIR")
	if dir == "" {
		return ""
	}
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}
