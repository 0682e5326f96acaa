package smki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Kind is the SMKI certificate family, which decides the profile that
// applies and where the EUI-64 lives.
type Kind uint8

const (
	KindUnknown  Kind = iota
	Organisation      // subject OU = role, x500UniqueIdentifier = EUI-64
	Device            // empty subject, EUI-64 in the SAN hardware module name
	CA                // basicConstraints cA: the Organisation root and issuing CAs
)

func (k Kind) String() string {
	switch k {
	case Organisation:
		return "organisation"
	case Device:
		return "device"
	case CA:
		return "CA"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Certificate is a decoded SMKI certificate. Parsing does not judge it: see
// CheckProfile and Verify.
type Certificate struct {
	Raw                     []byte // the whole DER certificate
	RawTBSCertificate       []byte // the signed part
	RawSubjectPublicKeyInfo []byte

	Version            int // 1, 2 or 3
	SerialNumber       *big.Int
	SignatureAlgorithm asn1.ObjectIdentifier
	Signature          []byte // DER ECDSA-Sig-Value for ecdsa-with-SHA256
	Issuer, Subject    Name
	NotBefore          time.Time
	NotAfter           time.Time

	// PublicKey is set only for an uncompressed P-256 point, the one key
	// type SMKI allows; for anything else it is nil and CheckProfile says
	// why.
	PublicKey *ecdsa.PublicKey

	Extensions []Extension // all of them, in order

	KeyUsage              KeyUsage // zero if the extension is absent
	BasicConstraintsValid bool
	IsCA                  bool
	MaxPathLen            int // -1 when basicConstraints has no pathLenConstraint
	SubjectKeyID          []byte
	AuthorityKeyID        []byte // keyIdentifier only; nil if absent
	Policies              []asn1.ObjectIdentifier
	HardwareModules       []HardwareModuleName // SAN otherName id-on-hardwareModuleName

	// Derived SMKI identity.
	Kind       Kind
	Role       RemotePartyRole // from the subject OU; RoleNone if not two hex digits
	EUI        eui.EUI         // x500UniqueIdentifier, or the device hwSerialNum
	CommonName string

	// Details the profile check needs but callers do not.
	rawSignatureAlgorithm []byte
	publicKeyAlgorithm    asn1.ObjectIdentifier
	publicKeyCurve        asn1.ObjectIdentifier
	publicKeyBits         []byte
	akiHasIssuerSerial    bool
	sanNames              int // GeneralNames in the SAN, of any type
}

// ParseError reports malformed certificate bytes. Every parse failure in
// this package is one, so callers can tell "not a certificate" from "a
// certificate we reject".
type ParseError struct {
	err error
}

func (e *ParseError) Error() string { return "smki: parsing: " + e.err.Error() }
func (e *ParseError) Unwrap() error { return e.err }

func errorf(format string, a ...any) error {
	return &ParseError{fmt.Errorf(format, a...)}
}

// Parse decodes one DER certificate. der must hold exactly one certificate
// and nothing else. The Certificate keeps a private copy of der.
func Parse(der []byte) (*Certificate, error) {
	c := &Certificate{Raw: bytes.Clone(der), MaxPathLen: -1, Role: RoleNone}
	in := cryptobyte.String(c.Raw)
	var cert, tbs, sigAlg cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errorf("not a single DER SEQUENCE")
	}
	if !cert.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!cert.ReadASN1BitStringAsBytes(&c.Signature) || !cert.Empty() {
		return nil, errorf("malformed certificate structure")
	}
	c.RawTBSCertificate = tbs
	if err := c.parseTBS(tbs); err != nil {
		return nil, err
	}
	// RFC 5280 §4.1.1.2: the outer and inner algorithm must be identical,
	// or an attacker could pick which one a verifier honours.
	if !bytes.Equal(sigAlg, c.rawSignatureAlgorithm) {
		return nil, errorf("signatureAlgorithm differs from the one in tbsCertificate")
	}
	c.deriveIdentity()
	return c, nil
}

func (c *Certificate) parseTBS(tbs cryptobyte.String) error {
	var body, sigAlg, issuer, validity, subject, spki cryptobyte.String
	if !tbs.ReadASN1(&body, cbasn1.SEQUENCE) {
		return errorf("malformed tbsCertificate")
	}
	var version int64
	if !body.ReadOptionalASN1Integer(&version, cbasn1.Tag(0).Constructed().ContextSpecific(), int64(0)) {
		return errorf("malformed version")
	}
	if version < 0 || version > 2 {
		return errorf("invalid version %d", version)
	}
	c.Version = int(version) + 1
	c.SerialNumber = new(big.Int)
	if !body.ReadASN1Integer(c.SerialNumber) {
		return errorf("malformed serial number")
	}
	if !body.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) {
		return errorf("malformed signature algorithm")
	}
	c.rawSignatureAlgorithm = sigAlg
	var algBody cryptobyte.String
	if !sigAlg.ReadASN1(&algBody, cbasn1.SEQUENCE) || !algBody.ReadASN1ObjectIdentifier(&c.SignatureAlgorithm) {
		return errorf("malformed signature algorithm")
	}
	if !body.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return errorf("malformed issuer")
	}
	var err error
	if c.Issuer, err = parseName(issuer, "issuer"); err != nil {
		return err
	}
	if !body.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return errorf("malformed validity")
	}
	if c.NotBefore, err = readTime(&validity); err != nil {
		return err
	}
	if c.NotAfter, err = readTime(&validity); err != nil {
		return err
	}
	if !validity.Empty() {
		return errorf("malformed validity")
	}
	if !body.ReadASN1Element(&subject, cbasn1.SEQUENCE) {
		return errorf("malformed subject")
	}
	if c.Subject, err = parseName(subject, "subject"); err != nil {
		return err
	}
	if !body.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return errorf("malformed subjectPublicKeyInfo")
	}
	if err := c.parseSPKI(spki); err != nil {
		return err
	}
	// issuerUniqueID and subjectUniqueID: obsolete, never used by SMKI.
	if !body.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) ||
		!body.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) {
		return errorf("malformed unique identifier")
	}
	var extsPresent bool
	var exts cryptobyte.String
	if !body.ReadOptionalASN1(&exts, &extsPresent, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return errorf("malformed extensions")
	}
	if !body.Empty() {
		return errorf("trailing data in tbsCertificate")
	}
	if extsPresent {
		if c.Version != 3 {
			return errorf("extensions in a version %d certificate", c.Version)
		}
		if err := c.parseExtensions(exts); err != nil {
			return err
		}
	}
	return nil
}

