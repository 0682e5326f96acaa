package gbcs

import (
	"encoding/hex"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
)

// Cell is a TrustAnchorCellIdentifier: which of a device's trust-anchor
// cells a command addresses.
//
//	TrustAnchorCellIdentifier ::= SEQUENCE {
//	  remotePartyRole RemotePartyRole,
//	  keyUsage        KeyUsage,
//	  cellUsage       CellUsage DEFAULT management }
type Cell struct {
	Role     Role
	KeyUsage KeyUsage
	Usage    CellUsage
	// ExplicitUsage records that cellUsage was written although it is the
	// DEFAULT (management, 02 01 00). DER omits it and so do our builders;
	// some encoders do not, and re-encoding must keep their bytes.
	ExplicitUsage bool

	form lenForm
}

// readCell reads a cell under tag (SEQUENCE, or [2] in the control block).
func readCell(s *cryptobyte.String, tag asn1.Tag, c *Cell) bool {
	var body cryptobyte.String
	var role uint8
	if !readTLV(s, tag, &body, &c.form) || !readSmall(&body, asn1.INTEGER, &role) ||
		!readKeyUsage(&body, &c.KeyUsage) || !readCellUsage(&body, &c.Usage, &c.ExplicitUsage) {
		return false
	}
	c.Role = Role(role)
	return body.Empty()
}

// readCellUsage reads the optional trailing cellUsage INTEGER.
func readCellUsage(s *cryptobyte.String, u *CellUsage, explicit *bool) bool {
	*u, *explicit = CellManagement, false
	if !s.PeekASN1Tag(asn1.INTEGER) {
		return true
	}
	var v uint8
	if !readSmall(s, asn1.INTEGER, &v) {
		return false
	}
	*u = CellUsage(v)
	*explicit = *u == CellManagement
	return true
}

func addCellUsage(b *cryptobyte.Builder, u CellUsage, explicit bool) {
	if u != CellManagement || explicit {
		addUint(b, asn1.INTEGER, uint64(u))
	}
}

func (c *Cell) marshalTagged(b *cryptobyte.Builder, tag asn1.Tag) {
	addTLV(b, tag, c.form, func(b *cryptobyte.Builder) {
		addUint(b, asn1.INTEGER, uint64(c.Role))
		addKeyUsage(b, c.KeyUsage)
		addCellUsage(b, c.Usage, c.ExplicitUsage)
	})
}

// Marshal implements cryptobyte.MarshalingValue (as a plain SEQUENCE).
func (c *Cell) Marshal(b *cryptobyte.Builder) error {
	c.marshalTagged(b, asn1.SEQUENCE)
	return nil
}

// KeyID is an 8-octet subject key identifier, as SMKI certificates carry.
type KeyID [8]byte

// MarshalText prints key IDs as hex in descriptions.
func (k KeyID) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(k[:])), nil
}

// readEUI reads an OCTET STRING(8) subject unique ID.
func readEUI(s *cryptobyte.String, out *eui.EUI) bool { return readFixedOctets(s, out[:]) }

// readKeyID reads an OCTET STRING(8) subject key ID.
func readKeyID(s *cryptobyte.String, out *KeyID) bool { return readFixedOctets(s, out[:]) }

func addOctets(b *cryptobyte.Builder, v []byte) { b.AddASN1OctetString(v) }

// String names the usage: "digitalSignature", "keyAgreement", or the bit
// names joined with "|"; unnamed bits print as bitN.
func (k KeyUsage) String() string {
	if k == 0 {
		return "none"
	}
	names := [...]string{0: "digitalSignature", 4: "keyAgreement", 5: "keyCertSign", 6: "cRLSign"}
	out := ""
	for i := 0; i < 16; i++ {
		if k&(1<<i) == 0 {
			continue
		}
		n := ""
		if i < len(names) {
			n = names[i]
		}
		if n == "" {
			n = "bit" + strconv.Itoa(i)
		}
		if out != "" {
			out += "|"
		}
		out += n
	}
	return out
}
