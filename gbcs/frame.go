package gbcs

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// tagGeneralCiphering is the DLMS General Ciphering APDU tag.
const tagGeneralCiphering = 0xDD

// macLen is the ACB's GMAC: a GCM tag truncated to 12 octets.
const macLen = 12

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

func (f *Frame) sizeHint() int { return f.Message.sizeHint() + headerRoom }

// Bytes is the encoded frame.
func (f *Frame) Bytes() ([]byte, error) { return marshalValue(f) }
