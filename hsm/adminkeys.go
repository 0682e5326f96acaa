package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/miekg/pkcs11"

	"github.com/ecos-cos/ecos/internal/ecdsars"
)

// ImportKEK makes key a token AES key labelled label that can unwrap and
// do nothing else: not encrypt (so it cannot be used to read a key it
// protects back out), not wrap, sensitive and never extractable. It
// returns the token's CKA_CHECK_VALUE (the aes-ecb-zero KCV), or nil if
// the token gives none.
func (a *Admin) ImportKEK(label string, key []byte) ([]byte, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("hsm: a KEK of %d bytes; want an AES key of 16, 24 or 32", len(key))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.free(label); err != nil {
		return nil, err
	}
	h, err := a.p.CreateObject(a.sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, key),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
	})
	if err != nil {
		return nil, fmt.Errorf("hsm: creating the KEK %q on token %q: %w", label, a.label, err)
	}
	return a.checkValue(h), nil
}

// KEKCheckValue is the CKA_CHECK_VALUE of the KEK labelled label (nil if
// the token gives none).
func (a *Admin) KEKCheckValue(label string) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, err := a.one(label, pkcs11.CKO_SECRET_KEY, "KEK")
	if err != nil {
		return nil, err
	}
	return a.checkValue(h), nil
}

func (a *Admin) checkValue(h pkcs11.ObjectHandle) []byte {
	attrs, err := a.p.GetAttributeValue(a.sess, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CHECK_VALUE, nil)})
	if err != nil || len(attrs) != 1 || len(attrs[0].Value) == 0 {
		return nil
	}
	return attrs[0].Value
}

// privateTemplate is what every private key a ceremony puts on a token
// is: a token object that signs and does nothing else, and never leaves.
func privateTemplate(label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
	}
}

func publicTemplate(label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256Params),
	}
}

// UnwrapSigningKey unwraps wrapped (the PKCS#8 of a P-256 key) with the
// KEK labelled kekLabel and mechanism mech, inside the token, into a
// private key labelled label that only signs and never leaves; puts pub
// beside it as its public key; and proves the pair by a signature over a
// random digest verified with pub in software. On any failure nothing
// it made is left on the token.
func (a *Admin) UnwrapSigningKey(kekLabel string, mech Mechanism, wrapped []byte, label string, pub *ecdsa.PublicKey) (err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.free(label); err != nil {
		return err
	}
	kek, err := a.one(kekLabel, pkcs11.CKO_SECRET_KEY, "KEK")
	if err != nil {
		return err
	}
	point, err := ecPoint(pub)
	if err != nil {
		return fmt.Errorf("hsm: the expected public key: %w", err)
	}
	var made []pkcs11.ObjectHandle
	defer func() {
		if err != nil {
			for _, h := range made {
				a.p.DestroyObject(a.sess, h)
			}
		}
	}()
	priv, err := a.p.UnwrapKey(a.sess, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech.ID, nil)}, kek, wrapped, privateTemplate(label))
	if err != nil {
		return unwrapError(err, mech, kekLabel)
	}
	made = append(made, priv)
	pubH, err := a.p.CreateObject(a.sess, append(publicTemplate(label), pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point)))
	if err != nil {
		return fmt.Errorf("hsm: creating the public key %q: %w", label, err)
	}
	made = append(made, pubH)
	return a.prove(priv, pub, label)
}

func unwrapError(err error, mech Mechanism, kek string) error {
	switch {
	case isCKR(err, pkcs11.CKR_MECHANISM_INVALID), isCKR(err, pkcs11.CKR_MECHANISM_PARAM_INVALID):
		return fmt.Errorf("%w: unwrap mechanism %s (SoftHSM2 uses %s; PKCS#11 3.0 HSMs %s; Luna %s)",
			ErrMechanism, mech, MechanismSoftHSM, MechanismKWP, MechanismLunaKWP)
	case isCKR(err, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED):
		return fmt.Errorf("%w: the key %q may not unwrap (CKA_UNWRAP is false): it is not a KEK", ErrUnwrap, kek)
	default:
		return fmt.Errorf("%w with KEK %q and mechanism %s: the blob was changed, the KEK is not the one it was wrapped under, or the mechanism is wrong (%v)",
			ErrUnwrap, kek, mech, err)
	}
}

