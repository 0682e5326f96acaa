package gbcs

import (
	"bytes"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// UpdateSecurityCredentials is the CS02b command payload, for every
// replacement mode (0–9): the ECoS Party sends mode 7 (SR 6.23,
// supplierByTransCoS) and mode 6 (its own TransCoS credential migration).
//
//	UpdateSecurityCredentialsCommand ::= SEQUENCE {
//	  authorisingRemotePartyControl  AuthorisingRemotePartyControl,
//	  replacements                   SEQUENCE OF TrustAnchorReplacement,
//	  certificationPathCertificates  SEQUENCE OF Certificate,
//	  executionDateTime              GeneralizedTime OPTIONAL }
type UpdateSecurityCredentials struct {
	Control      Control
	Replacements []Replacement
	// CertificationPath holds DER certificates, copied verbatim.
	CertificationPath [][]byte
	// ExecutionDateTime is nil for immediate execution. A future date makes
	// the command future-dated; CancellationTime cancels a pending one.
	// GeneralizedTime carries whole seconds only.
	ExecutionDateTime *time.Time

	form, replacementsForm, pathForm lenForm
}

// CancellationTime is the executionDateTime (99991231235959Z) that cancels
// a pending future-dated CS02b command; DUIS asks for it with
// 3000-12-31T00:00:00Z.
func CancellationTime() time.Time { return time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) }

// CPVChecks is the optional applyTimeBasedCPVChecks flag. Its zero value is
// "absent", which the device reads as apply.
type CPVChecks uint8

const (
	CPVDefault  CPVChecks = iota // [1] absent: time-based checks apply
	CPVApply                     // [1] present, apply(0)
	CPVDisapply                  // [1] present, disapply(1): 81 01 01
)

func (c CPVChecks) String() string {
	switch c {
	case CPVDefault:
		return "apply (default)"
	case CPVApply:
		return "apply"
	case CPVDisapply:
		return "disapply"
	}
	return "invalid"
}

// Control is the AuthorisingRemotePartyControl block. Implicit context tags:
//
//	SEQUENCE {
//	  credentialsReplacementMode                 INTEGER,
//	  plainTextSymmetricKey                  [0] OCTET STRING OPTIONAL,
//	  applyTimeBasedCPVChecks                [1] INTEGER OPTIONAL,
//	  authorisingRemotePartyTACellIdentifier [2] TrustAnchorCellIdentifier OPTIONAL,
//	  authorisingRemotePartySeqNumber        [3] INTEGER,
//	  newRemotePartyFloorSeqNumber           [4] INTEGER OPTIONAL,
//	  newRemotePartySpecialistFloorSeqNumber [5] SEQUENCE OF SpecialistSeqNumber OPTIONAL,
//	  otherRemotePartySeqNumberChanges       [6] SEQUENCE OF RemotePartySeqNumberChange OPTIONAL }
type Control struct {
	Mode                  Mode
	PlainTextSymmetricKey []byte // nil when absent
	TimeBasedCPVChecks    CPVChecks
	AuthorisingCell       *Cell // nil when absent
	// SeqNumber is the authorising party's sequence number; it equals the
	// grouping-header originator counter in every RTDS command.
	SeqNumber                 uint64
	FloorSeqNumber            *uint64               // nil when absent
	SpecialistFloorSeqNumbers []SpecialistSeqNumber // nil when absent
	OtherSeqNumberChanges     []SeqNumberChange     // nil when absent

	form, specialistForm, otherForm lenForm
}

// SpecialistSeqNumber ::= SEQUENCE { seqNumberUsage INTEGER, seqNumber INTEGER }
type SpecialistSeqNumber struct {
	Usage     SeqNumberUsage
	SeqNumber uint64

	form lenForm
}

// SeqNumberChange is a RemotePartySeqNumberChange: how the command resets
// another party's floor sequence numbers (6.23 resets the supplier's to 0).
//
//	SEQUENCE { remotePartyRole INTEGER, floorSeqNumber INTEGER,
//	           specialistFloorSeqNumbers SEQUENCE OF SpecialistSeqNumber OPTIONAL }
type SeqNumberChange struct {
	Role                      Role
	FloorSeqNumber            uint64
	SpecialistFloorSeqNumbers []SpecialistSeqNumber // nil when absent

	form, specialistForm lenForm
}

// Replacement is a TrustAnchorReplacement: a certificate and the cell it goes
// into.
type Replacement struct {
	Certificate []byte // DER, copied verbatim
	Target      Cell

	form lenForm
}

// Context tags of the control block (implicit tagging: 0x80 context class,
// 0x20 constructed).
const (
	tagSymmetricKey    asn1.Tag = 0x80 // [0] OCTET STRING
	tagCPVChecks       asn1.Tag = 0x81 // [1] INTEGER
	tagAuthorisingCell asn1.Tag = 0xA2 // [2] TrustAnchorCellIdentifier
	tagSeqNumber       asn1.Tag = 0x83 // [3] INTEGER
	tagFloorSeqNumber  asn1.Tag = 0x84 // [4] INTEGER
	tagSpecialistFloor asn1.Tag = 0xA5 // [5] SEQUENCE OF
	tagOtherSeqChanges asn1.Tag = 0xA6 // [6] SEQUENCE OF
)