// readTime reads a UTCTime or GeneralizedTime, which RFC 5280 requires to
// be in UTC ("Z").
func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	var ok bool
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		ok = s.ReadASN1UTCTime(&t)
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		ok = s.ReadASN1GeneralizedTime(&t)
	}
	if !ok {
		return time.Time{}, errorf("malformed validity time")
	}
	if _, off := t.Zone(); off != 0 {
		return time.Time{}, errorf("validity time not in UTC")
	}
	return t.UTC(), nil
}

func (c *Certificate) parseSPKI(spki cryptobyte.String) error {
	c.RawSubjectPublicKeyInfo = spki
	var body, alg cryptobyte.String
	if !spki.ReadASN1(&body, cbasn1.SEQUENCE) ||
		!body.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&c.publicKeyAlgorithm) ||
		!body.ReadASN1BitStringAsBytes(&c.publicKeyBits) || !body.Empty() {
		return errorf("malformed subjectPublicKeyInfo")
	}
	if alg.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if !alg.ReadASN1ObjectIdentifier(&c.publicKeyCurve) {
			return errorf("malformed public key parameters")
		}
	}
	if c.publicKeyAlgorithm.Equal(oidPublicKeyEC) && c.publicKeyCurve.Equal(oidCurveP256) {
		// An error here (compressed or off-curve point) leaves PublicKey
		// nil for CheckProfile to report; the bytes are still a
		// certificate.
		c.PublicKey, _ = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), c.publicKeyBits)
	}
	return nil
}

// deriveIdentity fills Kind, Role, EUI and CommonName. It is lenient on
// purpose: Parse must accept the vectors' odd certificates (OU "137"),
// while CheckProfile is the strict judge.
func (c *Certificate) deriveIdentity() {
	switch {
	case c.BasicConstraintsValid && c.IsCA:
		c.Kind = CA
	case c.Subject.IsEmpty():
		c.Kind = Device
	default:
		c.Kind = Organisation
	}
	c.CommonName = c.Subject.firstText(oidAttrCommonName)
	if r, ok := parseRoleOU(c.Subject); ok {
		c.Role = r
	}
	if e, ok := uniqueIdentifierEUI(c.Subject); ok {
		c.EUI = e
	} else if c.Kind == Device {
		for _, hw := range c.HardwareModules {
			if e, err := eui.FromBytes(hw.SerialNum); err == nil {
				c.EUI = e
				break
			}
		}
	}
}

// parseRoleOU applies the DCC rule ^[0-9a-fA-F]{2}$ to the single OU.
func parseRoleOU(n Name) (RemotePartyRole, bool) {
	ous := n.Find(oidAttrOrgUnit)
	if len(ous) != 1 {
		return RoleNone, false
	}
	s, ok := ous[0].Text()
	if !ok || len(s) != 2 || !isHex(s[0]) || !isHex(s[1]) {
		return RoleNone, false
	}
	return RemotePartyRole(hexVal(s[0])<<4 | hexVal(s[1])), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// uniqueIdentifierEUI reads a single x500UniqueIdentifier holding a BIT
// STRING of exactly 64 bits.
func uniqueIdentifierEUI(n Name) (eui.EUI, bool) {
	uids := n.Find(oidAttrUniqueIdentifier)
	if len(uids) != 1 || uids[0].Tag != TagBitString {
		return eui.EUI{}, false
	}
	v := uids[0].Value
	if len(v) != 9 || v[0] != 0 {
		return eui.EUI{}, false
	}
	e, _ := eui.FromBytes(v[1:])
	return e, true
}

// ParsePEM decodes every CERTIFICATE block in data, in order. Other block
// types (a private key in the same file) are skipped; data with no
// certificate at all is an error.
func ParsePEM(data []byte) ([]*Certificate, error) {
	var out []*Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := Parse(blk.Bytes)
		if err != nil {
			return nil, errorf("PEM certificate %d: %w", len(out)+1, err.(*ParseError).err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errorf("no PEM CERTIFICATE block")
	}
	return out, nil
}

// String names the certificate in errors and logs: serial, subject, and
// for device certificates (whose subject is empty) the EUI.
func (c *Certificate) String() string {
	if c.Kind == Device {
		return fmt.Sprintf("serial %X (device %s)", c.SerialNumber, c.EUI.Hex())
	}
	return fmt.Sprintf("serial %X (subject %q)", c.SerialNumber, c.Subject.String())
}

// Equal reports whether two certificates are byte-identical.
func (c *Certificate) Equal(o *Certificate) bool {
	return c == o || c != nil && o != nil && bytes.Equal(c.Raw, o.Raw)
}
