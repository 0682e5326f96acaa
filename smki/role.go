package smki

import "github.com/ecos-cos/ecos/role"

// RemotePartyRole is the role an Organisation certificate grants its
// holder: GBCS RemotePartyRole values plus the SMKI-only XML signing codes.
// SMKI carries it in the subject OU as two hex digits. It is role.Role, the
// numbering GBCS shares.
type RemotePartyRole = role.Role

// The role constants under the names smki has always used.
const (
	RoleRoot                = role.Root
	RoleRecovery            = role.Recovery
	RoleSupplier            = role.Supplier
	RoleNetworkOperator     = role.NetworkOperator
	RoleAccessControlBroker = role.AccessControlBroker
	RoleTransitionalCoS     = role.TransitionalCoS
	RoleWANProvider         = role.WANProvider
	RoleIssuingAuthority    = role.IssuingAuthority
	RoleLoadController      = role.LoadController
	RoleOther               = role.Other
	RoleXMLSign             = role.XMLSign
	RoleDSPXMLSign          = role.DSPXMLSign
	RoleNone                = role.None
)

// isCARole reports whether r belongs in a CA subject rather than an
// Organisation one.
func isCARole(r RemotePartyRole) bool {
	return r == RoleRoot || r == RoleIssuingAuthority
}
