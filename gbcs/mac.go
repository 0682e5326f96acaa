package gbcs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/subtle"

	"golang.org/x/crypto/cryptobyte"
)

// The ACB's GMAC (dcc-formats.md §3.3, verified on the RTDS commands):
//
//	Z   = ECDH(P-256) between the ACB's and the device's key-agreement keys
//	K   = SHA-256(00000001 ‖ Z ‖ OtherInfo)[0:16]   (one-step KDF, SP 800-56A)
//	OtherInfo = 60 85 74 06 08 03 00 ‖ originator ‖ 09 ‖ CRA ‖ counter ‖ recipient
//	IV  = originator ‖ 00000000
//	AAD = 11 00 00 00 00 00 ‖ General Signing APDU (DF … signature)
//	tag = first 12 octets of AES-128-GCM over an empty plaintext
//
// The originator and counter are those of the inner APDU (the CoS party's),
// not the ACB's. We only know this recipe for wrappers whose header fields
// are empty and whose invocation counter is zero, which is every MAC-only
// GBCS frame; anything else is refused rather than guessed.

// kdfAlgorithmID is the algorithm-id prefix of the KDF OtherInfo.
var kdfAlgorithmID = [...]byte{0x60, 0x85, 0x74, 0x06, 0x08, 0x03, 0x00}

// ComputeMAC returns the 12-octet GMAC for f. priv is our key-agreement
// private key and peer the other end's public key: for commands, the ACB KA
// key and the device KA key (ECDH is symmetric, so a device-side check uses
// the same pair the other way round).
func ComputeMAC(f *Frame, priv *ecdh.PrivateKey, peer *ecdh.PublicKey) ([12]byte, error) {
	var tag [12]byte
	c := f.Ciphering
	if c == nil {
		return tag, errorf("mac: frame has no general ciphering wrapper")
	}
	if len(c.TransactionID)+len(c.Originator)+len(c.Recipient)+len(c.DateTime)+len(c.OtherInfo) != 0 ||
		c.headerForms != [5]lenForm{} || c.InvocationCounter != 0 || c.SecurityControl != SecurityControlAuthOnly {
		return tag, errorf("mac: only MAC-only wrappers with empty header fields and a zero invocation counter are supported")
	}
	if priv == nil || peer == nil || priv.Curve() != ecdh.P256() || peer.Curve() != ecdh.P256() {
		return tag, errorf("mac: key-agreement keys must be P-256")
	}
	z, err := priv.ECDH(peer)
	if err != nil {
		return tag, err
	}
	m := &f.Message
	// OtherInfo embeds the transaction-id exactly as the APDU encodes it
	// (length 09, CRA flag, counter), so it is built the same way.
	oi := cryptobyte.NewBuilder(make([]byte, 0, 33))
	oi.AddBytes(kdfAlgorithmID[:])
	oi.AddBytes(m.Originator[:])
	oi.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(m.CRA))
		b.AddUint64(m.Counter)
	})
	oi.AddBytes(m.Recipient[:])
	otherInfo, err := oi.Bytes()
	if err != nil {
		return tag, err
	}
	h := sha256.New()
	h.Write([]byte{0, 0, 0, 1}) // KDF round counter
	h.Write(z)
	h.Write(otherInfo)
	key := h.Sum(nil)[:16]

	block, err := aes.NewCipher(key)
	if err != nil {
		return tag, err
	}
	gcm, err := cipher.NewGCMWithTagSize(block, macLen)
	if err != nil {
		return tag, err
	}
	iv := make([]byte, 0, 12)
	iv = append(iv, m.Originator[:]...)
	iv = append(iv, 0, 0, 0, 0)

	apdu, err := m.Bytes()
	if err != nil {
		return tag, err
	}
	aad := make([]byte, 0, 6+len(apdu))
	aad = append(aad, c.SecurityControl, 0, 0, 0, 0, 0)
	aad = append(aad, apdu...)
	copy(tag[:], gcm.Seal(nil, iv, nil, aad))
	return tag, nil
}

// SetMAC computes the GMAC and stores it in the wrapper.
func (f *Frame) SetMAC(priv *ecdh.PrivateKey, peer *ecdh.PublicKey) error {
	tag, err := ComputeMAC(f, priv, peer)
	if err != nil {
		return err
	}
	f.Ciphering.MAC = tag
	return nil
}

// VerifyMAC checks the wrapper's GMAC; it returns ErrBadMAC on mismatch.
func VerifyMAC(f *Frame, priv *ecdh.PrivateKey, peer *ecdh.PublicKey) error {
	tag, err := ComputeMAC(f, priv, peer)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(tag[:], f.Ciphering.MAC[:]) != 1 {
		return ErrBadMAC
	}
	return nil
}