// ParseUpdateSecurityCredentials decodes a CS02b command payload.
func ParseUpdateSecurityCredentials(b []byte) (*UpdateSecurityCredentials, error) {
	s := cryptobyte.String(bytes.Clone(b))
	u := new(UpdateSecurityCredentials)
	var body cryptobyte.String
	if !readTLV(&s, asn1.SEQUENCE, &body, &u.form) || !s.Empty() {
		return nil, errorf("cs02b command: want one SEQUENCE")
	}
	if !readControl(&body, &u.Control) {
		return nil, errorf("cs02b command: malformed authorisingRemotePartyControl")
	}
	var ok bool
	if u.Replacements, ok = readSeqOf(&body, asn1.SEQUENCE, &u.replacementsForm, readReplacement); !ok {
		return nil, errorf("cs02b command: malformed replacements")
	}
	if u.CertificationPath, ok = readSeqOf(&body, asn1.SEQUENCE, &u.pathForm, readCertificate); !ok {
		return nil, errorf("cs02b command: malformed certificationPathCertificates")
	}
	if body.PeekASN1Tag(asn1.GeneralizedTime) {
		t := new(time.Time)
		if !body.ReadASN1GeneralizedTime(t) {
			return nil, errorf("cs02b command: malformed executionDateTime")
		}
		u.ExecutionDateTime = t
	}
	if !body.Empty() {
		return nil, errorf("cs02b command: %d unexpected trailing octets", len(body))
	}
	return u, nil
}

func readControl(s *cryptobyte.String, c *Control) bool {
	var body cryptobyte.String
	var mode uint8
	if !readTLV(s, asn1.SEQUENCE, &body, &c.form) || !readSmall(&body, asn1.INTEGER, &mode) {
		return false
	}
	c.Mode = Mode(mode)
	if body.PeekASN1Tag(tagSymmetricKey) {
		var k cryptobyte.String
		if !body.ReadASN1(&k, tagSymmetricKey) {
			return false
		}
		c.PlainTextSymmetricKey = append([]byte{}, k...)
	}
	if body.PeekASN1Tag(tagCPVChecks) {
		var v uint8
		if !readSmall(&body, tagCPVChecks, &v) || v > 1 {
			return false
		}
		c.TimeBasedCPVChecks = CPVApply + CPVChecks(v)
	}
	if body.PeekASN1Tag(tagAuthorisingCell) {
		c.AuthorisingCell = new(Cell)
		if !readCell(&body, tagAuthorisingCell, c.AuthorisingCell) {
			return false
		}
	}
	if !readUint(&body, tagSeqNumber, &c.SeqNumber) {
		return false
	}
	if body.PeekASN1Tag(tagFloorSeqNumber) {
		c.FloorSeqNumber = new(uint64)
		if !readUint(&body, tagFloorSeqNumber, c.FloorSeqNumber) {
			return false
		}
	}
	var ok bool
	if body.PeekASN1Tag(tagSpecialistFloor) {
		if c.SpecialistFloorSeqNumbers, ok = readSeqOf(&body, tagSpecialistFloor, &c.specialistForm, readSpecialist); !ok {
			return false
		}
	}
	if body.PeekASN1Tag(tagOtherSeqChanges) {
		if c.OtherSeqNumberChanges, ok = readSeqOf(&body, tagOtherSeqChanges, &c.otherForm, readSeqNumberChange); !ok {
			return false
		}
	}
	return body.Empty()
}

func readSpecialist(s *cryptobyte.String, v *SpecialistSeqNumber) bool {
	var body cryptobyte.String
	var usage uint8
	if !readTLV(s, asn1.SEQUENCE, &body, &v.form) || !readSmall(&body, asn1.INTEGER, &usage) ||
		!readUint(&body, asn1.INTEGER, &v.SeqNumber) || !body.Empty() {
		return false
	}
	v.Usage = SeqNumberUsage(usage)
	return true
}

func readSeqNumberChange(s *cryptobyte.String, v *SeqNumberChange) bool {
	var body cryptobyte.String
	var role uint8
	if !readTLV(s, asn1.SEQUENCE, &body, &v.form) || !readSmall(&body, asn1.INTEGER, &role) ||
		!readUint(&body, asn1.INTEGER, &v.FloorSeqNumber) {
		return false
	}
	v.Role = Role(role)
	if body.PeekASN1Tag(asn1.SEQUENCE) {
		var ok bool
		if v.SpecialistFloorSeqNumbers, ok = readSeqOf(&body, asn1.SEQUENCE, &v.specialistForm, readSpecialist); !ok {
			return false
		}
	}
	return body.Empty()
}

