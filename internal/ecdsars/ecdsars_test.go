package ecdsars

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// TestRoundTrip: real signatures (about half have a top bit set in r or
// s, which DER pads) survive DER → r‖s → DER and still verify.
func TestRoundTrip(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h := sha256.Sum256([]byte("x"))
	for range 200 {
		der, err := ecdsa.SignASN1(rand.Reader, key, h[:])
		if err != nil {
			t.Fatal(err)
		}
		rs, ok := FromDER(der)
		if !ok {
			t.Fatalf("FromDER refused %x", der)
		}
		if !ecdsa.VerifyASN1(&key.PublicKey, h[:], ToDER(rs[:])) {
			t.Fatalf("round trip of %x does not verify", der)
		}
	}
}

func TestRefuses(t *testing.T) {
	for name, der := range map[string][]byte{
		"empty":        {},
		"not sequence": {0x02, 0x01, 0x01},
		"trailing":     {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},
		"negative r":   {0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01},
		"zero s":       {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00},
		"r too long":   append([]byte{0x30, 0x26, 0x02, 0x21, 0x01}, append(make([]byte, 32), 0x02, 0x01, 0x01)...),
	} {
		if _, ok := FromDER(der); ok {
			t.Errorf("%s: accepted %x", name, der)
		}
	}
	if ToDER(make([]byte, 63)) != nil {
		t.Error("ToDER of 63 bytes")
	}
}

func FuzzFromDER(f *testing.F) {
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		rs, ok := FromDER(der)
		if !ok {
			return
		}
		if back, ok2 := FromDER(ToDER(rs[:])); !ok2 || back != rs {
			t.Fatalf("%x: r‖s %x does not round trip", der, rs)
		}
	})
}