// GenerateSigningKey makes a P-256 key pair labelled label on the token:
// the private key only signs and never leaves. It is proved by a
// signature verified with its public key in software.
func (a *Admin) GenerateSigningKey(label string) (_ *ecdsa.PublicKey, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.free(label); err != nil {
		return nil, err
	}
	pubH, priv, err := a.p.GenerateKeyPair(a.sess, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)},
		publicTemplate(label), privateTemplate(label)[2:]) // class and type come from the mechanism
	if err != nil {
		return nil, fmt.Errorf("hsm: generating key pair %q on token %q: %w", label, a.label, err)
	}
	defer func() {
		if err != nil {
			a.p.DestroyObject(a.sess, priv)
			a.p.DestroyObject(a.sess, pubH)
		}
	}()
	attrs, err := a.p.GetAttributeValue(a.sess, pubH, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
	if err != nil {
		return nil, fmt.Errorf("hsm: reading the new public key %q: %w", label, err)
	}
	pub, err := parseECPoint(attrs[0].Value)
	if err != nil {
		return nil, fmt.Errorf("hsm: the new public key %q: %w", label, err)
	}
	if err := a.prove(priv, pub, label); err != nil {
		return nil, err
	}
	return pub, nil
}

// prove signs a random digest with priv and verifies it with pub in
// software.
func (a *Admin) prove(priv pkcs11.ObjectHandle, pub *ecdsa.PublicKey, label string) error {
	var msg [32]byte
	if _, err := io.ReadFull(rand.Reader, msg[:]); err != nil {
		return err
	}
	digest := sha256.Sum256(msg[:])
	rs, err := a.sign(priv, digest[:])
	if err != nil {
		return fmt.Errorf("hsm: the key %q could not sign its proof: %w", label, err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], ecdsars.ToDER(rs)) {
		return fmt.Errorf("%w: a signature by %q does not verify with the certificate's public key", ErrNotTheKey, label)
	}
	return nil
}

// sign is CKM_ECDSA over a digest: r‖s.
func (a *Admin) sign(priv pkcs11.ObjectHandle, digest []byte) ([]byte, error) {
	if err := a.p.SignInit(a.sess, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)}, priv); err != nil {
		return nil, err
	}
	rs, err := a.p.Sign(a.sess, digest)
	if err != nil {
		return nil, err
	}
	if len(rs) != 64 {
		return nil, fmt.Errorf("a signature of %d bytes, want 64 (r‖s)", len(rs))
	}
	return rs, nil
}

// Signer is the private key labelled label as a crypto.Signer through
// this session: SHA-256 digests in, DER signatures out.
func (a *Admin) Signer(label string) (crypto.Signer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	priv, err := a.one(label, pkcs11.CKO_PRIVATE_KEY, "private key")
	if err != nil {
		return nil, err
	}
	pubH, err := a.one(label, pkcs11.CKO_PUBLIC_KEY, "public key")
	if err != nil {
		return nil, err
	}
	attrs, err := a.p.GetAttributeValue(a.sess, pubH, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
	if err != nil {
		return nil, fmt.Errorf("hsm: reading public key %q: %w", label, err)
	}
	pub, err := parseECPoint(attrs[0].Value)
	if err != nil {
		return nil, fmt.Errorf("hsm: public key %q is not a P-256 point: %w", label, err)
	}
	return &adminSigner{a: a, priv: priv, pub: pub}, nil
}

type adminSigner struct {
	a    *Admin
	priv pkcs11.ObjectHandle
	pub  *ecdsa.PublicKey
}

func (s *adminSigner) Public() crypto.PublicKey { return s.pub }

func (s *adminSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 || len(digest) != sha256.Size {
		return nil, errors.New("hsm: only SHA-256 digests are signed")
	}
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	rs, err := s.a.sign(s.priv, digest)
	if err != nil {
		return nil, fmt.Errorf("hsm: signing on token %q: %w", s.a.label, err)
	}
	return ecdsars.ToDER(rs), nil
}

// Remove destroys every object labelled label, for a ceremony that must
// take back what it made when a later check fails. It returns how many
// it destroyed.
func (a *Admin) Remove(label string) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hs, err := a.find(label, ^uint(0))
	if err != nil {
		return 0, err
	}
	for i, h := range hs {
		if err := a.p.DestroyObject(a.sess, h); err != nil {
			return i, fmt.Errorf("hsm: removing %q from token %q: %w", label, a.label, err)
		}
	}
	return len(hs), nil
}
