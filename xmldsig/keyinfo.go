package xmldsig

import (
	"crypto/elliptic"
	"math/big"
	"strings"

	"github.com/beevik/etree"

	"github.com/ecos-cos/ecos/smki"
)

// CertFinder resolves the certificate a KeyInfo X509IssuerSerial names.
// DUIS signatures carry no certificate, so the verifier's own store decides
// who may sign; *smki.Pool is the usual implementation.
type CertFinder interface {
	FindByIssuerSerial(issuer smki.Name, serial *big.Int) *smki.Certificate
}

var _ CertFinder = (*smki.Pool)(nil)

// maxSerialDigits bounds X509SerialNumber: RFC 5280 serials are at most 20
// octets, which is 49 decimal digits.
const maxSerialDigits = 49

// issuerSerial is a parsed ds:X509IssuerSerial.
type issuerSerial struct {
	text   string // the issuer as written, for messages
	issuer smki.Name
	serial *big.Int
}

// parseKeyInfo accepts exactly KeyInfo/X509Data/X509IssuerSerial: a
// certificate, key value or key name would be one more thing to ignore.
func parseKeyInfo(ki *etree.Element) (issuerSerial, error) {
	var is issuerSerial
	if err := onlyAttrs(ki); err != nil {
		return is, err
	}
	x, err := expect(ki, "X509Data")
	if err != nil {
		return is, err
	}
	if err := onlyAttrs(x[0]); err != nil {
		return is, err
	}
	iss, err := expect(x[0], "X509IssuerSerial")
	if err != nil {
		return is, err
	}
	if err := onlyAttrs(iss[0]); err != nil {
		return is, err
	}
	parts, err := expect(iss[0], "X509IssuerName", "X509SerialNumber")
	if err != nil {
		return is, err
	}
	name, err := leafText(parts[0])
	if err != nil {
		return is, err
	}
	serial, err := leafText(parts[1])
	if err != nil {
		return is, err
	}
	is.text = strings.Trim(name, " \t\r\n")
	if is.text == "" {
		return is, errorf(ProfileViolation, "ds:X509IssuerName is empty")
	}
	if is.issuer, err = smki.ParseName(is.text); err != nil {
		return is, errorf(ProfileViolation, "ds:X509IssuerName %q is not an RFC 2253 name: %v", excerpt(is.text), err)
	}
	serial = strings.Trim(serial, " \t\r\n")
	if !isDecimal(serial) {
		return is, errorf(ProfileViolation, "ds:X509SerialNumber %q is not a decimal integer", excerpt(serial))
	}
	is.serial, _ = new(big.Int).SetString(serial, 10)
	return is, nil
}

func isDecimal(s string) bool {
	if s == "" || len(s) > maxSerialDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// findSigner looks the certificate up and checks that the finder returned
// what was asked for and that it holds a P-256 key: a lax CertFinder must
// not be able to widen who can sign.
func findSigner(certs CertFinder, is issuerSerial) (*smki.Certificate, error) {
	var c *smki.Certificate
	if certs != nil {
		c = certs.FindByIssuerSerial(is.issuer, is.serial)
	}
	if c == nil || c.SerialNumber == nil || c.SerialNumber.Cmp(is.serial) != 0 || !c.Issuer.Equal(is.issuer) {
		return nil, errorf(UnknownSigner, "no certificate with issuer %q and serial %s", excerpt(is.text), is.serial)
	}
	if c.PublicKey == nil || c.PublicKey.Curve != elliptic.P256() {
		return nil, errorf(UnknownSigner, "certificate %q serial %s has no P-256 public key", excerpt(is.text), is.serial)
	}
	return c, nil
}
