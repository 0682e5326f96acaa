package smki

import "fmt"

// RemotePartyRole is the role an Organisation certificate grants its
// holder: GBCS RemotePartyRole values plus the SMKI-only XML signing codes.
// SMKI carries it in the subject OU as two hex digits.
type RemotePartyRole uint8

// Roles named by GBCS (0–8, 0x7F) and by the DCC Boxed SMKI (0x87, 0x89).
const (
	RoleRoot                RemotePartyRole = 0x00
	RoleRecovery            RemotePartyRole = 0x01
	RoleSupplier            RemotePartyRole = 0x02
	RoleNetworkOperator     RemotePartyRole = 0x03
	RoleAccessControlBroker RemotePartyRole = 0x04
	RoleTransitionalCoS     RemotePartyRole = 0x05
	RoleWANProvider         RemotePartyRole = 0x06
	RoleIssuingAuthority    RemotePartyRole = 0x07
	RoleLoadController      RemotePartyRole = 0x08
	RoleOther               RemotePartyRole = 0x7F
	RoleXMLSign             RemotePartyRole = 0x87
	RoleDSPXMLSign          RemotePartyRole = 0x89

	// RoleNone marks a certificate with no usable role: a Device
	// certificate, or a subject whose OU is absent or not two hex digits.
	// 0xFF is unassigned in GBCS, so it cannot be mistaken for a real role
	// (the zero value would read as root).
	RoleNone RemotePartyRole = 0xFF
)

var roleNames = map[RemotePartyRole]string{
	RoleRoot:                "root",
	RoleRecovery:            "recovery",
	RoleSupplier:            "supplier",
	RoleNetworkOperator:     "networkOperator",
	RoleAccessControlBroker: "accessControlBroker",
	RoleTransitionalCoS:     "transitionalCoS",
	RoleWANProvider:         "wanProvider",
	RoleIssuingAuthority:    "issuingAuthority",
	RoleLoadController:      "loadController",
	RoleOther:               "other",
	RoleXMLSign:             "xmlSign",
	RoleDSPXMLSign:          "dspXmlSign",
	RoleNone:                "none",
}

// String returns the GBCS ASN.1 name (transitionalCoS), or the hex code for
// a role GBCS does not name.
func (r RemotePartyRole) String() string {
	if s, ok := roleNames[r]; ok {
		return s
	}
	return fmt.Sprintf("RemotePartyRole(0x%02X)", uint8(r))
}

// Known reports whether r is one of the named roles (RoleNone excluded).
func (r RemotePartyRole) Known() bool {
	_, ok := roleNames[r]
	return ok && r != RoleNone
}

// isCARole reports whether r belongs in a CA subject rather than an
// Organisation one.
func (r RemotePartyRole) isCARole() bool {
	return r == RoleRoot || r == RoleIssuingAuthority
}
