package gbcs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// TestSignWithTransCoSKey signs a 6.23 command with the RTDS TransCoS key and
// checks it against the certificate: ours verify, deterministically, and a
// one-octet change to the payload breaks them.
func TestSignWithTransCoSKey(t *testing.T) {
	key := testkit.ECKey(t, "keys/90b3d51f30000004-ds.key")
	pub := orgKey(t, "keys/90b3d51f30000004-ds.pem")
	payload, err := syntheticMode7(7001).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m := NewCommand(cosParty, esme, 7001, CodeSupplierByTransCoS, payload)
	if err := m.Sign(nil, key); err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(pub); err != nil {
		t.Fatal(err)
	}
	again := NewCommand(cosParty, esme, 7001, CodeSupplierByTransCoS, payload)
	if err := again.Sign(nil, key); err != nil {
		t.Fatal(err)
	}
	if again.Signature != m.Signature {
		t.Error("rand == nil did not give a deterministic (RFC 6979) signature")
	}
	// Through the wire format and back.
	f, err := Wrap(m, macKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	wire, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseFrame(wire)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Message.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if err := VerifyMAC(back, macKeys(t).Private, macKeys(t).Peer); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, len(payload) / 2, len(payload) - 1} {
		tampered := *m
		tampered.Content = bytes.Clone(m.Content)
		tampered.Content[i] ^= 0x01
		if err := tampered.Verify(pub); !errors.Is(err, ErrBadSignature) {
			t.Errorf("payload octet %d flipped: err = %v, want ErrBadSignature", i, err)
		}
	}
	tampered := *m
	tampered.Counter++
	if err := tampered.Verify(pub); !errors.Is(err, ErrBadSignature) {
		t.Errorf("counter changed: err = %v, want ErrBadSignature", err)
	}
}

func TestSignRandomised(t *testing.T) {
	key := fixedKey(t, "randomised")
	m := NewCommand(cosParty, esme, 1, CodeSupplierByTransCoS, []byte{0x30, 0x00})
	if err := m.Sign(rand.Reader, key); err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(&key.PublicKey); err != nil {
		t.Fatal(err)
	}
}

func TestSignRefusesOtherCurves(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	m := NewCommand(cosParty, esme, 1, CodeSupplierByTransCoS, nil)
	if err := m.Sign(nil, k); err == nil {
		t.Fatal("signed with a P-384 key")
	}
	if err := m.Verify(&k.PublicKey); err == nil {
		t.Fatal("verified with a P-384 key")
	}
	if err := m.Verify(&fixedKey(t, "x").PublicKey); err == nil || errors.Is(err, ErrBadSignature) {
		t.Fatalf("unsigned message: err = %v, want a ParseError", err)
	}
}

// TestSignatureFromDER converts many real signatures (including r or s with
// a leading 00 or fewer than 32 octets) and checks they still verify.
func TestSignatureFromDER(t *testing.T) {
	key := fixedKey(t, "der")
	digest := sha256.Sum256([]byte("gbcs"))
	short := 0
	for i := 0; i < 300; i++ {
		der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig, err := SignatureFromDER(der)
		if err != nil {
			t.Fatal(err)
		}
		if sig[0] == 0 || sig[32] == 0 {
			short++
		}
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], signatureToDER(sig)) {
			t.Fatalf("round trip of %X does not verify", der)
		}
	}
	t.Logf("%d of 300 signatures had a short r or s", short)
	for _, bad := range [][]byte{
		nil,
		{0x30, 0x00},
		{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},                                      // trailing octet
		{0x30, 0x06, 0x02, 0x01, 0xFF, 0x02, 0x01, 0x01},                                            // negative r
		append(append([]byte{0x30, 0x26, 0x02, 0x21, 0x01}, make([]byte, 32)...), 0x02, 0x01, 0x01), // 33-octet r
	} {
		if _, err := SignatureFromDER(bad); err == nil {
			t.Errorf("accepted %X", bad)
		} else if _, ok := errors.AsType[*ParseError](err); !ok {
			t.Errorf("%X: error %T is not a *ParseError", bad, err)
		}
	}
}
