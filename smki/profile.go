package smki

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// ErrProfile is wrapped by every *ProfileError, so errors.Is(err,
// ErrProfile) asks "did the certificate break the SMKI profile?".
var ErrProfile = errors.New("smki: certificate profile violation")

// Certificate fields named in ProfileError.Field.
const (
	FieldVersion            = "version"
	FieldSerialNumber       = "serialNumber"
	FieldSignatureAlgorithm = "signatureAlgorithm"
	FieldValidity           = "validity"
	FieldNotAfter           = "notAfter"
	FieldSubject            = "subject"
	FieldSubjectOU          = "subject.OU"
	FieldSubjectUID         = "subject.x500UniqueIdentifier"
	FieldPublicKey          = "subjectPublicKeyInfo"
	FieldKeyUsage           = "keyUsage"
	FieldBasicConstraints   = "basicConstraints"
	FieldSubjectKeyID       = "subjectKeyIdentifier"
	FieldAuthorityKeyID     = "authorityKeyIdentifier"
	FieldPolicies           = "certificatePolicies"
	FieldSubjectAltName     = "subjectAltName"
	FieldExtensions         = "extensions"
)

// ProfileError is one way a certificate departs from the SMKI profile
// (GBCS §12 / SEC Appendix A and B as summarised in docs/domain.md §4).
type ProfileError struct {
	Field  string // one of the Field constants
	Reason string
}

func (e *ProfileError) Error() string { return e.Field + ": " + e.Reason }
func (e *ProfileError) Unwrap() error { return ErrProfile }

// deviceNotAfter is the "no well-defined expiration" date RFC 5280
// §4.1.2.5 gives, which GBCS mandates for Device certificates.
var deviceNotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// profileChecker collects violations so that one call reports them all:
// an operator fixing a certificate request wants the whole list.
type profileChecker struct {
	c    *Certificate
	errs []error
}

func (p *profileChecker) fail(field, format string, a ...any) {
	p.errs = append(p.errs, &ProfileError{Field: field, Reason: fmt.Sprintf(format, a...)})
}

// CheckProfile reports every way c breaks the SMKI profile for its Kind,
// as *ProfileError values joined with errors.Join, or nil. It does not look
// at time or at the issuer: that is Verify's job.
func (c *Certificate) CheckProfile() error {
	p := &profileChecker{c: c}
	p.common()
	switch c.Kind {
	case Organisation:
		p.organisation()
	case Device:
		p.device()
	case CA:
		p.ca()
	}
	return errors.Join(p.errs...)
}

// The DER of AlgorithmIdentifier{ecdsa-with-SHA256} with absent
// parameters, the only encoding RFC 5758 §3.2 allows.
var ecdsaWithSHA256DER = []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}

func (p *profileChecker) common() {
	c := p.c
	if c.Version != 3 {
		p.fail(FieldVersion, "version %d, want 3", c.Version)
	}
	if c.SerialNumber.Sign() <= 0 {
		p.fail(FieldSerialNumber, "serial number must be positive")
	}
	p.signatureAlgorithm()
	if c.NotAfter.Before(c.NotBefore) {
		p.fail(FieldValidity, "notAfter %s is before notBefore %s", c.NotAfter.Format(time.RFC3339), c.NotBefore.Format(time.RFC3339))
	}
	p.publicKey()
	if ku := c.Extension(oidExtKeyUsage); ku == nil {
		p.fail(FieldKeyUsage, "absent")
	} else if !ku.Critical {
		p.fail(FieldKeyUsage, "not critical")
	}
	if ski := c.Extension(oidExtSubjectKeyID); ski == nil {
		p.fail(FieldSubjectKeyID, "absent")
	} else {
		if ski.Critical {
			p.fail(FieldSubjectKeyID, "critical")
		}
		if len(c.SubjectKeyID) != 8 {
			p.fail(FieldSubjectKeyID, "%d bytes, want 8", len(c.SubjectKeyID))
		}
	}
	p.authorityKeyID()
	if cp := c.Extension(oidExtCertPolicies); cp == nil {
		p.fail(FieldPolicies, "absent")
	} else {
		if !cp.Critical {
			p.fail(FieldPolicies, "not critical")
		}
		if len(c.Policies) == 0 {
			p.fail(FieldPolicies, "no policy")
		}
	}
	for _, id := range c.unhandledCritical() {
		p.fail(FieldExtensions, "unhandled critical extension %v", id)
	}
}

