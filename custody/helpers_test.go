package custody

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/keywrap"
)

var testNow = time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)

func clock() time.Time { return testNow }

// testRand is a deterministic randomness source.
func testRand(seed byte) io.Reader {
	return rand.NewChaCha8([32]byte{seed})
}

func testEnv(out io.Writer) Env {
	if out == nil {
		out = io.Discard
	}
	return Env{Rand: testRand(7), Now: clock, Out: out}
}

// testComponents makes n components of a bits-bit KEK and the KEK.
func testComponents(t *testing.T, n, bits int) ([]*Component, []byte) {
	t.Helper()
	comps, err := GenerateComponents(testRand(byte(n*bits)), "test-kek", n, bits, keywrap.KCVCMAC)
	if err != nil {
		t.Fatal(err)
	}
	kek, err := Combine(comps)
	if err != nil {
		t.Fatal(err)
	}
	return comps, kek
}

func mustKCV(t *testing.T, key []byte, m keywrap.KCVMethod) KCV {
	t.Helper()
	k, err := ComputeKCV(key, m)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// flipDigit changes one hex digit of the value line of a component file.
func flipDigit(file []byte, at int) []byte {
	out := bytes.Clone(file)
	i := bytes.Index(out, []byte("value: ")) + len("value: ") + at
	if out[i] == '0' {
		out[i] = '1'
	} else {
		out[i] = '0'
	}
	return out
}

// secretForms are the ways a secret could be written: raw, hex in either
// case, grouped as in a component file, base64 (standard and URL).
func secretForms(secret []byte) [][]byte {
	h := hex.EncodeToString(secret)
	var grouped strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			grouped.WriteByte(' ')
		}
		grouped.WriteString(h[i:min(i+4, len(h))])
	}
	return [][]byte{secret, []byte(h), []byte(strings.ToUpper(h)), []byte(grouped.String()), []byte(strings.ToUpper(grouped.String())),
		[]byte(base64.StdEncoding.EncodeToString(secret)), []byte(base64.RawURLEncoding.EncodeToString(secret))}
}

// assertAbsent fails if data holds any secret in any of its forms.
func assertAbsent(t *testing.T, data []byte, secrets ...[]byte) {
	t.Helper()
	for i, s := range secrets {
		for j, form := range secretForms(s) {
			if bytes.Contains(data, form) {
				t.Errorf("secret %d is written (form %d)", i, j)
			}
		}
	}
}

// assertAbsentInDir fails if any file under dir holds a secret.
func assertAbsentInDir(t *testing.T, dir string, secrets ...[]byte) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		t.Run(p, func(t *testing.T) { assertAbsent(t, b, secrets...) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no files scanned")
	}
}
