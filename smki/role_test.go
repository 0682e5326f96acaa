package smki

import "testing"

func TestRemotePartyRole(t *testing.T) {
	// Values from GBCS RemotePartyRole (dcc-formats.md §3.5) and the DCC
	// Boxed XML-signing codes.
	tests := []struct {
		role  RemotePartyRole
		value uint8
		name  string
	}{
		{RoleRoot, 0, "root"},
		{RoleRecovery, 1, "recovery"},
		{RoleSupplier, 2, "supplier"},
		{RoleNetworkOperator, 3, "networkOperator"},
		{RoleAccessControlBroker, 4, "accessControlBroker"},
		{RoleTransitionalCoS, 5, "transitionalCoS"},
		{RoleWANProvider, 6, "wanProvider"},
		{RoleIssuingAuthority, 7, "issuingAuthority"},
		{RoleLoadController, 8, "loadController"},
		{RoleOther, 127, "other"},
		{RoleXMLSign, 135, "xmlSign"},
		{RoleDSPXMLSign, 137, "dspXmlSign"},
	}
	for _, tc := range tests {
		if uint8(tc.role) != tc.value || tc.role.String() != tc.name || !tc.role.Known() {
			t.Errorf("role %d: value %d name %q known %v, want %d %q true", tc.role, uint8(tc.role), tc.role, tc.role.Known(), tc.value, tc.name)
		}
	}
	if RoleNone.Known() || RoleNone.String() != "none" {
		t.Errorf("RoleNone: known %v name %q", RoleNone.Known(), RoleNone)
	}
	if r := RemotePartyRole(9); r.Known() || r.String() != "RemotePartyRole(0x09)" {
		t.Errorf("role 9: known %v name %q", r.Known(), r)
	}
}
