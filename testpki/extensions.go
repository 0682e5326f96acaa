package testpki

import (
	"crypto/ecdsa"
	"crypto/sha1"
	"encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
)

var (
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidExtSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtPolicies         = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidExtAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}

	// Test-environment policy OIDs from the ZAZ1 certificates.
	orgPolicy    = asn1.ObjectIdentifier{1, 2, 826, 0, 1, 8641679, 1, 2, 1, 4}
	devicePolicy = asn1.ObjectIdentifier{1, 2, 826, 0, 1, 1800000, 1, 2, 1, 4}

	oidHardwareModuleName = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 4}
	// deviceHwType is the hwType ZAZ1 device certificates carry.
	deviceHwType = asn1.ObjectIdentifier{1, 2, 826, 0, 1, 8641679, 1, 2, 2, 1}
)

// extension is one X.509 Extension; value is the DER inside extnValue.
type extension struct {
	id       asn1.ObjectIdentifier
	critical bool
	value    []byte
}

func build(f cryptobyte.BuilderContinuation) []byte {
	var b cryptobyte.Builder
	f(&b)
	return b.BytesOrPanic() // only fixed-shape values are built here
}

// keyUsage bit strings exactly as DER names them: unused-bit count, then the
// bits. digitalSignature is 03 02 07 80, keyAgreement 03 02 03 08,
// keyCertSign|cRLSign 03 02 01 06.
var keyUsageBits = map[string][2]byte{
	UsageDS: {0x07, 0x80},
	UsageKA: {0x03, 0x08},
	UsageCA: {0x01, 0x06},
}

func keyUsageExt(usage string) extension {
	bits := keyUsageBits[usage]
	return extension{oidExtKeyUsage, true, build(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(bits[:]) })
	})}
}

// keyID is RFC 5280 §4.2.1.2 method 2, which GBCS mandates: 0100 followed
// by the low 60 bits of SHA-1 of the subjectPublicKey BIT STRING value.
func keyID(pub *ecdsa.PublicKey) ([]byte, error) {
	point, err := pub.Bytes()
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(point)
	id := sum[len(sum)-8:]
	id[0] = id[0]&0x0F | 0x40
	return id, nil
}

func subjectKeyIDExt(id []byte) extension {
	return extension{oidExtSubjectKeyID, false, build(func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(id)
	})}
}

// authorityKeyIDExt carries keyIdentifier only, as GBCS requires.
func authorityKeyIDExt(id []byte) extension {
	return extension{oidExtAuthorityKeyID, false, build(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(id) })
		})
	})}
}

func policiesExt(policy asn1.ObjectIdentifier) extension {
	return extension{oidExtPolicies, true, build(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(policy) })
		})
	})}
}

// basicConstraintsExt marks a CA; pathLen < 0 leaves the length out.
func basicConstraintsExt(pathLen int) extension {
	return extension{oidExtBasicConstraints, true, build(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Boolean(true)
			if pathLen >= 0 {
				b.AddASN1Int64(int64(pathLen))
			}
		})
	})}
}

// hardwareModuleNameExt is the device subjectAltName (RFC 4108): one
// otherName id-on-hardwareModuleName { hwType, hwSerialNum = EUI-64 }.
// Critical, because the subject is empty (RFC 5280 §4.2.1.6).
func hardwareModuleNameExt(id eui.EUI) extension {
	return extension{oidExtSubjectAltName, true, build(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidHardwareModuleName)
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(deviceHwType)
						b.AddASN1OctetString(id[:])
					})
				})
			})
		})
	})}
}

// extensionsFor lists a profile's extensions in the order ZAZ1 uses:
// CAs KU, BC, policies, SKI, AKI; end entities KU, SKI, [SAN,] policies, AKI.
// authority is nil for the self-signed root, which has no AKI.
func extensionsFor(p Profile, usage string, id eui.EUI, ski, authority []byte) []extension {
	var exts []extension
	switch p {
	case ProfileRootCA:
		// No pathLen: nothing public shows the ZA root's, and an
		// unconstrained root matches RFC 5280's default.
		exts = []extension{keyUsageExt(UsageCA), basicConstraintsExt(-1), policiesExt(orgPolicy), subjectKeyIDExt(ski)}
	case ProfileIssuingCA, ProfileFileSigningCA:
		exts = []extension{keyUsageExt(UsageCA), basicConstraintsExt(0), policiesExt(orgPolicy), subjectKeyIDExt(ski)}
	case ProfileDeviceCA:
		exts = []extension{keyUsageExt(UsageCA), basicConstraintsExt(0), policiesExt(devicePolicy), subjectKeyIDExt(ski)}
	case ProfileOrganisation, ProfileFileSigning:
		exts = []extension{keyUsageExt(usage), subjectKeyIDExt(ski), policiesExt(orgPolicy)}
	case ProfileDevice:
		exts = []extension{keyUsageExt(usage), subjectKeyIDExt(ski), hardwareModuleNameExt(id), policiesExt(devicePolicy)}
	}
	if authority != nil {
		exts = append(exts, authorityKeyIDExt(authority))
	}
	return exts
}
