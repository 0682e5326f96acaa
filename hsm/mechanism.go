package hsm

import (
	"fmt"
	"strconv"
	"strings"
)

// Mechanism is the PKCS#11 mechanism a key is unwrapped with. HSMs
// disagree on the number for RFC 5649 (AES key wrap with padding), so a
// ceremony names it.
type Mechanism struct {
	ID   uint
	Name string
}

func (m Mechanism) String() string { return fmt.Sprintf("0x%X (%s)", m.ID, m.Name) }

// The RFC 5649 mechanisms seen in the wild.
var (
	// MechanismSoftHSM is SoftHSM2's CKM_AES_KEY_WRAP_PAD: its unwrap is
	// RFC 5649 for any length (its wrap pads first and is not).
	MechanismSoftHSM = Mechanism{0x210A, "CKM_AES_KEY_WRAP_PAD"}
	// MechanismKWP is PKCS#11 3.0's CKM_AES_KEY_WRAP_KWP.
	MechanismKWP = Mechanism{0x210B, "CKM_AES_KEY_WRAP_KWP"}
	// MechanismLunaKWP is Thales Luna's vendor CKM_AES_KWP.
	MechanismLunaKWP = Mechanism{0x80000171, "luna-CKM_AES_KWP"}
)

var mechanisms = []Mechanism{MechanismSoftHSM, MechanismKWP, MechanismLunaKWP}

// ParseMechanism reads a mechanism by name (CKM_AES_KEY_WRAP_PAD,
// CKM_AES_KEY_WRAP_KWP, luna-CKM_AES_KWP) or by number (0x210A). A number
// not in the list is taken as given: an HSM may have its own.
func ParseMechanism(s string) (Mechanism, error) {
	s = strings.TrimSpace(s)
	for _, m := range mechanisms {
		if strings.EqualFold(s, m.Name) {
			return m, nil
		}
	}
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return Mechanism{}, fmt.Errorf("hsm: mechanism %q: want a number such as 0x210A or one of %s", s, mechanismNames())
	}
	n, err := strconv.ParseUint(s[2:], 16, 32)
	if err != nil {
		return Mechanism{}, fmt.Errorf("hsm: mechanism %q: not a 32-bit hexadecimal number", s)
	}
	for _, m := range mechanisms {
		if m.ID == uint(n) {
			return m, nil
		}
	}
	return Mechanism{uint(n), "vendor mechanism"}, nil
}

func mechanismNames() string {
	names := make([]string, len(mechanisms))
	for i, m := range mechanisms {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}
