package enrol

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ecos-cos/ecos/hsm"
)

// KeyMaker makes a key pair on a token, signs with it there and lists
// the token's objects: an hsm.Admin session.
type KeyMaker interface {
	GenerateSigningKey(label string) (*ecdsa.PublicKey, error)
	Signer(label string) (crypto.Signer, error)
	Objects() ([]hsm.Object, error)
}

// New generates the P-256 key pair labelled label on km's token, proves
// it (a signature by the token's key over a random digest must verify
// with its public key in software) and returns a request for an
// Organisation certificate naming s for it. step is told each step done,
// as a sentence, for the ceremony's transcript. The subject is checked
// before the token is touched.
func New(km KeyMaker, label string, s Subject, rand io.Reader, step func(string)) (csr []byte, pub *ecdsa.PublicKey, err error) {
	if err := s.Check(); err != nil {
		return nil, nil, err
	}
	if label == "" {
		return nil, nil, errors.New("enrol: no key label")
	}
	objs, err := km.Objects()
	if err != nil {
		return nil, nil, fmt.Errorf("enrol: listing the token's objects: %w", err)
	}
	for _, o := range objs {
		if o.Label == label {
			return nil, nil, fmt.Errorf("enrol: the token already has a %s labelled %q; a ceremony never replaces a key: choose a new label", o.Class, label)
		}
	}
	step(fmt.Sprintf("checked: nothing on the token is labelled %q", label))
	if pub, err = km.GenerateSigningKey(label); err != nil {
		return nil, nil, fmt.Errorf("enrol: generating key %q: %w", label, err)
	}
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, nil, fmt.Errorf("enrol: key %q is not a P-256 key", label)
	}
	step(fmt.Sprintf("generated a P-256 key pair labelled %q on the token; public key %s", label, Fingerprint(pub)))
	if err := checkKeyObject(km, label); err != nil {
		return nil, nil, err
	}
	step(fmt.Sprintf("checked: the private key %q is a token object, private, sensitive and never extractable, and only signs", label))
	key, err := km.Signer(label)
	if err != nil {
		return nil, nil, fmt.Errorf("enrol: key %q: %w", label, err)
	}
	if kp, ok := key.Public().(*ecdsa.PublicKey); !ok || !kp.Equal(pub) {
		return nil, nil, fmt.Errorf("enrol: the token's key %q signs for another public key than it reported", label)
	}
	if err := Prove(rand, key, pub); err != nil {
		return nil, nil, err
	}
	step(fmt.Sprintf("proved key %q: its signature over a random digest verifies with the public key in software", label))
	if csr, err = CreateRequest(rand, key, s); err != nil {
		return nil, nil, err
	}
	cn := ""
	if s.CommonName != "" {
		cn = fmt.Sprintf("CN=%q ", s.CommonName)
	}
	step(fmt.Sprintf("signed the certificate request on the token, its signature verified in software: subject %sOU=%02X (%v) x500UniqueIdentifier %s, keyUsage digitalSignature (critical)",
		cn, uint8(s.Role), s.Role, s.EUI))
	return csr, pub, nil
}

// checkKeyObject reads the new private key's attributes back from the
// token: what a custodian would check by hand, so a token that ignored
// the template is caught before a request for its key leaves the room.
func checkKeyObject(km KeyMaker, label string) error {
	objs, err := km.Objects()
	if err != nil {
		return fmt.Errorf("enrol: listing the token's objects: %w", err)
	}
	var found []hsm.Object
	for _, o := range objs {
		if o.Label == label && o.Class == "private key" {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		return fmt.Errorf("enrol: %d private keys labelled %q on the token after generating one", len(found), label)
	}
	o := found[0]
	var bad []string
	for _, c := range []struct {
		ok   bool
		what string
	}{
		{o.Token, "not a token object"}, {o.Private, "not private"},
		{o.Sensitive && o.AlwaysSensitive, "not always sensitive"},
		{!o.Extractable && o.NeverExtractable, "extractable"},
		{!o.ValueReadable, "its value can be read"},
		{o.Sign, "cannot sign"},
		{!o.Decrypt && !o.Unwrap && !o.Derive, "may decrypt, unwrap or derive"},
	} {
		if !c.ok {
			bad = append(bad, c.what)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("enrol: the private key %q on the token is %s; destroy it and use a token that honours the template", label, strings.Join(bad, ", "))
	}
	return nil
}

// Prove checks that key holds the private half of pub: its signature over
// a fresh random digest must verify with pub in software.
func Prove(rand io.Reader, key crypto.Signer, pub *ecdsa.PublicKey) error {
	var digest [32]byte
	if _, err := io.ReadFull(rand, digest[:]); err != nil {
		return fmt.Errorf("enrol: random digest: %w", err)
	}
	sig, err := key.Sign(rand, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("enrol: proving the key: %w", err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return errors.New("enrol: the key's signature does not verify with its public key in software")
	}
	return nil
}

// Fingerprint names a public key as the certificate issued for it will:
// its subject key identifier (RFC 5280 method 2, which GBCS mandates),
// then the SHA-256 of its uncompressed point, so a custodian can match
// request, certificate and token.
func Fingerprint(pub *ecdsa.PublicKey) string {
	point, err := pub.Bytes()
	if err != nil {
		return "(not a valid point)"
	}
	return fmt.Sprintf("SKI %X, SHA-256 %s", KeyID(pub), strings.ToUpper(fmt.Sprintf("%x", sha256.Sum256(point))))
}

// KeyID is the 8-byte subject key identifier of pub by RFC 5280 §4.2.1.2
// method 2: 0100 then the low 60 bits of the SHA-1 of the point.
func KeyID(pub *ecdsa.PublicKey) []byte {
	point, err := pub.Bytes()
	if err != nil {
		return nil
	}
	sum := sha1.Sum(point)
	id := sum[len(sum)-8:]
	id[0] = id[0]&0x0F | 0x40
	return id
}
