package gbcs

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ecos-cos/ecos/eui"
)

// tagGeneralSigning is the DLMS General Signing APDU tag.
const tagGeneralSigning = 0xDF

// Fixed sizes in the General Signing header.
const (
	transactionIDLen = 9  // CRA flag + 8-octet originator counter
	systemTitleLen   = 8  // an EUI-64
	dateTimeLen      = 12 // DLMS date-time
	signatureLen     = 64 // ECDSA P-256 r‖s
)

// SignatureField says which of the three forms the General Signing signature
// field takes.
type SignatureField uint8

const (
	// SigAbsent: no signature field at all (DCC Boxed pre-commands before
	// 1.4.1, and our own unsigned messages before Sign).
	SigAbsent SignatureField = iota
	// SigNull: a single 00 octet; the DUIS pre-command form, and the ACB's
	// MAC-only commands.
	SigNull
	// SigPresent: 40 followed by the 64-octet r‖s signature.
	SigPresent
)

func (f SignatureField) String() string {
	switch f {
	case SigAbsent:
		return "absent"
	case SigNull:
		return "null"
	case SigPresent:
		return "present"
	}
	return "invalid"
}

// Message is a General Signing APDU (DF …): the GBCS grouping header, the
// ASN.1 or DLMS content, and the KRP signature field.
type Message struct {
	CRA        CRA
	Counter    uint64 // originator counter: the transaction-id after the CRA flag
	Originator eui.EUI
	Recipient  eui.EUI
	DateTime   *DateTime // nil when absent (every command; some responses)
	Code       MessageCode
	// OtherInfoExtra is whatever the other-information field carries after
	// the message code (supplementary remote party ID and counter, or a KA
	// certificate). CS02 messages leave it empty; it is kept raw.
	OtherInfoExtra []byte
	Content        []byte
	Sig            SignatureField
	Signature      [signatureLen]byte // meaningful only when Sig == SigPresent

	otherInfoForm, contentForm lenForm
}

// ParseMessage decodes a bare General Signing APDU, as devices send their
// responses and alerts. The whole input must be consumed.
func ParseMessage(b []byte) (*Message, error) {
	m := new(Message)
	// One private copy: the decoded slices share it, never the caller's buffer.
	s := cryptobyte.String(bytes.Clone(b))
	if err := m.unmarshal(&s); err != nil {
		return nil, err
	}
	return m, nil
}

// unmarshal reads a General Signing APDU that fills all of s.
func (m *Message) unmarshal(s *cryptobyte.String) error {
	var tag uint8
	if !s.ReadUint8(&tag) || tag != tagGeneralSigning {
		return errorf("general signing: want tag 0xDF")
	}
	var tid cryptobyte.String
	var cra uint8
	if !readShortOctets(s, &tid, transactionIDLen) || !tid.ReadUint8(&cra) || !tid.ReadUint64(&m.Counter) {
		return errorf("general signing: transaction-id must be 9 octets (CRA flag and counter)")
	}
	m.CRA = CRA(cra)
	if m.CRA < CRACommand || m.CRA > CRAAlert {
		return errorf("general signing: CRA flag %d is not 1, 2 or 3", cra)
	}
	var st cryptobyte.String
	if !readShortOctets(s, &st, systemTitleLen) {
		return errorf("general signing: originator system title must be 8 octets")
	}
	copy(m.Originator[:], st)
	if !readShortOctets(s, &st, systemTitleLen) {
		return errorf("general signing: recipient system title must be 8 octets")
	}
	copy(m.Recipient[:], st)
	var dt cryptobyte.String
	var form lenForm
	if !readLength(s, &dt, &form) || form != 0 || (len(dt) != 0 && len(dt) != dateTimeLen) {
		return errorf("general signing: date-time must be absent (00) or 12 octets")
	}
	if len(dt) == dateTimeLen {
		m.DateTime = new(DateTime)
		copy(m.DateTime[:], dt)
	}
	var oi cryptobyte.String
	var code uint16
	if !readLength(s, &oi, &m.otherInfoForm) || !oi.ReadUint16(&code) {
		return errorf("general signing: other-information must hold at least a message code")
	}
	m.Code = MessageCode(code)
	if len(oi) > 0 {
		m.OtherInfoExtra = oi
	}
	var content cryptobyte.String
	if !readLength(s, &content, &m.contentForm) {
		return errorf("general signing: content length malformed or beyond the frame")
	}
	m.Content = content
	if s.Empty() {
		m.Sig = SigAbsent
		return nil
	}
	var sigLen uint8
	if !s.ReadUint8(&sigLen) {
		return errorf("general signing: missing signature length")
	}
	switch sigLen {
	case 0:
		m.Sig = SigNull
	case signatureLen:
		var sig []byte
		if !s.ReadBytes(&sig, signatureLen) {
			return errorf("general signing: signature truncated")
		}
		m.Sig = SigPresent
		copy(m.Signature[:], sig)
	default:
		return errorf("general signing: signature length %d is neither 0 nor 64", sigLen)
	}
	if !s.Empty() {
		return errorf("general signing: %d trailing octets after the signature", len(*s))
	}
	return nil
}

// readShortOctets reads a one-octet length that must equal n, then n octets:
// the fixed-size header fields always use the short form.
func readShortOctets(s *cryptobyte.String, out *cryptobyte.String, n int) bool {
	return s.ReadUint8LengthPrefixed(out) && len(*out) == n
}

// Marshal implements cryptobyte.MarshalingValue.
func (m *Message) Marshal(b *cryptobyte.Builder) error {
	m.marshalUnsigned(b)
	switch m.Sig {
	case SigAbsent:
	case SigNull:
		b.AddUint8(0)
	case SigPresent:
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.Signature[:]) })
	default:
		return errorf("general signing: invalid signature field %d", m.Sig)
	}
	return nil
}

// marshalUnsigned writes the APDU up to the end of the content: the DF tag
// followed by exactly the bytes the KRP signature covers.
func (m *Message) marshalUnsigned(b *cryptobyte.Builder) {
	b.AddUint8(tagGeneralSigning)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(m.CRA))
		b.AddUint64(m.Counter)
	})
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.Originator[:]) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.Recipient[:]) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		if m.DateTime != nil {
			b.AddBytes(m.DateTime[:])
		}
	})
	addLength(b, m.otherInfoForm, func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Code))
		b.AddBytes(m.OtherInfoExtra)
	})
	addLengthBytes(b, m.contentForm, m.Content)
}

// headerRoom bounds what a General Signing or Ciphering header adds to the
// content: tags, fixed fields, lengths, signature and MAC.
const headerRoom = 160

func (m *Message) sizeHint() int { return len(m.Content) + len(m.OtherInfoExtra) + headerRoom }

// Bytes is the encoded APDU.
func (m *Message) Bytes() ([]byte, error) { return marshalValue(m) }
