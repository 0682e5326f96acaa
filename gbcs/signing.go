package gbcs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"io"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ecos-cos/ecos/internal/ecdsars"
)

// SignedBytes is what the KRP signature covers: the General Signing APDU from
// the octet after the DF tag to the last octet of the content (GBCS; the
// signature-length octet and any MAC wrapper are excluded).
func (m *Message) SignedBytes() ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, m.sizeHint()))
	m.marshalUnsigned(b)
	out, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return out[1:], nil
}

// Sign signs m with the Known Remote Party's digital-signing key and sets
// the signature field. The signer is typically an HSM; with an
// *ecdsa.PrivateKey and rand == nil the signature is deterministic (RFC 6979),
// which is what golden tests use. Production passes crypto/rand.Reader.
func (m *Message) Sign(rand io.Reader, signer crypto.Signer) error {
	pub, ok := signer.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return errorf("sign: GBCS signatures need an ECDSA P-256 key")
	}
	tbs, err := m.SignedBytes()
	if err != nil {
		return err
	}
	digest := sha256.Sum256(tbs)
	der, err := signer.Sign(rand, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	sig, err := SignatureFromDER(der)
	if err != nil {
		return err
	}
	m.Signature, m.Sig = sig, SigPresent
	return nil
}

// Verify checks m's KRP signature against pub, a P-256 key from the signer's
// certificate. It returns ErrBadSignature when the signature does not verify
// and a *ParseError when there is no signature to check.
func (m *Message) Verify(pub *ecdsa.PublicKey) error {
	if pub == nil || pub.Curve != elliptic.P256() {
		return errorf("verify: GBCS signatures need an ECDSA P-256 key")
	}
	if m.Sig != SigPresent {
		return errorf("verify: message is not signed (signature field %s)", m.Sig)
	}
	tbs, err := m.SignedBytes()
	if err != nil {
		return err
	}
	digest := sha256.Sum256(tbs)
	if !ecdsa.VerifyASN1(pub, digest[:], signatureToDER(m.Signature)) {
		return ErrBadSignature
	}
	return nil
}

// SignatureFromDER converts the ASN.1 ECDSA-Sig-Value a crypto.Signer returns
// into the fixed 64-octet r‖s GBCS carries.
func SignatureFromDER(der []byte) ([64]byte, error) {
	sig, ok := ecdsars.FromDER(der)
	if !ok {
		return sig, errorf("malformed ECDSA signature")
	}
	return sig, nil
}

// signatureToDER is the inverse, for ecdsa.VerifyASN1.
func signatureToDER(sig [64]byte) []byte { return ecdsars.ToDER(sig[:]) }
