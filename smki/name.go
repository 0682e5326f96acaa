package smki

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DER identifier octets of the attribute value types SMKI names use.
const (
	TagBitString       uint8 = 0x03
	TagUTF8String      uint8 = 0x0C
	TagPrintableString uint8 = 0x13
	TagIA5String       uint8 = 0x16
	TagBMPString       uint8 = 0x1E
)

// Attribute is one AttributeTypeAndValue of a distinguished name. The value
// is kept as DER (tag and contents) rather than as a Go string because SMKI
// puts a BIT STRING (the EUI-64 in x500UniqueIdentifier) next to text.
type Attribute struct {
	Type  asn1.ObjectIdentifier
	Tag   uint8  // DER identifier octet of the value, e.g. TagUTF8String
	Value []byte // contents octets of the value, without tag and length
}

// Text returns the value of a string-typed attribute. ok is false for
// values that are not character strings, such as BIT STRING.
func (a Attribute) Text() (s string, ok bool) {
	switch a.Tag {
	case TagUTF8String, TagPrintableString, TagIA5String:
		return string(a.Value), true
	case TagBMPString:
		u := make([]uint16, len(a.Value)/2)
		for i := range u {
			u[i] = uint16(a.Value[2*i])<<8 | uint16(a.Value[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// element is the DER encoding of the value, the form RFC 2253 prints after
// '#'.
func (a Attribute) element() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(a.Tag), func(b *cryptobyte.Builder) { b.AddBytes(a.Value) })
	der, err := b.Bytes()
	if err != nil {
		// Only a hand-built Attribute with a high-number tag gets here;
		// parsed ones always re-encode.
		return nil
	}
	return der
}

// Name is an X.501 distinguished name as it appears in a certificate.
// SMKI names never have multi-valued RDNs, so Parse refuses them and a Name
// is a flat list with one attribute per RDN.
type Name struct {
	Raw        []byte      // DER of the RDNSequence, exactly as encoded
	Attributes []Attribute // in DER order: the first RDN first
}

// IsEmpty reports whether the name has no RDNs, as a Device certificate
// subject has.
func (n Name) IsEmpty() bool { return len(n.Attributes) == 0 }

// Find returns the attributes of type oid, in DER order.
func (n Name) Find(oid asn1.ObjectIdentifier) []Attribute {
	var out []Attribute
	for _, a := range n.Attributes {
		if a.Type.Equal(oid) {
			out = append(out, a)
		}
	}
	return out
}

// firstText is the text of the first attribute of type oid, or "".
func (n Name) firstText(oid asn1.ObjectIdentifier) string {
	for _, a := range n.Find(oid) {
		if s, ok := a.Text(); ok {
			return s
		}
	}
	return ""
}

// EqualDER reports whether the two names are encoded identically.
func (n Name) EqualDER(o Name) bool { return bytes.Equal(n.Raw, o.Raw) }

// Equal compares names the RFC 5280 §7.1 way: same attribute types in the
// same order, character strings compared case-insensitively with
// whitespace runs collapsed, whatever their string type. Other values must
// match byte for byte. This is needed because the DCC Boxed XML-signing
// certificates name their issuer "OU=07, CN=Z1" in UTF8String while the Z1
// certificate itself uses PrintableString.
func (n Name) Equal(o Name) bool { return n.key() == o.key() }

// key is the canonical form Equal compares; the Pool indexes by it.
func (n Name) key() string {
	var b strings.Builder
	for _, a := range n.Attributes {
		b.WriteString(a.Type.String())
		var v string
		if s, ok := a.Text(); ok {
			b.WriteString("=s")
			v = strings.Join(strings.Fields(strings.ToLower(s)), " ")
		} else {
			b.WriteString("=b")
			v = string(a.element())
		}
		// Length-prefixing keeps one crafted value from spanning two
		// attributes' worth of key.
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String()
}

// rfc2253Keywords are the only short names RFC 2253 §2.3 allows; every
// other type prints as a dotted OID with a '#'-hex value, which is what the
// DCC signing tool (Java X500Principal) emits for x500UniqueIdentifier.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.6":                    "C",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// String formats the name per RFC 2253 (last RDN first), as Java's
// X500Principal.getName(RFC2253) does, e.g. "CN=Z1,OU=07". XMLDSig
// X509IssuerName values in DUIS are written this way.
func (n Name) String() string {
	var b strings.Builder
	for i := len(n.Attributes) - 1; i >= 0; i-- {
		a := n.Attributes[i]
		if i != len(n.Attributes)-1 {
			b.WriteByte(',')
		}
		oid := a.Type.String()
		kw, known := rfc2253Keywords[oid]
		if !known {
			kw = oid
		}
		b.WriteString(kw)
		b.WriteByte('=')
		if s, ok := a.Text(); ok && known {
			writeEscaped(&b, s)
		} else {
			b.WriteByte('#')
			b.WriteString(hex.EncodeToString(a.element()))
		}
	}
	return b.String()
}

// writeEscaped applies RFC 2253 §2.4 escaping, plus \HH for control
// characters so the output stays printable.
func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(`,+"\<>;`, c) >= 0,
			i == 0 && (c == ' ' || c == '#'),
			i == len(s)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7F:
			b.WriteByte('\\')
			b.WriteString(strings.ToUpper(hex.EncodeToString([]byte{c})))
		default:
			b.WriteByte(c)
		}
	}
}

// parseName decodes a DER RDNSequence; what names it in errors.
func parseName(raw []byte, what string) (Name, error) {
	n := Name{Raw: raw}
	in := cryptobyte.String(raw)
	var rdns cryptobyte.String
	if !in.ReadASN1(&rdns, cbasn1.SEQUENCE) || !in.Empty() {
		return Name{}, errorf("%s: malformed name", what)
	}
	for !rdns.Empty() {
		var set, atv, val cryptobyte.String
		var tag cbasn1.Tag
		var a Attribute
		if !rdns.ReadASN1(&set, cbasn1.SET) || !set.ReadASN1(&atv, cbasn1.SEQUENCE) {
			return Name{}, errorf("%s: malformed relative distinguished name", what)
		}
		if !set.Empty() {
			return Name{}, errorf("%s: multi-valued relative distinguished name", what)
		}
		if !atv.ReadASN1ObjectIdentifier(&a.Type) || !atv.ReadAnyASN1(&val, &tag) || !atv.Empty() {
			return Name{}, errorf("%s: malformed attribute", what)
		}
		a.Tag, a.Value = uint8(tag), val
		if err := checkString(a, what); err != nil {
			return Name{}, err
		}
		n.Attributes = append(n.Attributes, a)
	}
	return n, nil
}

// checkString refuses string values whose bytes break their declared type,
// so that Text and String never hand out garbage.
func checkString(a Attribute, what string) error {
	switch a.Tag {
	case TagUTF8String:
		if !utf8.Valid(a.Value) {
			return errorf("%s: attribute %v: invalid UTF8String", what, a.Type)
		}
	case TagPrintableString:
		for _, c := range a.Value {
			if !isPrintable(c) {
				return errorf("%s: attribute %v: invalid PrintableString character %q", what, a.Type, c)
			}
		}
	case TagIA5String:
		for _, c := range a.Value {
			if c >= utf8.RuneSelf {
				return errorf("%s: attribute %v: invalid IA5String", what, a.Type)
			}
		}
	case TagBMPString:
		if len(a.Value)%2 != 0 {
			return errorf("%s: attribute %v: odd-length BMPString", what, a.Type)
		}
	}
	return nil
}

func isPrintable(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte(" '()+,-./:=?", c) >= 0
}

// ParseName reads an RFC 2253 string such as "CN=Z1,OU=07" (the form of an
// XMLDSig X509IssuerName) into a Name that Equal can compare with a
// certificate's. Text values are encoded as PrintableString when they fit
// and UTF8String otherwise; "#hex" values keep their DER type. Quoted
// values and multi-valued RDNs are not supported.
func ParseName(s string) (Name, error) {
	var attrs []Attribute
	for rest := s; rest != ""; {
		var a Attribute
		var err error
		a, rest, err = parseRDN(rest)
		if err != nil {
			return Name{}, err
		}
		attrs = append(attrs, a)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := len(attrs) - 1; i >= 0; i-- { // RFC 2253 lists the last RDN first
			a := attrs[i]
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(a.Type)
					b.AddASN1(cbasn1.Tag(a.Tag), func(b *cryptobyte.Builder) { b.AddBytes(a.Value) })
				})
			})
		}
	})
	raw, err := b.Bytes()
	if err != nil {
		return Name{}, errorf("name %q: %v", s, err)
	}
	// Re-reading the DER applies the same value checks certificates get.
	return parseName(raw, "name")
}

