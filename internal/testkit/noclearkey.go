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
// clear, in any encoding a careless program would write it: the private
// scalar raw, in hex (either case) or base64; its PKCS#8 or SEC1 DER raw,
// in hex or base64 (so also PEM).
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
	var needles [][]byte
	for _, b := range [][]byte{d, pkcs8, sec1} {
		h := hex.EncodeToString(b)
		needles = append(needles, b, []byte(h), []byte(strings.ToUpper(h)))
		// base64 of b at each of the three alignments it can start at in
		// a longer encoded stream: the middle of the encoding is stable.
		for skip := range 3 {
			e := base64.StdEncoding.EncodeToString(b[skip:])
			needles = append(needles, []byte(e[4:len(e)-4]))
		}
	}
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
			// PEM breaks its base64 into lines.
			joined := bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\n"), nil), []byte("\r"), nil)
			for _, n := range needles {
				if bytes.Contains(b, n) || bytes.Contains(joined, n) {
					tb.Errorf("%s holds the private key in the clear", path)
					return nil
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if files == 0 {
		tb.Fatalf("NoClearKey: no files under %v: nothing was checked", dirs)
	}
}