func (p *profileChecker) authorityKeyID() {
	c := p.c
	aki := c.Extension(oidExtAuthorityKeyID)
	if aki == nil {
		// GBCS: omitted only on the self-signed root.
		if !(c.Kind == CA && c.Role == RoleRoot && c.IsSelfSigned()) {
			p.fail(FieldAuthorityKeyID, "absent on a certificate that is not a self-signed root")
		}
		return
	}
	if aki.Critical {
		p.fail(FieldAuthorityKeyID, "critical")
	}
	if len(c.AuthorityKeyID) != 8 {
		p.fail(FieldAuthorityKeyID, "keyIdentifier is %d bytes, want 8", len(c.AuthorityKeyID))
	}
	if c.akiHasIssuerSerial {
		p.fail(FieldAuthorityKeyID, "has authorityCertIssuer/SerialNumber, want keyIdentifier only")
	}
}

// endEntityKeyUsage: an end-entity key either signs or agrees keys, never
// both, so a compromise of one use cannot spill into the other.
func (p *profileChecker) endEntityKeyUsage() {
	if p.c.Extension(oidExtKeyUsage) == nil {
		return // already reported as absent
	}
	if ku := p.c.KeyUsage; ku != KeyUsageDigitalSignature && ku != KeyUsageKeyAgreement {
		p.fail(FieldKeyUsage, "%v, want exactly digitalSignature or exactly keyAgreement", ku)
	}
}

func (p *profileChecker) notCA() {
	if p.c.BasicConstraintsValid && p.c.MaxPathLen >= 0 {
		p.fail(FieldBasicConstraints, "pathLenConstraint on an end-entity certificate")
	}
}

func (p *profileChecker) organisation() {
	c := p.c
	p.endEntityKeyUsage()
	p.notCA()
	p.roleOU(func(r RemotePartyRole) string {
		switch {
		case isCARole(r):
			return fmt.Sprintf("role %v belongs to a CA, not an organisation certificate", r)
		case !r.Known():
			return fmt.Sprintf("unknown remote party role 0x%02X", uint8(r))
		}
		return ""
	})
	uids := c.Subject.Find(oidAttrUniqueIdentifier)
	switch {
	case len(uids) != 1:
		p.fail(FieldSubjectUID, "%d present, want exactly 1", len(uids))
	case uids[0].Tag != TagBitString:
		p.fail(FieldSubjectUID, "tag 0x%02X, want BIT STRING", uids[0].Tag)
	case len(uids[0].Value) != 9 || uids[0].Value[0] != 0:
		p.fail(FieldSubjectUID, "not a BIT STRING of exactly 64 bits")
	}
	p.onlyAttributes(oidAttrCommonName, oidAttrOrgUnit, oidAttrUniqueIdentifier)
}

// roleOU checks that the subject has exactly one OU of exactly two hex
// digits, then applies roleProblem to the decoded role.
func (p *profileChecker) roleOU(roleProblem func(RemotePartyRole) string) {
	ous := p.c.Subject.Find(oidAttrOrgUnit)
	if len(ous) != 1 {
		p.fail(FieldSubjectOU, "%d present, want exactly 1", len(ous))
		return
	}
	s, _ := ous[0].Text()
	r, ok := parseRoleOU(p.c.Subject)
	if !ok {
		p.fail(FieldSubjectOU, "%q is not exactly 2 hex digits", s)
		return
	}
	if msg := roleProblem(r); msg != "" {
		p.fail(FieldSubjectOU, "%s", msg)
	}
}

func (p *profileChecker) onlyAttributes(allowed ...asn1.ObjectIdentifier) {
	for _, a := range p.c.Subject.Attributes {
		ok := false
		for _, oid := range allowed {
			ok = ok || a.Type.Equal(oid)
		}
		if !ok {
			p.fail(FieldSubject, "unexpected attribute %v", a.Type)
		}
	}
}

