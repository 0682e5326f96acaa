package hsm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/keywrap"
)

func openAdmin(t *testing.T) (*Admin, string) {
	t.Helper()
	pinFile := testkit.SoftHSM(t, "ceremony", "1234")
	a, err := OpenAdmin(PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ceremony", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, pinFile
}

func randomKEK(t *testing.T) []byte {
	kek := make([]byte, 32)
	rand.Read(kek)
	return kek
}

func objectsLabelled(t *testing.T, a *Admin, label string) []Object {
	t.Helper()
	all, err := a.Objects()
	if err != nil {
		t.Fatal(err)
	}
	var out []Object
	for _, o := range all {
		if o.Label == label {
			out = append(out, o)
		}
	}
	return out
}

// wrappedKey is a fresh P-256 key, its PKCS#8 wrapped with RFC 5649
// under kek.
func wrappedKey(t *testing.T, kek []byte) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	w, err := keywrap.WrapPad(kek, der)
	if err != nil {
		t.Fatal(err)
	}
	return k, w
}

func TestImportKEK(t *testing.T) {
	a, _ := openAdmin(t)
	kek := randomKEK(t)
	cv, err := a.ImportKEK("kek", kek)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := keywrap.KCV(kek, keywrap.KCVECB)
	if !bytes.Equal(cv, want[:]) {
		t.Errorf("check value %X, want the aes-ecb-zero KCV %X", cv, want)
	}
	if got, err := a.KEKCheckValue("kek"); err != nil || !bytes.Equal(got, cv) {
		t.Errorf("KEKCheckValue = %X, %v", got, err)
	}
	objs := objectsLabelled(t, a, "kek")
	if len(objs) != 1 {
		t.Fatalf("%d objects labelled kek", len(objs))
	}
	o := objs[0]
	if o.Class != "secret key" || o.KeyType != "AES" || !o.Token || !o.Sensitive || o.Extractable || o.ValueReadable ||
		!o.Unwrap || o.Wrap || o.Encrypt || o.Decrypt || o.Sign || o.Derive {
		t.Errorf("the KEK is not an unwrap-only, sensitive, non-extractable token key: %+v", o)
	}
	if _, err := a.ImportKEK("kek", randomKEK(t)); !errors.Is(err, ErrLabelTaken) {
		t.Errorf("a second KEK under the same label: %v, want ErrLabelTaken", err)
	}
	if _, err := a.ImportKEK("short", kek[:20]); err == nil {
		t.Error("a 20-byte KEK was accepted")
	}
	if _, err := a.KEKCheckValue("nope"); !errors.Is(err, ErrNoObject) {
		t.Errorf("KEKCheckValue of no KEK: %v", err)
	}
}

