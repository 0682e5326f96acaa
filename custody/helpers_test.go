package custody

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/internal/testkit"
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

// assertAbsent fails if data holds any secret in any of its forms.
func assertAbsent(t *testing.T, data []byte, secrets ...[]byte) {
	t.Helper()
	if testkit.SecretIn(data, secrets...) {
		t.Error("a secret is written")
	}
}
