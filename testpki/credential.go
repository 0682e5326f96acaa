package testpki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// Remote party role codes, as carried in the subject OU (GBCS RemotePartyRole,
// plus the XML-signing codes seen in ZAZ1).
const (
	RoleRoot             uint8 = 0x00
	RoleRecovery         uint8 = 0x01
	RoleSupplier         uint8 = 0x02
	RoleNetworkOperator  uint8 = 0x03
	RoleACB              uint8 = 0x04
	RoleTransitionalCoS  uint8 = 0x05
	RoleWANProvider      uint8 = 0x06
	RoleIssuingAuthority uint8 = 0x07
	RoleLoadController   uint8 = 0x08
	RoleOther            uint8 = 0x7F
	RoleXMLSign          uint8 = 0x87
	RoleDSPXMLSign       uint8 = 0x89

	// RoleNone marks certificates whose subject has no OU role code: device
	// and device-CA certificates, and the IKI File Signing CA. 0xFF is not a
	// GBCS role, so it cannot be mistaken for one.
	RoleNone uint8 = 0xFF
)

// RoleName is the GBCS name of a role code ("supplier"), or "" if unknown.
func RoleName(role uint8) string {
	switch role {
	case RoleRoot:
		return "root"
	case RoleRecovery:
		return "recovery"
	case RoleSupplier:
		return "supplier"
	case RoleNetworkOperator:
		return "networkOperator"
	case RoleACB:
		return "accessControlBroker"
	case RoleTransitionalCoS:
		return "transitionalCoS"
	case RoleWANProvider:
		return "wanProvider"
	case RoleIssuingAuthority:
		return "issuingAuthority"
	case RoleLoadController:
		return "loadController"
	case RoleOther:
		return "other"
	case RoleXMLSign:
		return "xmlSign"
	case RoleDSPXMLSign:
		return "dspXmlSign"
	}
	return ""
}

// Key usages, spelled as RFC 5280 names them.
const (
	UsageDS = "digitalSignature"
	UsageKA = "keyAgreement"
	UsageCA = "keyCertSign|cRLSign"
)

// Profile says which certificate shape a credential has.
type Profile string

const (
	ProfileRootCA        Profile = "root-ca"         // self-signed Organisation root, OU=00
	ProfileIssuingCA     Profile = "issuing-ca"      // issuing Organisation CA, OU=07
	ProfileDeviceCA      Profile = "device-ca"       // issuer of device certificates, CN only
	ProfileFileSigningCA Profile = "file-signing-ca" // IKI File Signing CA
	ProfileOrganisation  Profile = "organisation"    // OU role + x500UniqueIdentifier
	ProfileFileSigning   Profile = "file-signing"    // organisation-shaped, issued by the IKI CA
	ProfileDevice        Profile = "device"          // empty subject, hardwareModuleName SAN
)

// IsCA reports whether certificates of this profile issue others.
func (p Profile) IsCA() bool {
	switch p {
	case ProfileRootCA, ProfileIssuingCA, ProfileDeviceCA, ProfileFileSigningCA, ProfileTLSCA:
		return true
	}
	return false
}

// Credential is one certificate with its private key.
type Credential struct {
	Name    string  // stable file stem, e.g. "supplier1-ds"
	Profile Profile // certificate shape
	Role    uint8   // OU role code; RoleNone when the subject has none
	Usage   string  // UsageDS, UsageKA or UsageCA
	EUI     eui.EUI // subject EUI-64; zero for CAs
	Cert    []byte  // DER
	Key     *ecdsa.PrivateKey

	// Derived from Cert, kept here because every consumer needs them:
	// XMLDSig's X509IssuerSerial and the ADT signature line want the issuer
	// DN and decimal serial, migration tracks credentials by SKI.
	Serial     *big.Int
	SKI        []byte
	NotBefore  time.Time
	NotAfter   time.Time
	Subject    string // RFC 4514, e.g. "CN=T1,OU=07"
	Issuer     string // RFC 4514
	IssuerName string // Name of the issuing credential; the root names itself
}

// CertPEM is the certificate as a PEM "CERTIFICATE" block.
func (c *Credential) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert})
}

// KeyPEM is the private key as a PKCS#8 PEM "PRIVATE KEY" block.
func (c *Credential) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
