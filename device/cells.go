package device

import (
	"crypto/ecdsa"
	"fmt"
	"slices"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
)

// KeyUsageCertSign is the key usage of the root trust-anchor cell (X.509
// keyCertSign, bit 5): the root anchor is only ever used to check the
// certification path of a replacement certificate, never a command.
const KeyUsageCertSign gbcs.KeyUsage = 1 << 5

// Anchor is one trust-anchor cell and the certificate it holds. Cert nil
// describes a cell the device has but that is empty: a replacement may fill
// it, and CS02a does not list it.
//
// Certificates are treated as immutable and shared: the devices of a Fleet
// all point at the same parsed certificates, which is what keeps a
// 100,000-device fleet small. Never modify a Certificate given to a device.
type Anchor struct {
	Cell gbcs.Cell
	Cert *smki.Certificate
}

// cellKey is a gbcs.Cell reduced to what identifies a cell. gbcs.Cell also
// records how it was encoded (length form, explicit default usage), so two
// Cells naming the same cell need not compare equal; cellKey always does.
type cellKey struct {
	role  gbcs.Role
	usage gbcs.CellUsage
	key   gbcs.KeyUsage
}

func keyOf(c gbcs.Cell) cellKey { return cellKey{role: c.Role, usage: c.Usage, key: c.KeyUsage} }

// cell returns the canonical gbcs.Cell for k, as the device encodes it in
// its responses (management usage omitted, minimal lengths).
func (k cellKey) cell() gbcs.Cell { return gbcs.Cell{Role: k.role, KeyUsage: k.key, Usage: k.usage} }

func (k cellKey) String() string {
	s := fmt.Sprintf("{%s, %s", k.role, k.key)
	if k.usage != gbcs.CellManagement {
		s += ", " + k.usage.String()
	}
	return s + "}"
}

// compare orders cells the way a device lists them: by role, then
// digitalSignature before keyAgreement, then management before top-up.
func (k cellKey) compare(o cellKey) int {
	switch {
	case k.role != o.role:
		return int(k.role) - int(o.role)
	case k.key != o.key:
		return int(k.key) - int(o.key)
	}
	return int(k.usage) - int(o.usage)
}

// Cells of the roles and modes the CoS Party deals with.
var (
	cellRoot            = cellKey{role: gbcs.RoleRoot, key: KeyUsageCertSign}
	cellSupplierDS      = cellKey{role: gbcs.RoleSupplier, key: gbcs.KeyUsageDigitalSignature}
	cellSupplierKA      = cellKey{role: gbcs.RoleSupplier, key: gbcs.KeyUsageKeyAgreement}
	cellSupplierKATopUp = cellKey{role: gbcs.RoleSupplier, key: gbcs.KeyUsageKeyAgreement, usage: gbcs.CellPrepaymentTopUp}
	cellTransCoSDS      = cellKey{role: gbcs.RoleTransitionalCoS, key: gbcs.KeyUsageDigitalSignature}
	cellACBKA           = cellKey{role: gbcs.RoleAccessControlBroker, key: gbcs.KeyUsageKeyAgreement}
)

// cell is one entry of a device's cell table.
type cell struct {
	key  cellKey
	cert *smki.Certificate // nil: the cell exists but is empty
}

// cells is a device's trust-anchor table, sorted by key. It is
// copy-on-write: a table may be shared by many devices (every device of a
// Fleet starts with the same one), so it is never modified in place; an
// update builds a new slice and swaps it in, which is also what makes a
// command's cell changes visible all together.
type cells []cell

// newCells validates and sorts anchors into a fresh table.
func newCells(anchors []Anchor) (cells, error) {
	t := make(cells, 0, len(anchors))
	for _, a := range anchors {
		k := keyOf(a.Cell)
		if a.Cert != nil {
			if err := checkAnchorCert(k, a.Cert); err != nil {
				return nil, err
			}
		}
		t = append(t, cell{key: k, cert: a.Cert})
	}
	slices.SortFunc(t, func(a, b cell) int { return a.key.compare(b.key) })
	for i := 1; i < len(t); i++ {
		if t[i].key == t[i-1].key {
			return nil, fmt.Errorf("device: cell %v given twice", t[i].key)
		}
	}
	return t, nil
}

// checkAnchorCert refuses an anchor that could never work: a device that
// silently held an unusable certificate would turn a configuration mistake
// into a confusing BadSignature later.
func checkAnchorCert(k cellKey, c *smki.Certificate) error {
	if c.PublicKey == nil {
		return fmt.Errorf("device: anchor for cell %v has no P-256 public key", k)
	}
	if c.Role != k.role {
		return fmt.Errorf("device: anchor for cell %v has role %v", k, c.Role)
	}
	return nil
}

// find returns the index of k, or -1.
func (t cells) find(k cellKey) int {
	i, ok := slices.BinarySearchFunc(t, k, func(c cell, k cellKey) int { return c.key.compare(k) })
	if !ok {
		return -1
	}
	return i
}

// get returns the certificate in cell k; ok is false when the device has no
// such cell, and the certificate is nil when the cell is empty.
func (t cells) get(k cellKey) (cert *smki.Certificate, ok bool) {
	if i := t.find(k); i >= 0 {
		return t[i].cert, true
	}
	return nil, false
}

// with returns a copy of t with the given cells replaced. Every key in
// repl must already be in t.
func (t cells) with(repl map[cellKey]*smki.Certificate) cells {
	out := slices.Clone(t)
	for k, c := range repl {
		out[out.find(k)].cert = c
	}
	return out
}

// identity is what a device reports about a certificate: the subject's
// EUI-64 (subjectUniqueID) and its 8-octet subject key identifier. An empty
// cell reports zeros.
func identity(c *smki.Certificate) (eui.EUI, gbcs.KeyID) {
	var ski gbcs.KeyID
	if c == nil {
		return eui.EUI{}, ski
	}
	copy(ski[:], c.SubjectKeyID)
	return c.EUI, ski
}

// anchorKey returns the digital-signing public key in cell k, or nil.
func (t cells) anchorKey(k cellKey) (*ecdsa.PublicKey, *smki.Certificate) {
	c, _ := t.get(k)
	if c == nil || c.PublicKey == nil {
		return nil, nil
	}
	return c.PublicKey, c
}