// parseRDN reads one "type=value" and the separator after it.
func parseRDN(s string) (Attribute, string, error) {
	var a Attribute
	s = strings.TrimLeft(s, " ")
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return a, "", errorf("name: missing '=' in %q", s)
	}
	typ := strings.TrimSpace(s[:eq])
	oid, err := parseAttrType(typ)
	if err != nil {
		return a, "", err
	}
	a.Type = oid
	s = strings.TrimLeft(s[eq+1:], " ")
	var val []byte
	if strings.HasPrefix(s, "#") {
		end := strings.IndexAny(s, ",;+")
		if end < 0 {
			end = len(s)
		}
		der, err := hex.DecodeString(strings.TrimRight(s[1:end], " "))
		if err != nil {
			return a, "", errorf("name: attribute %s: bad hex value: %v", typ, err)
		}
		in := cryptobyte.String(der)
		var v cryptobyte.String
		var tag cbasn1.Tag
		if !in.ReadAnyASN1(&v, &tag) || !in.Empty() {
			return a, "", errorf("name: attribute %s: hex value is not one DER element", typ)
		}
		a.Tag, a.Value = uint8(tag), v
		s = s[end:]
	} else {
		val, s, err = unescapeValue(s)
		if err != nil {
			return a, "", errorf("name: attribute %s: %v", typ, err)
		}
		a.Tag, a.Value = TagUTF8String, val
		if printableString(val) {
			a.Tag = TagPrintableString
		}
	}
	switch {
	case s == "":
		return a, "", nil
	case s[0] == '+':
		return a, "", errorf("name: multi-valued RDNs are not supported")
	case s[0] == ',' || s[0] == ';':
		if s[1:] == "" {
			return a, "", errorf("name: trailing separator")
		}
		return a, s[1:], nil
	}
	return a, "", errorf("name: unexpected %q after value", s)
}