func TestUnwrapSigningKey(t *testing.T) {
	a, pinFile := openAdmin(t)
	kek := randomKEK(t)
	if _, err := a.ImportKEK("kek", kek); err != nil {
		t.Fatal(err)
	}
	other := randomKEK(t)
	if _, err := a.ImportKEK("other-kek", other); err != nil {
		t.Fatal(err)
	}
	key, blob := wrappedKey(t, kek)
	wrongPub, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tampered := bytes.Clone(blob)
	tampered[len(tampered)/2] ^= 0x01

	refusals := []struct {
		name  string
		kek   string
		mech  Mechanism
		blob  []byte
		pub   *ecdsa.PublicKey
		label string
		want  error
	}{
		{"tampered blob", "kek", MechanismSoftHSM, tampered, &key.PublicKey, "tcos", ErrUnwrap},
		{"wrong KEK", "other-kek", MechanismSoftHSM, blob, &key.PublicKey, "tcos", ErrUnwrap},
		{"RFC 3394 mechanism for an RFC 5649 blob", "kek", Mechanism{0x2109, "CKM_AES_KEY_WRAP"}, blob, &key.PublicKey, "tcos", ErrUnwrap},
		{"mechanism the token lacks", "kek", MechanismKWP, blob, &key.PublicKey, "tcos", ErrMechanism},
		{"vendor mechanism the token lacks", "kek", MechanismLunaKWP, blob, &key.PublicKey, "tcos", ErrMechanism},
		{"another certificate's key", "kek", MechanismSoftHSM, blob, &wrongPub.PublicKey, "tcos", ErrNotTheKey},
		{"no such KEK", "missing", MechanismSoftHSM, blob, &key.PublicKey, "tcos", ErrNoObject},
		{"the KEK's own label", "kek", MechanismSoftHSM, blob, &key.PublicKey, "other-kek", ErrLabelTaken},
	}
	for _, r := range refusals {
		err := a.UnwrapSigningKey(r.kek, r.mech, r.blob, r.label, r.pub)
		t.Logf("%s: %v", r.name, err)
		if !errors.Is(err, r.want) {
			t.Errorf("%s: %v, want %v", r.name, err, r.want)
		}
		if r.label == "tcos" && len(objectsLabelled(t, a, "tcos")) != 0 {
			t.Fatalf("%s: objects left on the token after a refusal", r.name)
		}
	}

	if err := a.UnwrapSigningKey("kek", MechanismSoftHSM, blob, "tcos", &key.PublicKey); err != nil {
		t.Fatal(err)
	}
	for _, o := range objectsLabelled(t, a, "tcos") {
		switch o.Class {
		case "private key":
			if !o.Token || !o.Private || !o.Sensitive || o.Extractable || o.ValueReadable || !o.Sign || o.Decrypt || o.Unwrap || o.Derive {
				t.Errorf("the imported private key is not a sign-only, sensitive, non-extractable token key: %+v", o)
			}
		case "public key":
		default:
			t.Errorf("unexpected object %+v", o)
		}
	}
	if err := a.UnwrapSigningKey("kek", MechanismSoftHSM, blob, "tcos", &key.PublicKey); !errors.Is(err, ErrLabelTaken) {
		t.Errorf("importing over an existing label: %v", err)
	}
	s, err := a.Signer("tcos")
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("CS02b"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
		t.Fatalf("the imported key's signature does not verify with the original public key: %v", err)
	}
	a.Close()

	// The service's path (crypto11) finds the imported pair.
	tok, err := OpenToken(PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ceremony", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	ts, err := tok.Signer("tcos", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMatches(ts, &key.PublicKey); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateSigningKey(t *testing.T) {
	a, _ := openAdmin(t)
	pub, err := a.GenerateSigningKey("ecos")
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.Signer("ecos")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(s.Public()) {
		t.Fatal("the signer's public key is not the generated one")
	}
	digest := sha256.Sum256([]byte("csr"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Fatalf("signature: %v", err)
	}
	for _, o := range objectsLabelled(t, a, "ecos") {
		if o.Class == "private key" && (!o.Sensitive || o.Extractable || !o.AlwaysSensitive || !o.NeverExtractable || o.ValueReadable || !o.Sign || o.Decrypt || o.Derive) {
			t.Errorf("the generated private key can leave the token or do more than sign: %+v", o)
		}
	}
	if _, err := a.GenerateSigningKey("ecos"); !errors.Is(err, ErrLabelTaken) {
		t.Errorf("a second key under the label: %v", err)
	}
}

func TestOpenAdminRefuses(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ceremony", "1234")
	bad := t.TempDir() + "/pin"
	if err := os.WriteFile(bad, []byte("4321\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []PKCS11{
		{Module: testkit.SoftHSMModule, TokenLabel: "ceremony", PINFile: bad},
		{Module: testkit.SoftHSMModule, TokenLabel: "nope", PINFile: pinFile},
		{Module: "/nonexistent/libpkcs11.so", TokenLabel: "ceremony", PINFile: pinFile},
		{Module: testkit.SoftHSMModule, TokenLabel: "ceremony"},
	} {
		if a, err := OpenAdmin(c); err == nil {
			a.Close()
			t.Errorf("%+v opened", c)
		}
	}
}

func TestParseMechanism(t *testing.T) {
	for in, want := range map[string]uint{
		"0x210A": 0x210A, "CKM_AES_KEY_WRAP_PAD": 0x210A, "ckm_aes_key_wrap_kwp": 0x210B, "0x210b": 0x210B,
		"luna-CKM_AES_KWP": 0x80000171, "0x80000171": 0x80000171, "0x1234": 0x1234,
	} {
		m, err := ParseMechanism(in)
		if err != nil || m.ID != want {
			t.Errorf("ParseMechanism(%q) = %v, %v; want %#x", in, m, err, want)
		}
	}
	for _, in := range []string{"", "210A", "0x", "0x1FFFFFFFF", "kwp", "0xZZ"} {
		if _, err := ParseMechanism(in); err == nil {
			t.Errorf("ParseMechanism(%q) accepted", in)
		}
	}
}

func FuzzParseMechanism(f *testing.F) {
	for _, s := range []string{"0x210A", "CKM_AES_KEY_WRAP_KWP", "luna-CKM_AES_KWP", "0x", "0xFFFFFFFFF", " 0x1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMechanism(s)
		if err != nil {
			return
		}
		if m.Name == "" || m.ID > 0xFFFFFFFF {
			t.Fatalf("ParseMechanism(%q) = %+v", s, m)
		}
		if back, err := ParseMechanism(fmt.Sprintf("0x%X", m.ID)); err != nil || back.ID != m.ID {
			t.Fatalf("%v does not read back: %v, %v", m, back, err)
		}
	})
}
