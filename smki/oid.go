package smki

import "encoding/asn1"

// Object identifiers the SMKI profile names. They are unexported so no
// caller can modify them; compare with Equal.
var (
	oidSignatureECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidPublicKeyEC              = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidCurveP256                = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}

	oidExtSubjectKeyID      = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidExtKeyUsage          = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtSubjectAltName    = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtBasicConstraints  = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtCertPolicies      = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidExtAuthorityKeyID    = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidOtherNameHWModule    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 4}
	oidAttrCommonName       = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidAttrOrgUnit          = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidAttrOrganization     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidAttrUniqueIdentifier = asn1.ObjectIdentifier{2, 5, 4, 45}
)

// handledExtensions are the extensions this package interprets; any other
// extension marked critical makes a certificate unusable (RFC 5280 §4.2).
var handledExtensions = []asn1.ObjectIdentifier{
	oidExtSubjectKeyID, oidExtKeyUsage, oidExtSubjectAltName,
	oidExtBasicConstraints, oidExtCertPolicies, oidExtAuthorityKeyID,
}
