package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256            = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
)

// deviceNotAfter is the GBCS "no well-defined expiry" date for devices.
var deviceNotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// template is everything that goes into one TBSCertificate.
type template struct {
	serial    []byte // positive, minimal DER content octets
	issuer    []byte // DER Name, the issuer certificate's subject bytes
	subject   []byte // DER Name
	notBefore time.Time
	notAfter  time.Time
	pub       *ecdsa.PublicKey
	exts      []extension
}

// newKey draws a P-256 scalar from r by rejection sampling. Since Go 1.26
// ecdsa.GenerateKey ignores its reader, so this is what makes a seeded
// Options.Rand give the same keys every time.
func newKey(r io.Reader) (*ecdsa.PrivateKey, error) {
	var buf [32]byte
	for range 64 { // a scalar ≥ n happens with probability ~2⁻³²
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("reading key material: %w", err)
		}
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), buf[:]); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("random source gives no valid P-256 scalar")
}

// newSerial returns 16 random bytes with the top bit clear and a non-zero
// first byte, so the INTEGER is positive and exactly 16 content octets long,
// as every ZAZ1 serial is.
func newSerial(r io.Reader) ([]byte, error) {
	s := make([]byte, 16)
	if _, err := io.ReadFull(r, s); err != nil {
		return nil, fmt.Errorf("reading serial: %w", err)
	}
	s[0] &= 0x7F
	if s[0] == 0 {
		s[0] = 0x40
	}
	return s, nil
}

// addTime writes UTCTime through 2049 and GeneralizedTime from 2050, as
// RFC 5280 §4.1.2.5 requires.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC()
	if t.Year() < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

func addSignatureAlgorithm(b *cryptobyte.Builder) {
	// ecdsa-with-SHA256 takes no parameters (RFC 5758 §3.2).
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
}

func (t *template) tbs() ([]byte, error) {
	point, err := t.pub.Bytes()
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(2) // v3
		})
		b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(t.serial) })
		addSignatureAlgorithm(b)
		b.AddBytes(t.issuer)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, t.notBefore)
			addTime(b, t.notAfter)
		})
		b.AddBytes(t.subject)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidECPublicKey)
				b.AddASN1ObjectIdentifier(oidP256)
			})
			b.AddASN1BitString(point)
		})
		b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range t.exts {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(e.id)
						if e.critical { // DEFAULT FALSE is omitted in DER
							b.AddASN1Boolean(true)
						}
						b.AddASN1OctetString(e.value)
					})
				}
			})
		})
	})
	return b.Bytes()
}

// sign returns the DER certificate. The signature is RFC 6979 (rand nil), so
// the same key and TBS always give the same bytes.
func (t *template) sign(issuerKey *ecdsa.PrivateKey) ([]byte, error) {
	tbs, err := t.tbs()
	if err != nil {
		return nil, fmt.Errorf("encoding TBSCertificate: %w", err)
	}
	digest := sha256.Sum256(tbs)
	sig, err := issuerKey.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		addSignatureAlgorithm(b)
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}
