package gbcs

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
)

// UpdateSecurityCredentialsResponse is the device's CS02b response:
//
//	SEQUENCE { commandAccepted NULL, executionOutcome ExecutionOutcome OPTIONAL }
//
// Immediate commands get the outcome at once; future-dated and cancellation
// commands get a bare acceptance (30 02 05 00) and, later, an alert.
type UpdateSecurityCredentialsResponse struct {
	Outcome *ExecutionOutcome // nil when only acceptance is reported

	form lenForm
}

// ExecutionOutcome reports what the device did, per trust-anchor cell.
//
//	SEQUENCE {
//	  authorisingRemotePartySeqNumber INTEGER,
//	  credentialsReplacementMode      INTEGER,
//	  remotePartySeqNumberChanges     SEQUENCE OF RemotePartySeqNumberChange,
//	  replacementOutcomes             SEQUENCE OF ReplacementOutcome }
type ExecutionOutcome struct {
	SeqNumber        uint64
	Mode             Mode
	SeqNumberChanges []SeqNumberChange
	Outcomes         []ReplacementOutcome

	form, changesForm, outcomesForm lenForm
}

// ReplacementOutcome is one cell's result. A command can partly fail (RTDS
// 6.15.1: the KA cell reports noTrustAnchor while the others succeed), so
// callers must look at every outcome, not only the first.
type ReplacementOutcome struct {
	Cell                     Cell
	Status                   Status
	ExistingSubjectUniqueID  eui.EUI
	ExistingSubjectKeyID     KeyID
	ReplacingSubjectUniqueID eui.EUI
	ReplacingSubjectKeyID    KeyID

	form lenForm
}

// ParseUpdateSecurityCredentialsResponse decodes a CS02b response payload.
func ParseUpdateSecurityCredentialsResponse(b []byte) (*UpdateSecurityCredentialsResponse, error) {
	s := cryptobyte.String(bytes.Clone(b))
	r := new(UpdateSecurityCredentialsResponse)
	var body cryptobyte.String
	if !readTLV(&s, asn1.SEQUENCE, &body, &r.form) || !s.Empty() {
		return nil, errorf("cs02b response: want one SEQUENCE")
	}
	if !readNull(&body) {
		return nil, errorf("cs02b response: want commandAccepted NULL")
	}
	if !body.Empty() {
		r.Outcome = new(ExecutionOutcome)
		if !readExecutionOutcome(&body, r.Outcome) || !body.Empty() {
			return nil, errorf("cs02b response: malformed executionOutcome")
		}
	}
	return r, nil
}

func readExecutionOutcome(s *cryptobyte.String, o *ExecutionOutcome) bool {
	var body cryptobyte.String
	var mode uint8
	if !readTLV(s, asn1.SEQUENCE, &body, &o.form) || !readUint(&body, asn1.INTEGER, &o.SeqNumber) ||
		!readSmall(&body, asn1.INTEGER, &mode) {
		return false
	}
	o.Mode = Mode(mode)
	var ok bool
	if o.SeqNumberChanges, ok = readSeqOf(&body, asn1.SEQUENCE, &o.changesForm, readSeqNumberChange); !ok {
		return false
	}
	if o.Outcomes, ok = readSeqOf(&body, asn1.SEQUENCE, &o.outcomesForm, readReplacementOutcome); !ok {
		return false
	}
	return body.Empty()
}

func readReplacementOutcome(s *cryptobyte.String, o *ReplacementOutcome) bool {
	var body cryptobyte.String
	var status uint8
	if !readTLV(s, asn1.SEQUENCE, &body, &o.form) || !readCell(&body, asn1.SEQUENCE, &o.Cell) ||
		!readSmall(&body, asn1.ENUM, &status) ||
		!readEUI(&body, &o.ExistingSubjectUniqueID) || !readKeyID(&body, &o.ExistingSubjectKeyID) ||
		!readEUI(&body, &o.ReplacingSubjectUniqueID) || !readKeyID(&body, &o.ReplacingSubjectKeyID) {
		return false
	}
	o.Status = Status(status)
	return body.Empty()
}

