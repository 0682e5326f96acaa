package enrol

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

var (
	oidCommonName       = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOrgUnit          = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidUniqueIdentifier = asn1.ObjectIdentifier{2, 5, 4, 45} // x500UniqueIdentifier
	oidECDSAWithSHA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 15}
)

// maxCommonName is X.520's ub-common-name.
const maxCommonName = 64

// Subject is who an SMKI Organisation certificate names: the party's
// EUI-64 (its entity identifier) and its remote-party role, and
// optionally an organisation name.
type Subject struct {
	CommonName string
	Role       role.Role
	EUI        eui.EUI
}

// Check says whether s can be certified, before anything is made for it.
func (s Subject) Check() error {
	switch {
	case s.EUI.IsZero():
		return errors.New("enrol: no EUI-64: the certificate must name the party's entity identifier")
	case !s.Role.Known() || s.Role == role.Root || s.Role == role.IssuingAuthority:
		return fmt.Errorf("enrol: role %v is not an organisation's", s.Role)
	case len(s.CommonName) > maxCommonName:
		return fmt.Errorf("enrol: name %q is %d bytes, at most %d", s.CommonName, len(s.CommonName), maxCommonName)
	case !utf8.ValidString(s.CommonName):
		return fmt.Errorf("enrol: name %q is not UTF-8", s.CommonName)
	}
	return nil
}

// marshal writes the subject as SMKI Organisation certificates carry it
// (the ZAZ1 shape): an optional CN, then OU = the role as two hex digits,
// both UTF8String, then x500UniqueIdentifier = the EUI-64 as a BIT STRING.
func (s Subject) marshal(b *cryptobyte.Builder) {
	rdn := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, tag cbasn1.Tag, v []byte) {
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oid)
				b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(v) })
			})
		})
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if s.CommonName != "" {
			rdn(b, oidCommonName, cbasn1.UTF8String, []byte(s.CommonName))
		}
		rdn(b, oidOrgUnit, cbasn1.UTF8String, fmt.Appendf(nil, "%02X", uint8(s.Role)))
		rdn(b, oidUniqueIdentifier, cbasn1.BIT_STRING, append([]byte{0}, s.EUI[:]...))
	})
}

// digitalSignature is the keyUsage BIT STRING with only bit 0 set.
var digitalSignature = []byte{0x07, 0x80}

// CreateRequest writes a DER PKCS#10 request for an Organisation
// certificate naming s, for key's public key, signed by key: it asks for
// a critical keyUsage of digitalSignature, the CA sets the rest. The
// signature is verified in software before the request is returned, and
// the request is read back and checked against the SMKI profile, so what
// it writes is what `ecos pki sign-csr` (and an SMKI that follows the
// profile) accepts.
func CreateRequest(rand io.Reader, key crypto.Signer, s Subject) ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	pub, ok := key.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("enrol: the key is not an ECDSA P-256 key; SMKI certifies P-256 keys only")
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("enrol: public key: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0) // v1
		s.marshal(b)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidExtensionRequest)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidExtKeyUsage)
							b.AddASN1Boolean(true)
							b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(digitalSignature) })
							})
						})
					})
				})
			})
		})
	})
	info, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("enrol: encoding the request: %w", err)
	}
	digest := sha256.Sum256(info)
	sig, err := key.Sign(rand, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("enrol: signing the request: %w", err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return nil, errors.New("enrol: the key's signature of the request does not verify with its public key")
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(info)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
		b.AddASN1BitString(sig)
	})
	der, err := out.Bytes()
	if err != nil {
		return nil, fmt.Errorf("enrol: encoding the request: %w", err)
	}
	r, err := smki.ParseRequest(der)
	if err == nil {
		err = errors.Join(r.CheckSignature(), r.CheckProfile())
	}
	if err != nil {
		return nil, fmt.Errorf("enrol: the request does not read back as written: %w", err)
	}
	return der, nil
}