func printableString(b []byte) bool {
	for _, c := range b {
		if !isPrintable(c) {
			return false
		}
	}
	return true
}

// unescapeValue reads a string value up to an unescaped separator. It
// drops unescaped trailing spaces, as RFC 2253 readers must.
func unescapeValue(s string) (val []byte, rest string, err error) {
	keep := 0 // length of val that must survive trailing-space trimming
	i := 0
loop:
	for i < len(s) {
		c := s[i]
		switch {
		case c == ',' || c == ';' || c == '+':
			break loop
		case c == '"':
			return nil, "", errorf("quoted values are not supported")
		case c == '\\':
			if i+1 >= len(s) {
				return nil, "", errorf("dangling escape")
			}
			if h, err := hex.DecodeString(safeSlice(s, i+1, i+3)); err == nil && len(h) == 1 {
				val = append(val, h[0])
				i += 3
			} else {
				val = append(val, s[i+1])
				i += 2
			}
			keep = len(val)
		default:
			val = append(val, c)
			i++
			if c != ' ' {
				keep = len(val)
			}
		}
	}
	if !utf8.Valid(val[:keep]) {
		return nil, "", errorf("value is not UTF-8")
	}
	return val[:keep], s[i:], nil
}

func safeSlice(s string, i, j int) string {
	if j > len(s) {
		return ""
	}
	return s[i:j]
}

// parseAttrType accepts an RFC 2253 keyword (any case) or a dotted OID.
func parseAttrType(t string) (asn1.ObjectIdentifier, error) {
	for oid, kw := range rfc2253Keywords {
		if strings.EqualFold(kw, t) {
			return parseDottedOID(oid)
		}
	}
	return parseDottedOID(strings.TrimPrefix(strings.TrimPrefix(t, "OID."), "oid."))
}

func parseDottedOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, errorf("name: unknown attribute type %q", s)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return nil, errorf("name: unknown attribute type %q", s)
		}
		oid[i] = n
	}
	return oid, nil
}
