package smki

import (
	"encoding/asn1"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extension is one raw certificate extension.
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte // contents of extnValue (the DER the OCTET STRING wraps)
}

// KeyUsage holds the keyUsage bits, bit n of the BIT STRING at 1<<n, the
// same layout as crypto/x509.KeyUsage.
type KeyUsage uint16

const (
	KeyUsageDigitalSignature KeyUsage = 1 << iota
	KeyUsageContentCommitment
	KeyUsageKeyEncipherment
	KeyUsageDataEncipherment
	KeyUsageKeyAgreement
	KeyUsageCertSign
	KeyUsageCRLSign
	KeyUsageEncipherOnly
	KeyUsageDecipherOnly
)

var keyUsageNames = []string{
	"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment",
	"keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
}

// String lists the RFC 5280 names of the set bits joined by "|", matching
// the usage keys of keystore.json for the single-bit SMKI cases.
func (k KeyUsage) String() string {
	var names []string
	for i, n := range keyUsageNames {
		if k&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// HardwareModuleName is the RFC 4108 otherName Device certificates carry
// in their SAN; SerialNum is the device EUI-64.
type HardwareModuleName struct {
	Type      asn1.ObjectIdentifier
	SerialNum []byte
}

// Extension returns the extension with the given id, or nil.
func (c *Certificate) Extension(id asn1.ObjectIdentifier) *Extension {
	for i := range c.Extensions {
		if c.Extensions[i].ID.Equal(id) {
			return &c.Extensions[i]
		}
	}
	return nil
}

func (c *Certificate) parseExtensions(der cryptobyte.String) error {
	var seq cryptobyte.String
	if !der.ReadASN1(&seq, cbasn1.SEQUENCE) || !der.Empty() || seq.Empty() {
		return errorf("malformed extensions")
	}
	for !seq.Empty() {
		var ext cryptobyte.String
		var e Extension
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&e.ID) {
			return errorf("malformed extension")
		}
		if ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&e.Critical) {
			return errorf("extension %v: malformed critical flag", e.ID)
		}
		if !ext.ReadASN1Bytes(&e.Value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return errorf("extension %v: malformed value", e.ID)
		}
		// RFC 5280 §4.2: one instance per extension. Two keyUsage
		// extensions would leave it ambiguous which one binds.
		if c.Extension(e.ID) != nil {
			return errorf("duplicate extension %v", e.ID)
		}
		c.Extensions = append(c.Extensions, e)
		if err := c.parseKnownExtension(e); err != nil {
			return err
		}
	}
	return nil
}

func (c *Certificate) parseKnownExtension(e Extension) error {
	val := cryptobyte.String(e.Value)
	var ok bool
	switch {
	case e.ID.Equal(oidExtKeyUsage):
		ok = c.parseKeyUsage(val)
	case e.ID.Equal(oidExtBasicConstraints):
		ok = c.parseBasicConstraints(val)
	case e.ID.Equal(oidExtSubjectKeyID):
		c.SubjectKeyID = []byte{}
		ok = val.ReadASN1Bytes(&c.SubjectKeyID, cbasn1.OCTET_STRING) && val.Empty()
	case e.ID.Equal(oidExtAuthorityKeyID):
		ok = c.parseAuthorityKeyID(val)
	case e.ID.Equal(oidExtCertPolicies):
		ok = c.parsePolicies(val)
	case e.ID.Equal(oidExtSubjectAltName):
		ok = c.parseSubjectAltName(val)
	default:
		return nil
	}
	if !ok {
		return errorf("extension %v: malformed", e.ID)
	}
	return nil
}

func (c *Certificate) parseKeyUsage(val cryptobyte.String) bool {
	var bits asn1.BitString
	if !val.ReadASN1BitString(&bits) || !val.Empty() {
		return false
	}
	for i := range keyUsageNames {
		if bits.At(i) != 0 {
			c.KeyUsage |= 1 << i
		}
	}
	return true
}

