package testkit

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// NoClearKey fails the test if any file under dirs holds key in the
// clear: its private scalar, its PKCS#8 or its SEC 1 DER, in any form
// SecretForms lists (so also PEM).
func NoClearKey(tb testing.TB, key *ecdsa.PrivateKey, dirs ...string) {
	tb.Helper()
	d, err := key.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	NoSecret(tb, dirs, d, pkcs8, sec1)
}

// NoSecret fails the test if any file under dirs holds any of secrets in
// any form SecretForms lists. It fails, too, if dirs hold no file at all:
// a check of nothing proves nothing.
func NoSecret(tb testing.TB, dirs []string, secrets ...[]byte) {
	tb.Helper()
	files := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			if SecretIn(b, secrets...) {
				tb.Errorf("%s holds a secret in the clear", path)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if files == 0 {
		tb.Fatalf("NoSecret: no files under %v: nothing was checked", dirs)
	}
}

// SecretIn reports whether data holds any of secrets in any form
// SecretForms lists, also with its line breaks taken out (PEM breaks its
// base64 into lines).
func SecretIn(data []byte, secrets ...[]byte) bool {
	joined := bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\n"), nil), []byte("\r"), nil)
	for _, s := range secrets {
		for _, f := range SecretForms(s) {
			if bytes.Contains(data, f) || bytes.Contains(joined, f) {
				return true
			}
		}
	}
	return false
}

// SecretForms are the ways a careless program could write secret: raw;
// hex in either case, whole or in groups of 4 as a component file has it;
// base64 (standard, from each of the three alignments it can start at in
// a longer stream, so the middle is matched; and raw URL).
func SecretForms(secret []byte) [][]byte {
	h := hex.EncodeToString(secret)
	var grouped strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			grouped.WriteByte(' ')
		}
		grouped.WriteString(h[i:min(i+4, len(h))])
	}
	forms := [][]byte{secret, []byte(h), []byte(strings.ToUpper(h)), []byte(grouped.String()), []byte(strings.ToUpper(grouped.String())),
		[]byte(base64.RawURLEncoding.EncodeToString(secret))}
	for skip := range 3 {
		if e := base64.StdEncoding.EncodeToString(secret[skip:]); len(e) > 8 {
			forms = append(forms, []byte(e[4:len(e)-4]))
		}
	}
	return forms
}
