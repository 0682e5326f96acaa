package gbcs

import (
	"bytes"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// UpdateSecurityCredentialsAlert is the alert (message code 0x00CB, CRA 3) a
// device sends when a future-dated CS02b command has executed, successfully
// (0x8F66) or not (0x8F67):
//
//	SEQUENCE { alertCode INTEGER, executionDateTime GeneralizedTime,
//	           executionOutcome ExecutionOutcome }
type UpdateSecurityCredentialsAlert struct {
	AlertCode         AlertCode
	ExecutionDateTime time.Time
	Outcome           ExecutionOutcome

	form lenForm
}

// ParseUpdateSecurityCredentialsAlert decodes a 0x00CB alert payload.
func ParseUpdateSecurityCredentialsAlert(b []byte) (*UpdateSecurityCredentialsAlert, error) {
	s := cryptobyte.String(bytes.Clone(b))
	a := new(UpdateSecurityCredentialsAlert)
	var body cryptobyte.String
	var code uint64
	if !readTLV(&s, asn1.SEQUENCE, &body, &a.form) || !s.Empty() {
		return nil, errorf("cs02b alert: want one SEQUENCE")
	}
	if !readUint(&body, asn1.INTEGER, &code) || code > 0xFFFF {
		return nil, errorf("cs02b alert: malformed alertCode")
	}
	a.AlertCode = AlertCode(code)
	if !body.ReadASN1GeneralizedTime(&a.ExecutionDateTime) {
		return nil, errorf("cs02b alert: malformed executionDateTime")
	}
	if !readExecutionOutcome(&body, &a.Outcome) || !body.Empty() {
		return nil, errorf("cs02b alert: malformed executionOutcome")
	}
	return a, nil
}

// Marshal implements cryptobyte.MarshalingValue.
func (a *UpdateSecurityCredentialsAlert) Marshal(b *cryptobyte.Builder) error {
	addTLV(b, asn1.SEQUENCE, a.form, func(b *cryptobyte.Builder) {
		addUint(b, asn1.INTEGER, uint64(a.AlertCode))
		b.AddASN1GeneralizedTime(a.ExecutionDateTime)
		b.AddValue(&a.Outcome)
	})
	return nil
}

// Bytes is the encoding.
func (a *UpdateSecurityCredentialsAlert) Bytes() ([]byte, error) { return marshalValue(a) }
