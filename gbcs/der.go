package gbcs

// The GBCS wire formats use BER/DER-style definite lengths in two places: the
// DLMS framing (octet-string lengths in the General Ciphering and General
// Signing APDUs) and the ASN.1 payloads. cryptobyte's ASN.1 helpers accept
// only DER's minimal lengths, but real devices write `30 82 00 CA` (a
// two-octet length where one would do) in their responses. The helpers here
// read any definite length, record how it was written in a lenForm, and
// write it back the same way, so a parsed value re-encodes to its input.
// Lengths are always written by cryptobyte's length-prefixed builders; no
// code in this package computes a length byte itself.

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// lenForm records how a BER definite length was written. The zero value is
// the minimal (DER) form, which is what builders produce; n in 1..4 means the
// long form with exactly n length octets, kept only when it is not minimal.
type lenForm uint8

const maxLenForm lenForm = 4

// minimalForm is the DER length form for a content of n bytes.
func minimalForm(n uint64) lenForm {
	switch {
	case n < 0x80:
		return 0
	case n <= 0xff:
		return 1
	case n <= 0xffff:
		return 2
	case n <= 0xffffff:
		return 3
	default:
		return 4
	}
}

// readLength reads a BER definite length (X.690 §8.1.3) followed by the
// content it announces. It refuses the indefinite form and lengths of more
// than four octets, which no GBCS frame can need.
func readLength(s *cryptobyte.String, out *cryptobyte.String, form *lenForm) bool {
	var first uint8
	if !s.ReadUint8(&first) {
		return false
	}
	var n uint32
	f := lenForm(0)
	switch {
	case first < 0x80:
		n = uint32(first)
	case first == 0x81:
		var v uint8
		if !s.ReadUint8(&v) {
			return false
		}
		n, f = uint32(v), 1
	case first == 0x82:
		var v uint16
		if !s.ReadUint16(&v) {
			return false
		}
		n, f = uint32(v), 2
	case first == 0x83:
		if !s.ReadUint24(&n) {
			return false
		}
		f = 3
	case first == 0x84:
		if !s.ReadUint32(&n) {
			return false
		}
		f = 4
	default:
		return false
	}
	if uint64(n) > uint64(len(*s)) || !s.ReadBytes((*[]byte)(out), int(n)) {
		return false
	}
	if f == minimalForm(uint64(n)) {
		f = 0
	}
	*form = f
	return true
}

// addLength writes the length of what f adds, in the given form, followed by
// the content. For the minimal form the content is built first so that
// cryptobyte can pick the prefix size; for a recorded long form cryptobyte
// writes the length into exactly that many octets (and fails if it does not
// fit).
func addLength(b *cryptobyte.Builder, form lenForm, f cryptobyte.BuilderContinuation) {
	if form == 0 {
		child := cryptobyte.NewBuilder(nil)
		f(child)
		body, err := child.Bytes()
		if err != nil {
			b.SetError(err)
			return
		}
		form = minimalForm(uint64(len(body)))
		f = func(b *cryptobyte.Builder) { b.AddBytes(body) }
		if form == 0 {
			b.AddUint8LengthPrefixed(f)
			return
		}
	}
	switch form {
	case 1:
		b.AddUint8(0x81)
		b.AddUint8LengthPrefixed(f)
	case 2:
		b.AddUint8(0x82)
		b.AddUint16LengthPrefixed(f)
	case 3:
		b.AddUint8(0x83)
		b.AddUint24LengthPrefixed(f)
	case 4:
		b.AddUint8(0x84)
		b.AddUint32LengthPrefixed(f)
	default:
		b.SetError(errorf("invalid length form %d", form))
	}
}

// addLengthBytes is addLength for content already in hand: the minimal form
// is chosen from len(data) without building the content twice.
func addLengthBytes(b *cryptobyte.Builder, form lenForm, data []byte) {
	if form == 0 && minimalForm(uint64(len(data))) != 0 {
		form = minimalForm(uint64(len(data)))
	}
	addLength(b, form, func(b *cryptobyte.Builder) { b.AddBytes(data) })
}

// readTLV reads one element with a single-octet tag and any definite length,
// recording the length form. Used for constructed values (SEQUENCE and
// context-tagged SEQUENCEs), where devices have been seen to write
// non-minimal lengths.
func readTLV(s *cryptobyte.String, tag asn1.Tag, out *cryptobyte.String, form *lenForm) bool {
	var t uint8
	return s.ReadUint8(&t) && asn1.Tag(t) == tag && readLength(s, out, form)
}

// addTLV writes an element in the recorded length form; the minimal form goes
// through cryptobyte's own ASN.1 builder.
func addTLV(b *cryptobyte.Builder, tag asn1.Tag, form lenForm, f cryptobyte.BuilderContinuation) {
	if form == 0 {
		b.AddASN1(tag, f)
		return
	}
	b.AddUint8(uint8(tag))
	addLength(b, form, f)
}

// readRawTLV reads a whole element (header included) so it can be copied
// verbatim: certificates are carried this way, never re-encoded.
func readRawTLV(s *cryptobyte.String, tag asn1.Tag, out *[]byte) bool {
	start := *s
	var body cryptobyte.String
	var form lenForm
	if !readTLV(s, tag, &body, &form) {
		return false
	}
	*out = start[:len(start)-len(*s)]
	return true
}

// isRawTLV reports whether b is exactly one complete element with this tag.
func isRawTLV(b []byte, tag asn1.Tag) bool {
	s := cryptobyte.String(b)
	var raw []byte
	return readRawTLV(&s, tag, &raw) && s.Empty()
}

