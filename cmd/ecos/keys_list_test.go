package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
)

// TestKeysList: a custodian sees each key's uses and protection, and the
// command fails naming a key that can leave the token in the clear.
func TestKeysList(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	tok := []string{"--module", testkit.SoftHSMModule, "--token-label", "ecos", "--pin-file", pinFile}
	a, err := hsm.OpenAdmin(hsm.PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.GenerateSigningKey("ecos-ds"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ImportKEK("kek", make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	a.Close()

	code, out, errs := ecos(t, "", append([]string{"keys", "list"}, tok...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		`token "ecos": 3 objects`,
		"ecos-ds  private key  EC    sign",
		"sensitive,non-extractable,always-sensitive,never-extractable",
		"kek      secret key   AES   unwrap",
		"DC95C0", // the aes-ecb-zero KCV of an all-zero AES-256 key
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A key put on the token in the clear, as a careless tool would.
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	testkit.SoftHSMImport(t, "ecos", "1234", "careless", k)
	code, out, errs = ecos(t, "", append([]string{"keys", "list"}, tok...)...)
	if code != 1 || !strings.Contains(errs, `"careless" (private key)`) || !strings.Contains(out, "NOT SENSITIVE") {
		t.Errorf("exit %d, want 1 naming the careless key:\n%s%s", code, out, errs)
	}

	if code, _, errs := ecos(t, "", "keys", "list", "--module", testkit.SoftHSMModule, "--token-label", "ecos"); code != 2 || !strings.Contains(errs, "--pin-file") {
		t.Errorf("no PIN file: exit %d: %s", code, errs)
	}
}
