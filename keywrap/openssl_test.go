package keywrap

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// OpenSSL, an independent implementation, wraps what we wrap to the same
// bytes: RFC 3394 (id-aesN-wrap) and RFC 5649 (id-aesN-wrap-pad), every
// KEK size, lengths around the block boundaries.
func TestOpenSSLAgrees(t *testing.T) {
	openssl := testkit.Tool(t, "openssl", "apt-get install openssl")
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, kekLen := range []int{16, 24, 32} {
		for _, n := range []int{1, 7, 8, 9, 16, 24, 40, 121} {
			kek, key := fill(kekLen), fill(n)
			bits := map[int]string{16: "128", 24: "192", 32: "256"}[kekLen]
			run := func(cipher, iv string) []byte {
				t.Helper()
				cmd := exec.Command(openssl, "enc", "-"+cipher, "-K", hex.EncodeToString(kek), "-iv", iv)
				cmd.Stdin = bytes.NewReader(key)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("openssl %s: %v", cipher, err)
				}
				return out
			}
			want := run("id-aes"+bits+"-wrap-pad", "A65959A6")
			if got, err := WrapPad(kek, key); err != nil || !bytes.Equal(got, want) {
				t.Errorf("kwp kek %d len %d: ours %x, %v; openssl %x", kekLen, n, got, err, want)
			}
			if n >= 16 && n%8 == 0 {
				want := run("id-aes"+bits+"-wrap", "A6A6A6A6A6A6A6A6")
				if got, err := wrapKW(kek, key); err != nil || !bytes.Equal(got, want) {
					t.Errorf("kw kek %d len %d: ours %x, %v; openssl %x", kekLen, n, got, err, want)
				}
			}
		}
	}
}