// readUint reads a non-negative INTEGER (or ENUMERATED, or an implicitly
// tagged INTEGER) in strict DER: minimal content, at most 64 bits of value.
// Primitive values are read strictly so that addUint reproduces them.
func readUint(s *cryptobyte.String, tag asn1.Tag, out *uint64) bool {
	var v cryptobyte.String
	if !s.ReadASN1(&v, tag) || len(v) == 0 || len(v) > 9 || v[0]&0x80 != 0 {
		return false
	}
	if len(v) > 1 && v[0] == 0 && v[1]&0x80 == 0 {
		return false // a leading zero octet that is not needed
	}
	if len(v) == 9 {
		if v[0] != 0 {
			return false
		}
		v = v[1:]
	}
	var u uint64
	for _, c := range v {
		u = u<<8 | uint64(c)
	}
	*out = u
	return true
}

// readSmall is readUint for enumerations and roles, which fit a byte.
func readSmall(s *cryptobyte.String, tag asn1.Tag, out *uint8) bool {
	var u uint64
	if !readUint(s, tag, &u) || u > 0xff {
		return false
	}
	*out = uint8(u)
	return true
}

// addUint writes v as the minimal two's-complement INTEGER content under tag.
func addUint(b *cryptobyte.Builder, tag asn1.Tag, v uint64) {
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		var buf [9]byte
		binary.BigEndian.PutUint64(buf[1:], v)
		i := 1
		for i < 8 && buf[i] == 0 {
			i++
		}
		if buf[i]&0x80 != 0 {
			i-- // keep a zero octet so the value stays positive
		}
		b.AddBytes(buf[i:])
	})
}

// readFixedOctets reads an OCTET STRING of exactly len(out) bytes.
func readFixedOctets(s *cryptobyte.String, out []byte) bool {
	var v cryptobyte.String
	if !s.ReadASN1(&v, asn1.OCTET_STRING) || len(v) != len(out) {
		return false
	}
	copy(out, v)
	return true
}

// readNull reads an ASN.1 NULL (05 00).
func readNull(s *cryptobyte.String) bool {
	var v cryptobyte.String
	return s.ReadASN1(&v, asn1.NULL) && v.Empty()
}

// KeyUsage is the X.509 KeyUsage BIT STRING that names a trust-anchor cell's
// key: bit i of the BIT STRING (bit 0 first) is 1<<i, as in crypto/x509.
type KeyUsage uint16

// The two key usages GBCS trust-anchor cells hold.
const (
	KeyUsageDigitalSignature KeyUsage = 1 << 0 // 03 02 07 80
	KeyUsageKeyAgreement     KeyUsage = 1 << 4 // 03 02 03 08
)

// bitString is the DER content of k: the unused-bits octet, then the bits
// with trailing zero bits trimmed (X.690 §11.2.2).
func (k KeyUsage) bitString() []byte {
	if k == 0 {
		return []byte{0}
	}
	nbits := 16
	for k&(1<<(nbits-1)) == 0 {
		nbits--
	}
	nbytes := (nbits + 7) / 8
	out := make([]byte, 1+nbytes)
	out[0] = byte(nbytes*8 - nbits)
	for i := 0; i < nbits; i++ {
		if k&(1<<i) != 0 {
			out[1+i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

// readKeyUsage reads a DER KeyUsage BIT STRING; non-DER forms are refused
// because they could not be written back unchanged.
func readKeyUsage(s *cryptobyte.String, out *KeyUsage) bool {
	var v cryptobyte.String
	if !s.ReadASN1(&v, asn1.BIT_STRING) || len(v) < 1 || len(v) > 3 {
		return false
	}
	var k KeyUsage
	for i := 0; i < (len(v)-1)*8; i++ {
		if v[1+i/8]&(0x80>>(i%8)) != 0 {
			k |= 1 << i
		}
	}
	if !bytes.Equal(v, k.bitString()) {
		return false
	}
	*out = k
	return true
}

func addKeyUsage(b *cryptobyte.Builder, k KeyUsage) {
	b.AddASN1(asn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(k.bitString()) })
}

// sizeHinter is implemented by values that know roughly how large their
// encoding is, so marshalValue can allocate once instead of growing.
type sizeHinter interface{ sizeHint() int }

// marshalValue runs a MarshalingValue into a fresh builder.
func marshalValue(v cryptobyte.MarshalingValue) ([]byte, error) {
	var buf []byte
	if h, ok := v.(sizeHinter); ok {
		buf = make([]byte, 0, h.sizeHint())
	}
	b := cryptobyte.NewBuilder(buf)
	b.AddValue(v)
	return b.Bytes()
}

// readSeqOf reads a SEQUENCE OF (under tag) whose elements read decodes. A
// present but empty list comes back as a non-nil empty slice, so callers can
// tell it from an absent OPTIONAL list.
func readSeqOf[T any](s *cryptobyte.String, tag asn1.Tag, form *lenForm, read func(*cryptobyte.String, *T) bool) ([]T, bool) {
	var body cryptobyte.String
	if !readTLV(s, tag, &body, form) {
		return nil, false
	}
	out := []T{}
	for !body.Empty() {
		var v T
		if !read(&body, &v) {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// addSeqOf writes a SEQUENCE OF under tag.
func addSeqOf[T any](b *cryptobyte.Builder, tag asn1.Tag, form lenForm, items []T, add func(*cryptobyte.Builder, *T)) {
	addTLV(b, tag, form, func(b *cryptobyte.Builder) {
		for i := range items {
			add(b, &items[i])
		}
	})
}