// Marshal implements cryptobyte.MarshalingValue.
func (r *UpdateSecurityCredentialsResponse) Marshal(b *cryptobyte.Builder) error {
	addTLV(b, asn1.SEQUENCE, r.form, func(b *cryptobyte.Builder) {
		b.AddASN1NULL()
		if r.Outcome != nil {
			b.AddValue(r.Outcome)
		}
	})
	return nil
}

// Bytes is the encoding.
func (r *UpdateSecurityCredentialsResponse) Bytes() ([]byte, error) { return marshalValue(r) }

// Marshal implements cryptobyte.MarshalingValue.
func (o *ExecutionOutcome) Marshal(b *cryptobyte.Builder) error {
	addTLV(b, asn1.SEQUENCE, o.form, func(b *cryptobyte.Builder) {
		addUint(b, asn1.INTEGER, o.SeqNumber)
		addUint(b, asn1.INTEGER, uint64(o.Mode))
		addSeqOf(b, asn1.SEQUENCE, o.changesForm, o.SeqNumberChanges, addSeqNumberChange)
		addSeqOf(b, asn1.SEQUENCE, o.outcomesForm, o.Outcomes, func(b *cryptobyte.Builder, v *ReplacementOutcome) {
			addTLV(b, asn1.SEQUENCE, v.form, func(b *cryptobyte.Builder) {
				v.Cell.marshalTagged(b, asn1.SEQUENCE)
				addUint(b, asn1.ENUM, uint64(v.Status))
				addOctets(b, v.ExistingSubjectUniqueID[:])
				addOctets(b, v.ExistingSubjectKeyID[:])
				addOctets(b, v.ReplacingSubjectUniqueID[:])
				addOctets(b, v.ReplacingSubjectKeyID[:])
			})
		})
	})
	return nil
}

// OutcomeFor starts the execution outcome a device reports for cmd: it
// echoes the authorising sequence number and mode, and lists the sequence
// number changes the command asked for (the authorising party's own new
// floors from [4]/[5] first, then [6]). The caller appends one
// ReplacementOutcome per replacement. This is what the RTDS devices do for
// modes 2, 6 and 7 (inference for the other modes).
func OutcomeFor(cmd *UpdateSecurityCredentials) *ExecutionOutcome {
	c := &cmd.Control
	o := &ExecutionOutcome{SeqNumber: c.SeqNumber, Mode: c.Mode, SeqNumberChanges: []SeqNumberChange{}}
	if c.FloorSeqNumber != nil && c.AuthorisingCell != nil {
		o.SeqNumberChanges = append(o.SeqNumberChanges, SeqNumberChange{
			Role:                      c.AuthorisingCell.Role,
			FloorSeqNumber:            *c.FloorSeqNumber,
			SpecialistFloorSeqNumbers: cloneSpecialists(c.SpecialistFloorSeqNumbers),
		})
	}
	for _, ch := range c.OtherSeqNumberChanges {
		o.SeqNumberChanges = append(o.SeqNumberChanges, SeqNumberChange{
			Role:                      ch.Role,
			FloorSeqNumber:            ch.FloorSeqNumber,
			SpecialistFloorSeqNumbers: cloneSpecialists(ch.SpecialistFloorSeqNumbers),
		})
	}
	return o
}

// cloneSpecialists copies a list, dropping recorded length forms so the
// device's encoding is its own (minimal) one.
func cloneSpecialists(in []SpecialistSeqNumber) []SpecialistSeqNumber {
	if in == nil {
		return nil
	}
	out := make([]SpecialistSeqNumber, len(in))
	for i, v := range in {
		out[i] = SpecialistSeqNumber{Usage: v.Usage, SeqNumber: v.SeqNumber}
	}
	return out
}