func (c *Certificate) parseBasicConstraints(val cryptobyte.String) bool {
	var seq cryptobyte.String
	if !val.ReadASN1(&seq, cbasn1.SEQUENCE) || !val.Empty() {
		return false
	}
	if seq.PeekASN1Tag(cbasn1.BOOLEAN) && !seq.ReadASN1Boolean(&c.IsCA) {
		return false
	}
	if seq.PeekASN1Tag(cbasn1.INTEGER) {
		var n int64
		if !seq.ReadASN1Integer(&n) || n < 0 || n > 1<<20 {
			return false
		}
		c.MaxPathLen = int(n)
	}
	c.BasicConstraintsValid = true
	return seq.Empty()
}

func (c *Certificate) parseAuthorityKeyID(val cryptobyte.String) bool {
	var seq, kid cryptobyte.String
	var present bool
	if !val.ReadASN1(&seq, cbasn1.SEQUENCE) || !val.Empty() ||
		!seq.ReadOptionalASN1(&kid, &present, cbasn1.Tag(0).ContextSpecific()) {
		return false
	}
	if present {
		c.AuthorityKeyID = append([]byte{}, kid...)
	}
	issuerTag := cbasn1.Tag(1).ContextSpecific().Constructed()
	serialTag := cbasn1.Tag(2).ContextSpecific()
	c.akiHasIssuerSerial = seq.PeekASN1Tag(issuerTag) || seq.PeekASN1Tag(serialTag)
	return seq.SkipOptionalASN1(issuerTag) && seq.SkipOptionalASN1(serialTag) && seq.Empty()
}

func (c *Certificate) parsePolicies(val cryptobyte.String) bool {
	var seq cryptobyte.String
	if !val.ReadASN1(&seq, cbasn1.SEQUENCE) || !val.Empty() {
		return false
	}
	c.Policies = []asn1.ObjectIdentifier{}
	for !seq.Empty() {
		var info cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !seq.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1ObjectIdentifier(&oid) ||
			!info.SkipOptionalASN1(cbasn1.SEQUENCE) || !info.Empty() {
			return false
		}
		c.Policies = append(c.Policies, oid)
	}
	return true
}

// parseSubjectAltName keeps the hardware module names and counts every
// GeneralName, so the device profile can insist on exactly one.
func (c *Certificate) parseSubjectAltName(val cryptobyte.String) bool {
	var seq cryptobyte.String
	if !val.ReadASN1(&seq, cbasn1.SEQUENCE) || !val.Empty() {
		return false
	}
	otherNameTag := cbasn1.Tag(0).ContextSpecific().Constructed()
	for !seq.Empty() {
		var gn cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&gn, &tag) {
			return false
		}
		c.sanNames++
		if tag != otherNameTag {
			continue
		}
		var typ asn1.ObjectIdentifier
		var explicit cryptobyte.String
		if !gn.ReadASN1ObjectIdentifier(&typ) || !gn.ReadASN1(&explicit, otherNameTag) || !gn.Empty() {
			return false
		}
		if !typ.Equal(oidOtherNameHWModule) {
			continue
		}
		var hw HardwareModuleName
		var hwSeq cryptobyte.String
		if !explicit.ReadASN1(&hwSeq, cbasn1.SEQUENCE) || !explicit.Empty() ||
			!hwSeq.ReadASN1ObjectIdentifier(&hw.Type) ||
			!hwSeq.ReadASN1Bytes(&hw.SerialNum, cbasn1.OCTET_STRING) || !hwSeq.Empty() {
			return false
		}
		c.HardwareModules = append(c.HardwareModules, hw)
	}
	return true
}

// unhandledCritical lists critical extensions this package does not
// interpret.
func (c *Certificate) unhandledCritical() []asn1.ObjectIdentifier {
	var out []asn1.ObjectIdentifier
	for _, e := range c.Extensions {
		if e.Critical && !isHandled(e.ID) {
			out = append(out, e.ID)
		}
	}
	return out
}

func isHandled(id asn1.ObjectIdentifier) bool {
	for _, h := range handledExtensions {
		if id.Equal(h) {
			return true
		}
	}
	return false
}
