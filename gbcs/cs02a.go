package gbcs

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
)

// ProvideSecurityCredentialDetails is the CS02a command (message code
// 0x0008): read what a device holds in the trust-anchor cells of some
// remote-party roles. The ECoS Party uses it to check a device's TransCoS
// cell before and after migration.
//
//	SEQUENCE { authorisingRemotePartyTACellIdentifier TrustAnchorCellIdentifier,
//	           remotePartyRolesCredentialsRequired    SEQUENCE OF RemotePartyRole }
type ProvideSecurityCredentialDetails struct {
	AuthorisingCell Cell
	Roles           []Role

	form, rolesForm lenForm
}

// ProvideSecurityCredentialDetailsResponse is the CS02a response: one entry
// per requested role.
type ProvideSecurityCredentialDetailsResponse struct {
	Parties []RemotePartyDetails

	form lenForm
}

// RemotePartyDetails is one role's entry:
//
//	SEQUENCE { targetRemotePartyRole RemotePartyRole, statusCode StatusCode,
//	           -- present when the role's cells could be read:
//	           currentSeqNumber INTEGER,
//	           trustAnchorCellDetails SEQUENCE OF TrustAnchorCellContents }
type RemotePartyDetails struct {
	Role        Role
	Status      Status
	Credentials *RemotePartyCredentials // nil when not reported (e.g. trustAnchorNotFound)

	form lenForm
}

// RemotePartyCredentials is what a device reports holding for one role.
type RemotePartyCredentials struct {
	SeqNumber uint64
	Cells     []CellContents

	cellsForm lenForm
}

// CellContents is a TrustAnchorCellContents:
//
//	SEQUENCE { keyUsage KeyUsage, cellUsage CellUsage DEFAULT management,
//	           subjectUniqueID OCTET STRING(8), subjectKeyIdentifier OCTET STRING(8) }
type CellContents struct {
	KeyUsage        KeyUsage
	Usage           CellUsage
	ExplicitUsage   bool // see Cell.ExplicitUsage
	SubjectUniqueID eui.EUI
	SubjectKeyID    KeyID

	form lenForm
}

// ParseProvideSecurityCredentialDetails decodes a CS02a command payload.
func ParseProvideSecurityCredentialDetails(b []byte) (*ProvideSecurityCredentialDetails, error) {
	s := cryptobyte.String(bytes.Clone(b))
	p := new(ProvideSecurityCredentialDetails)
	var body cryptobyte.String
	if !readTLV(&s, asn1.SEQUENCE, &body, &p.form) || !s.Empty() {
		return nil, errorf("cs02a command: want one SEQUENCE")
	}
	if !readCell(&body, asn1.SEQUENCE, &p.AuthorisingCell) {
		return nil, errorf("cs02a command: malformed authorisingRemotePartyTACellIdentifier")
	}
	var ok bool
	if p.Roles, ok = readSeqOf(&body, asn1.SEQUENCE, &p.rolesForm, readRole); !ok || !body.Empty() {
		return nil, errorf("cs02a command: malformed remotePartyRoles")
	}
	return p, nil
}

func readRole(s *cryptobyte.String, r *Role) bool {
	var v uint8
	if !readSmall(s, asn1.INTEGER, &v) {
		return false
	}
	*r = Role(v)
	return true
}

// Marshal implements cryptobyte.MarshalingValue.
func (p *ProvideSecurityCredentialDetails) Marshal(b *cryptobyte.Builder) error {
	addTLV(b, asn1.SEQUENCE, p.form, func(b *cryptobyte.Builder) {
		p.AuthorisingCell.marshalTagged(b, asn1.SEQUENCE)
		addSeqOf(b, asn1.SEQUENCE, p.rolesForm, p.Roles, func(b *cryptobyte.Builder, r *Role) {
			addUint(b, asn1.INTEGER, uint64(*r))
		})
	})
	return nil
}

// Bytes is the encoding.
func (p *ProvideSecurityCredentialDetails) Bytes() ([]byte, error) { return marshalValue(p) }

// ParseProvideSecurityCredentialDetailsResponse decodes a CS02a response.
func ParseProvideSecurityCredentialDetailsResponse(b []byte) (*ProvideSecurityCredentialDetailsResponse, error) {
	s := cryptobyte.String(bytes.Clone(b))
	r := new(ProvideSecurityCredentialDetailsResponse)
	var ok bool
	if r.Parties, ok = readSeqOf(&s, asn1.SEQUENCE, &r.form, readRemotePartyDetails); !ok || !s.Empty() {
		return nil, errorf("cs02a response: malformed SEQUENCE OF RemotePartyDetails")
	}
	return r, nil
}

func readRemotePartyDetails(s *cryptobyte.String, d *RemotePartyDetails) bool {
	var body cryptobyte.String
	var role, status uint8
	if !readTLV(s, asn1.SEQUENCE, &body, &d.form) || !readSmall(&body, asn1.INTEGER, &role) ||
		!readSmall(&body, asn1.ENUM, &status) {
		return false
	}
	d.Role, d.Status = Role(role), Status(status)
	if body.Empty() {
		return true
	}
	c := new(RemotePartyCredentials)
	var ok bool
	if !readUint(&body, asn1.INTEGER, &c.SeqNumber) {
		return false
	}
	if c.Cells, ok = readSeqOf(&body, asn1.SEQUENCE, &c.cellsForm, readCellContents); !ok {
		return false
	}
	d.Credentials = c
	return body.Empty()
}

func readCellContents(s *cryptobyte.String, c *CellContents) bool {
	var body cryptobyte.String
	return readTLV(s, asn1.SEQUENCE, &body, &c.form) && readKeyUsage(&body, &c.KeyUsage) &&
		readCellUsage(&body, &c.Usage, &c.ExplicitUsage) &&
		readEUI(&body, &c.SubjectUniqueID) && readKeyID(&body, &c.SubjectKeyID) && body.Empty()
}

// Marshal implements cryptobyte.MarshalingValue.
func (r *ProvideSecurityCredentialDetailsResponse) Marshal(b *cryptobyte.Builder) error {
	addSeqOf(b, asn1.SEQUENCE, r.form, r.Parties, func(b *cryptobyte.Builder, d *RemotePartyDetails) {
		addTLV(b, asn1.SEQUENCE, d.form, func(b *cryptobyte.Builder) {
			addUint(b, asn1.INTEGER, uint64(d.Role))
			addUint(b, asn1.ENUM, uint64(d.Status))
			if c := d.Credentials; c != nil {
				addUint(b, asn1.INTEGER, c.SeqNumber)
				addSeqOf(b, asn1.SEQUENCE, c.cellsForm, c.Cells, func(b *cryptobyte.Builder, v *CellContents) {
					addTLV(b, asn1.SEQUENCE, v.form, func(b *cryptobyte.Builder) {
						addKeyUsage(b, v.KeyUsage)
						addCellUsage(b, v.Usage, v.ExplicitUsage)
						addOctets(b, v.SubjectUniqueID[:])
						addOctets(b, v.SubjectKeyID[:])
					})
				})
			}
		})
	})
	return nil
}

// Bytes is the encoding.
func (r *ProvideSecurityCredentialDetailsResponse) Bytes() ([]byte, error) { return marshalValue(r) }