func (p *profileChecker) device() {
	c := p.c
	p.endEntityKeyUsage()
	p.notCA()
	if !c.Subject.IsEmpty() {
		p.fail(FieldSubject, "not empty")
	}
	if !c.NotAfter.Equal(deviceNotAfter) {
		p.fail(FieldNotAfter, "%s, want 99991231235959Z", c.NotAfter.Format(time.RFC3339))
	}
	if len(c.Policies) > 1 {
		p.fail(FieldPolicies, "%d policies, want exactly 1", len(c.Policies))
	}
	san := c.Extension(oidExtSubjectAltName)
	switch {
	case san == nil:
		p.fail(FieldSubjectAltName, "absent")
		return
	case !san.Critical:
		p.fail(FieldSubjectAltName, "not critical")
	}
	if c.sanNames != 1 || len(c.HardwareModules) != 1 {
		p.fail(FieldSubjectAltName, "%d names with %d hardwareModuleName, want exactly one hardwareModuleName", c.sanNames, len(c.HardwareModules))
		return
	}
	if n := len(c.HardwareModules[0].SerialNum); n != 8 {
		p.fail(FieldSubjectAltName, "hwSerialNum is %d bytes, want an 8-byte EUI-64", n)
	}
}

func (p *profileChecker) ca() {
	c := p.c
	bc := c.Extension(oidExtBasicConstraints)
	if bc != nil && !bc.Critical {
		p.fail(FieldBasicConstraints, "not critical")
	}
	if c.KeyUsage&KeyUsageCertSign == 0 || c.KeyUsage&^(KeyUsageCertSign|KeyUsageCRLSign) != 0 {
		p.fail(FieldKeyUsage, "%v, want keyCertSign (and optionally cRLSign) only", c.KeyUsage)
	}
	switch caFamilyOf(c.Subject) {
	case deviceCA:
		// Device CAs are named by CN alone, as ZAZ1's E357.
	case fileSigningCA:
		// The IKI File Signing CA's name is fixed by the ADT signature
		// line: CN=IKI File Signing CA, OU=issuingAuthority, O=DCC.
		p.onlyAttributes(oidAttrCommonName, oidAttrOrgUnit, oidAttrOrganization)
	default:
		p.roleOU(func(r RemotePartyRole) string {
			if !isCARole(r) {
				return fmt.Sprintf("role %v on a CA certificate, want 00 (root) or 07 (issuing)", r)
			}
			return ""
		})
		p.onlyAttributes(oidAttrCommonName, oidAttrOrgUnit)
	}
}

type caFamily int

const (
	organisationCA caFamily = iota
	deviceCA
	fileSigningCA
)

// caFamilyOf tells the three CA name shapes apart. Anything that is not
// clearly a device or IKI CA is held to the Organisation CA rules, so a
// malformed OU is still reported.
func caFamilyOf(n Name) caFamily {
	if len(n.Attributes) == 1 && n.Attributes[0].Type.Equal(oidAttrCommonName) {
		return deviceCA
	}
	if ous := n.Find(oidAttrOrgUnit); len(ous) == 1 {
		if s, ok := ous[0].Text(); ok && s == "issuingAuthority" && len(n.Find(oidAttrOrganization)) == 1 {
			return fileSigningCA
		}
	}
	return organisationCA
}

// signatureAlgorithm: ecdsa-with-SHA256, parameters absent (certificates
// and requests alike).
func (p *profileChecker) signatureAlgorithm() {
	c := p.c
	switch {
	case !c.SignatureAlgorithm.Equal(oidSignatureECDSAWithSHA256):
		p.fail(FieldSignatureAlgorithm, "%v, want ecdsa-with-SHA256", c.SignatureAlgorithm)
	case !bytes.Equal(c.rawSignatureAlgorithm, ecdsaWithSHA256DER):
		p.fail(FieldSignatureAlgorithm, "ecdsa-with-SHA256 with parameters, which RFC 5758 requires absent")
	}
}

// publicKey: an uncompressed P-256 point.
func (p *profileChecker) publicKey() {
	c := p.c
	switch {
	case !c.publicKeyAlgorithm.Equal(oidPublicKeyEC):
		p.fail(FieldPublicKey, "algorithm %v, want id-ecPublicKey", c.publicKeyAlgorithm)
	case !c.publicKeyCurve.Equal(oidCurveP256):
		p.fail(FieldPublicKey, "curve %v, want prime256v1 (P-256)", c.publicKeyCurve)
	case c.PublicKey == nil:
		p.fail(FieldPublicKey, "not a valid uncompressed P-256 point")
	}
}
