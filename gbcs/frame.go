package gbcs

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ecos-cos/ecos/eui"
)

// Tags of the two DLMS APDUs GBCS uses.
const (
	tagGeneralSigning   = 0xDF
	tagGeneralCiphering = 0xDD
)

// Fixed sizes in the General Signing header.
const (
	transactionIDLen = 9  // CRA flag + 8-octet originator counter
	systemTitleLen   = 8  // an EUI-64
	dateTimeLen      = 12 // DLMS date-time
	signatureLen     = 64 // ECDSA P-256 r‖s
	macLen           = 12 // truncated GCM tag
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

func (f *Frame) sizeHint() int { return f.Message.sizeHint() + headerRoom }

// Bytes is the encoded APDU.
func (m *Message) Bytes() ([]byte, error) { return marshalValue(m) }

// Ciphering is the General Ciphering wrapper (DD …) the ACB puts around a
// command to add its GMAC. GBCS uses it in authenticated-only mode (security
// control 0x11): the General Signing APDU inside is plaintext.
type Ciphering struct {
	// The DLMS general-ciphering header fields. They are empty in every
	// MAC-only GBCS frame, because the inner APDU carries the addressing;
	// they are kept raw so that unusual frames still round-trip.
	TransactionID, Originator, Recipient, DateTime, OtherInfo []byte

	SecurityControl   uint8  // always 0x11: authentication only, suite 1
	InvocationCounter uint32 // 0 in every GBCS frame seen
	MAC               [macLen]byte

	headerForms [5]lenForm
	contentForm lenForm
}

// SecurityControlAuthOnly is the only security control GBCS MAC-only frames
// use. Encrypted frames (0x31) are out of scope: their inner APDU is not
// readable without the payload key.
const SecurityControlAuthOnly = 0x11

// Frame is what travels over the WAN: a General Signing APDU, bare (device
// responses and alerts) or inside a General Ciphering wrapper (commands after
// the ACB has added its MAC).
type Frame struct {
	Ciphering *Ciphering // nil for a bare DF… frame
	Message   Message
}

// ParseFrame decodes either form of frame. The whole input must be consumed.
func ParseFrame(b []byte) (*Frame, error) {
	s := cryptobyte.String(bytes.Clone(b))
	f := new(Frame)
	if len(s) > 0 && s[0] == tagGeneralSigning {
		if err := f.Message.unmarshal(&s); err != nil {
			return nil, err
		}
		return f, nil
	}
	var tag uint8
	if !s.ReadUint8(&tag) || tag != tagGeneralCiphering {
		return nil, errorf("frame: want tag 0xDD (general ciphering) or 0xDF (general signing)")
	}
	c := new(Ciphering)
	fields := []*[]byte{&c.TransactionID, &c.Originator, &c.Recipient, &c.DateTime, &c.OtherInfo}
	for i, field := range fields {
		var v cryptobyte.String
		if !readLength(&s, &v, &c.headerForms[i]) {
			return nil, errorf("general ciphering: header field %d truncated", i)
		}
		if len(v) > 0 {
			*field = v
		}
	}
	var keyInfo uint8
	if !s.ReadUint8(&keyInfo) {
		return nil, errorf("general ciphering: missing key-info")
	}
	if keyInfo != 0 {
		return nil, errorf("general ciphering: key-info present; only MAC-only frames (no key-info) are supported")
	}
	var body cryptobyte.String
	if !readLength(&s, &body, &c.contentForm) || !s.Empty() {
		return nil, errorf("general ciphering: ciphered content length does not match the frame")
	}
	if !body.ReadUint8(&c.SecurityControl) || !body.ReadUint32(&c.InvocationCounter) {
		return nil, errorf("general ciphering: security header truncated")
	}
	if c.SecurityControl != SecurityControlAuthOnly {
		return nil, errorf("general ciphering: security control 0x%02X; only authenticated (0x11) frames are supported", c.SecurityControl)
	}
	if len(body) < macLen {
		return nil, errorf("general ciphering: no room for the 12-octet MAC")
	}
	apdu := body[:len(body)-macLen]
	copy(c.MAC[:], body[len(body)-macLen:])
	if err := f.Message.unmarshal(&apdu); err != nil {
		return nil, err
	}
	f.Ciphering = c
	return f, nil
}

// Marshal implements cryptobyte.MarshalingValue.
func (f *Frame) Marshal(b *cryptobyte.Builder) error {
	c := f.Ciphering
	if c == nil {
		b.AddValue(&f.Message)
		return nil
	}
	b.AddUint8(tagGeneralCiphering)
	for i, field := range [][]byte{c.TransactionID, c.Originator, c.Recipient, c.DateTime, c.OtherInfo} {
		addLength(b, c.headerForms[i], func(b *cryptobyte.Builder) { b.AddBytes(field) })
	}
	b.AddUint8(0) // key-info absent
	addLength(b, c.contentForm, func(b *cryptobyte.Builder) {
		b.AddUint8(c.SecurityControl)
		b.AddUint32(c.InvocationCounter)
		b.AddValue(&f.Message)
		b.AddBytes(c.MAC[:])
	})
	return nil
}

// Bytes is the encoded frame.
func (f *Frame) Bytes() ([]byte, error) { return marshalValue(f) }
