package role

import "testing"

func TestNames(t *testing.T) {
	for r, want := range map[Role]string{TransitionalCoS: "transitionalCoS", XMLSign: "xmlSign", None: "none", 9: "RemotePartyRole(0x09)"} {
		if r.String() != want {
			t.Errorf("%d: %q, want %q", uint8(r), r, want)
		}
	}
	if None.Known() || Role(9).Known() || !LoadController.Known() {
		t.Error("Known")
	}
}
