package enrol

import (
	"crypto/rand"
	"testing"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

// TestNewOnSoftHSM generates the key on a real token: the request is for
// the token's key, the private key reads back sensitive, never
// extractable and sign-only, and a second ceremony under the same label
// is refused with the token unchanged. Not parallel: SoftHSM.
func TestNewOnSoftHSM(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	a, err := hsm.OpenAdmin(hsm.PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s := Subject{Role: role.TransitionalCoS, EUI: ecosEUI}
	csr, pub, err := New(a, "ecos-2026", s, rand.Reader, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	r, err := smki.ParseRequest(csr)
	if err != nil || !r.PublicKey.Equal(pub) || r.CheckSignature() != nil {
		t.Fatalf("the request: %v", err)
	}
	objs, err := a.Objects()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Class == "private key" && (!o.Sensitive || o.Extractable || !o.NeverExtractable || o.ValueReadable || o.Decrypt || o.Unwrap || o.Derive) {
			t.Errorf("the private key leaves or does more than sign: %+v", o)
		}
	}
	if _, _, err := New(a, "ecos-2026", s, rand.Reader, func(string) {}); err == nil {
		t.Fatal("a second key under the same label was made")
	}
	after, _ := a.Objects()
	if len(after) != len(objs) || len(objs) != 2 {
		t.Errorf("%d objects before the refused ceremony, %d after; want 2 and 2", len(objs), len(after))
	}
}
