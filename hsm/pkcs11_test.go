package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

func TestTokenSigns(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	tok, err := OpenToken(PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if _, err := tok.ctx.GenerateECDSAKeyPairWithLabel([]byte("tcos-id"), []byte("tcos"), elliptic.P256()); err != nil {
		t.Fatal(err)
	}
	s, err := tok.Signer("tcos", nil)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("a CS02b to sign"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(s.Public().(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("the token's signature does not verify with its public key")
	}
	if err := CheckMatches(s, s.Public().(*ecdsa.PublicKey)); err != nil {
		t.Errorf("CheckMatches: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := CheckMatches(s, &other.PublicKey); err == nil {
		t.Error("CheckMatches accepted another key's certificate")
	}
	if _, err := tok.Signer("ecos", nil); err == nil || !strings.Contains(err.Error(), `no key labelled "ecos" on token "ecos"`) {
		t.Errorf("a missing label: %v", err)
	}
	// By CKA_ID, alone or with the label.
	for _, c := range []struct {
		label string
		id    []byte
		found bool
	}{{"", []byte("tcos-id"), true}, {"tcos", []byte("tcos-id"), true}, {"tcos", []byte("other"), false}, {"", []byte("other"), false}} {
		byID, err := tok.Signer(c.label, c.id)
		if (err == nil) != c.found || (c.found && !byID.Public().(*ecdsa.PublicKey).Equal(s.Public())) {
			t.Errorf("label %q, ID %q: %v", c.label, c.id, err)
		}
	}
	if _, err := tok.Signer("", nil); err == nil {
		t.Error("a key named by nothing was found")
	}
}

func TestOpenTokenRefusals(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	dir := t.TempDir()
	wrongPIN := filepath.Join(dir, "wrong")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(wrongPIN, []byte("9999\n"), 0o600)
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, c := range []struct {
		name string
		cfg  PKCS11
		want string
	}{
		{"no-module", PKCS11{TokenLabel: "ecos", PINFile: pinFile}, "no PKCS#11 module"},
		{"module-missing", PKCS11{Module: "/nonexistent/lib.so", TokenLabel: "ecos", PINFile: pinFile}, "PKCS#11 module /nonexistent/lib.so"},
		{"no-pin-file", PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos"}, "no PIN file"},
		{"pin-file-missing", PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: filepath.Join(dir, "nope")}, "PIN file"},
		{"pin-file-empty", PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: empty}, "is empty"},
		{"wrong-pin", PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: wrongPIN}, `token "ecos"`},
		{"wrong-token", PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "other", PINFile: pinFile}, `token "other"`},
		{"one-session", PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile, Sessions: 1}, "at least 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := OpenToken(c.cfg)
			if err == nil {
				tok.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to say %q", err, c.want)
			}
		})
	}
}

// Two keys under one label: which one signs would be the token's choice.
func TestSignerLabelAmbiguous(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	tok, err := OpenToken(PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	for _, id := range []string{"a", "b"} {
		if _, err := tok.ctx.GenerateECDSAKeyPairWithLabel([]byte(id), []byte("tcos"), elliptic.P256()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tok.Signer("tcos", nil); err == nil || !strings.Contains(err.Error(), `2 keys labelled "tcos"`) {
		t.Errorf("two keys under one label: %v", err)
	}
}

// BenchmarkSign: P-256 signatures on a SoftHSM2 token through the session
// pool, and in software, in the same run, on every core.
func BenchmarkSign(b *testing.B) {
	pinFile := testkit.SoftHSM(b, "ecos", "1234")
	tok, err := OpenToken(PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile})
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	if _, err := tok.ctx.GenerateECDSAKeyPairWithLabel([]byte("k"), []byte("k"), elliptic.P256()); err != nil {
		b.Fatal(err)
	}
	onToken, err := tok.Signer("k", nil)
	if err != nil {
		b.Fatal(err)
	}
	software, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("bench"))
	for _, s := range []struct {
		name string
		s    crypto.Signer
	}{{"softhsm", onToken}, {"software", software}} {
		b.Run(s.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
		})
	}
}
