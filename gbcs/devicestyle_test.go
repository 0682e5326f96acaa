package gbcs

import "golang.org/x/crypto/cryptobyte"

// TwoOctetLengths re-encodes a DER payload the way the RTDS devices write
// theirs: every constructed element with 128 or more octets of content gets
// a two-octet long-form length (30 82 00 CA) where DER would use 81 CA.
// Primitive elements keep their encoding. A device simulator uses it so that
// its responses and alerts match the RTDS ones byte for byte; it is meant
// for device payloads, never for commands (it would rewrite certificates,
// which must be copied verbatim).
func TwoOctetLengths(der []byte) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, len(der)+32))
	s := cryptobyte.String(der)
	if !rewriteLengths(b, &s, 0) {
		return nil, errorf("two-octet lengths: input is not a sequence of BER elements")
	}
	return b.Bytes()
}

// maxRewriteDepth bounds the recursion; GBCS payloads nest about six deep.
const maxRewriteDepth = 32

const constructedBit = 0x20

func rewriteLengths(b *cryptobyte.Builder, s *cryptobyte.String, depth int) bool {
	if depth > maxRewriteDepth {
		return false
	}
	for !s.Empty() {
		var tag uint8
		var body cryptobyte.String
		var form lenForm
		if !s.ReadUint8(&tag) || tag&0x1f == 0x1f || !readLength(s, &body, &form) {
			return false
		}
		b.AddUint8(tag)
		if tag&constructedBit == 0 {
			addLengthBytes(b, form, body)
			continue
		}
		inner := cryptobyte.NewBuilder(nil)
		if !rewriteLengths(inner, &body, depth+1) {
			return false
		}
		content, err := inner.Bytes()
		if err != nil {
			return false
		}
		if len(content) >= 0x80 {
			form = 2
		} else {
			form = 0
		}
		addLengthBytes(b, form, content)
	}
	return true
}
