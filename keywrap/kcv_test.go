package keywrap

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// The examples of RFC 4493 §4 (AES-128).
func TestCMACVectors(t *testing.T) {
	b, err := aes.NewCipher(unhex(t, "2b7e151628aed2a6abf7158809cf4f3c"))
	if err != nil {
		t.Fatal(err)
	}
	msg := unhex(t, "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710")
	for _, v := range []struct {
		n    int
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	} {
		if got := cmac(b, msg[:v.n]); hex.EncodeToString(got[:]) != v.want {
			t.Errorf("CMAC of %d bytes: %x, want %s", v.n, got, v.want)
		}
	}
}

func TestKCV(t *testing.T) {
	key := unhex(t, "2b7e151628aed2a6abf7158809cf4f3c")
	ecb, err := KCV(key, KCVECB)
	if err != nil {
		t.Fatal(err)
	}
	// The ECB method is the key's encryption of a zero block, cut to three
	// bytes; the CMAC method is checked against OpenSSL below.
	b, _ := aes.NewCipher(key)
	var zero [16]byte
	b.Encrypt(zero[:], zero[:])
	if !bytes.Equal(ecb[:], zero[:3]) {
		t.Errorf("ECB KCV %x, want %x", ecb, zero[:3])
	}
	if _, err := KCV(key, "sha1"); err == nil || !strings.Contains(err.Error(), `no KCV method "sha1"`) {
		t.Errorf("an unknown method: %v", err)
	}
	if _, err := KCV(key[:10], KCVCMAC); err == nil {
		t.Error("a 10-byte key has a KCV")
	}
}

// OpenSSL's CMAC over a zero block agrees with ours for every key size.
func TestKCVOpenSSLAgrees(t *testing.T) {
	openssl := testkit.Tool(t, "openssl", "apt-get install openssl")
	zero := filepath.Join(t.TempDir(), "zero")
	if err := os.WriteFile(zero, make([]byte, 16), 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 24))
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		bits := map[int]string{16: "128", 24: "192", 32: "256"}[n]
		out, err := exec.Command(openssl, "mac", "-cipher", "AES-"+bits+"-CBC", "-macopt", "hexkey:"+hex.EncodeToString(key), "-in", zero, "CMAC").Output()
		if err != nil {
			t.Fatalf("openssl mac: %v", err)
		}
		got, err := KCV(key, KCVCMAC)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToLower(strings.TrimSpace(string(out)))[:6]; hex.EncodeToString(got[:]) != want {
			t.Errorf("AES-%s CMAC KCV %x, openssl %s", bits, got, want)
		}
	}
}