func readReplacement(s *cryptobyte.String, r *Replacement) bool {
	var body cryptobyte.String
	return readTLV(s, asn1.SEQUENCE, &body, &r.form) && readRawTLV(&body, asn1.SEQUENCE, &r.Certificate) &&
		readCell(&body, asn1.SEQUENCE, &r.Target) && body.Empty()
}

func readCertificate(s *cryptobyte.String, c *[]byte) bool { return readRawTLV(s, asn1.SEQUENCE, c) }

// Marshal implements cryptobyte.MarshalingValue.
func (u *UpdateSecurityCredentials) Marshal(b *cryptobyte.Builder) error {
	for i := range u.Replacements {
		if !isRawTLV(u.Replacements[i].Certificate, asn1.SEQUENCE) {
			return errorf("cs02b command: replacement %d certificate is not one DER SEQUENCE", i)
		}
	}
	for i, c := range u.CertificationPath {
		if !isRawTLV(c, asn1.SEQUENCE) {
			return errorf("cs02b command: certification path %d is not one DER SEQUENCE", i)
		}
	}
	if err := u.Control.check(); err != nil {
		return err
	}
	addTLV(b, asn1.SEQUENCE, u.form, func(b *cryptobyte.Builder) {
		u.Control.marshal(b)
		addSeqOf(b, asn1.SEQUENCE, u.replacementsForm, u.Replacements, func(b *cryptobyte.Builder, r *Replacement) {
			addTLV(b, asn1.SEQUENCE, r.form, func(b *cryptobyte.Builder) {
				b.AddBytes(r.Certificate)
				r.Target.marshalTagged(b, asn1.SEQUENCE)
			})
		})
		addSeqOf(b, asn1.SEQUENCE, u.pathForm, u.CertificationPath, func(b *cryptobyte.Builder, c *[]byte) {
			b.AddBytes(*c)
		})
		if u.ExecutionDateTime != nil {
			b.AddASN1GeneralizedTime(*u.ExecutionDateTime)
		}
	})
	return nil
}

// Bytes is the DER (or recorded) encoding.
func (u *UpdateSecurityCredentials) Bytes() ([]byte, error) { return marshalValue(u) }

func (u *UpdateSecurityCredentials) sizeHint() int {
	n := 256 + len(u.Control.PlainTextSymmetricKey)
	for i := range u.Replacements {
		n += len(u.Replacements[i].Certificate) + 32
	}
	for _, c := range u.CertificationPath {
		n += len(c) + 8
	}
	return n
}

func (c *Control) check() error {
	if c.TimeBasedCPVChecks > CPVDisapply {
		return errorf("cs02b command: invalid applyTimeBasedCPVChecks %d", c.TimeBasedCPVChecks)
	}
	return nil
}

func (c *Control) marshal(b *cryptobyte.Builder) {
	addTLV(b, asn1.SEQUENCE, c.form, func(b *cryptobyte.Builder) {
		addUint(b, asn1.INTEGER, uint64(c.Mode))
		if c.PlainTextSymmetricKey != nil {
			b.AddASN1(tagSymmetricKey, func(b *cryptobyte.Builder) { b.AddBytes(c.PlainTextSymmetricKey) })
		}
		if c.TimeBasedCPVChecks != CPVDefault {
			addUint(b, tagCPVChecks, uint64(c.TimeBasedCPVChecks-CPVApply))
		}
		if c.AuthorisingCell != nil {
			c.AuthorisingCell.marshalTagged(b, tagAuthorisingCell)
		}
		addUint(b, tagSeqNumber, c.SeqNumber)
		if c.FloorSeqNumber != nil {
			addUint(b, tagFloorSeqNumber, *c.FloorSeqNumber)
		}
		if c.SpecialistFloorSeqNumbers != nil {
			addSeqOf(b, tagSpecialistFloor, c.specialistForm, c.SpecialistFloorSeqNumbers, addSpecialist)
		}
		if c.OtherSeqNumberChanges != nil {
			addSeqOf(b, tagOtherSeqChanges, c.otherForm, c.OtherSeqNumberChanges, addSeqNumberChange)
		}
	})
}

func addSpecialist(b *cryptobyte.Builder, v *SpecialistSeqNumber) {
	addTLV(b, asn1.SEQUENCE, v.form, func(b *cryptobyte.Builder) {
		addUint(b, asn1.INTEGER, uint64(v.Usage))
		addUint(b, asn1.INTEGER, v.SeqNumber)
	})
}

func addSeqNumberChange(b *cryptobyte.Builder, v *SeqNumberChange) {
	addTLV(b, asn1.SEQUENCE, v.form, func(b *cryptobyte.Builder) {
		addUint(b, asn1.INTEGER, uint64(v.Role))
		addUint(b, asn1.INTEGER, v.FloorSeqNumber)
		if v.SpecialistFloorSeqNumbers != nil {
			addSeqOf(b, asn1.SEQUENCE, v.specialistForm, v.SpecialistFloorSeqNumbers, addSpecialist)
		}
	})
}
