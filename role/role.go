// Package role is the remote-party role numbering that GBCS and SMKI share:
// GBCS's RemotePartyRole (whose trust anchor a device cell holds), which
// SMKI organisation certificates carry in their OU as two hex digits, and
// which the DCC extends with codes of its own (load controller, XML
// signing). gbcs.Role and smki.RemotePartyRole are this type.
//
// Trust level: a value type.
package role

import (
	"fmt"
	"strconv"
	"strings"
)

// Role is a remote-party role code.
type Role uint8

// Roles named by GBCS (0–8, 0x7F) and by the DCC Boxed SMKI (0x87, 0x89).
const (
	Root                Role = 0x00
	Recovery            Role = 0x01
	Supplier            Role = 0x02
	NetworkOperator     Role = 0x03
	AccessControlBroker Role = 0x04
	TransitionalCoS     Role = 0x05
	WANProvider         Role = 0x06
	IssuingAuthority    Role = 0x07
	LoadController      Role = 0x08
	Other               Role = 0x7F
	XMLSign             Role = 0x87
	DSPXMLSign          Role = 0x89

	// None marks the absence of a role: a Device certificate, or a subject
	// whose OU is absent or not two hex digits. 0xFF is unassigned in GBCS,
	// so it cannot be mistaken for a real role (the zero value is root).
	None Role = 0xFF
)

var names = map[Role]string{
	Root:                "root",
	Recovery:            "recovery",
	Supplier:            "supplier",
	NetworkOperator:     "networkOperator",
	AccessControlBroker: "accessControlBroker",
	TransitionalCoS:     "transitionalCoS",
	WANProvider:         "wanProvider",
	IssuingAuthority:    "issuingAuthority",
	LoadController:      "loadController",
	Other:               "other",
	XMLSign:             "xmlSign",
	DSPXMLSign:          "dspXmlSign",
	None:                "none",
}

// String returns the GBCS ASN.1 name (transitionalCoS), or the hex code for
// a role nobody names.
func (r Role) String() string {
	if s, ok := names[r]; ok {
		return s
	}
	return fmt.Sprintf("RemotePartyRole(0x%02X)", uint8(r))
}

// Known reports whether r is one of the named roles (None excluded).
func (r Role) Known() bool {
	_, ok := names[r]
	return ok && r != None
}

// Parse reads a role by its GBCS name ("transitionalCoS", any case) or as
// the two hex digits of an SMKI subject OU ("05").
func Parse(s string) (Role, error) {
	for r, n := range names {
		if r != None && strings.EqualFold(n, s) {
			return r, nil
		}
	}
	if len(s) == 2 {
		if b, err := strconv.ParseUint(s, 16, 8); err == nil && Role(b).Known() {
			return Role(b), nil
		}
	}
	return None, fmt.Errorf("role: %q is not a remote-party role (a name such as transitionalCoS, or two hex digits such as 05)", s)
}
