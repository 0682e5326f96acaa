package testpki

import (
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
)

// CA names. Short, like ZAZ1's ZA/Z1/E357, with T for "test" so they cannot
// be taken for a DCC environment's CAs.
const (
	RootCAName        = "TA"
	OrgCAName         = "T1"
	DeviceCAName      = "T357"
	FileSigningCAName = "IKI File Signing CA"
)

var (
	oidCommonName       = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOrganization     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrganizationUnit = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidUniqueIdentifier = asn1.ObjectIdentifier{2, 5, 4, 45} // x500UniqueIdentifier
)

// attr is one AttributeTypeAndValue; tag and content are written as given,
// because SMKI fixes the string type per attribute and per certificate kind.
type attr struct {
	typ     asn1.ObjectIdentifier
	tag     cbasn1.Tag
	content []byte
}

// name is an X.501 Name, one attribute per RDN, in DER order.
type name []attr

func (n name) marshal(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range n {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(a.typ)
					b.AddASN1(a.tag, func(b *cryptobyte.Builder) { b.AddBytes(a.content) })
				})
			})
		}
	})
}

func (n name) bytes() ([]byte, error) {
	var b cryptobyte.Builder
	n.marshal(&b)
	return b.Bytes()
}

func roleHex(role uint8) []byte { return fmt.Appendf(nil, "%02X", role) }

// caName is ZAZ1's CA subject: OU=<role>, CN=<name>, both PrintableString.
func caName(role uint8, cn string) name {
	return name{
		{oidOrganizationUnit, cbasn1.PrintableString, roleHex(role)},
		{oidCommonName, cbasn1.PrintableString, []byte(cn)},
	}
}

// entityName is ZAZ1's organisation subject: optional CN, OU=<role> (both
// UTF8String), then x500UniqueIdentifier as BIT STRING 03 09 00 <EUI-64>.
func entityName(cn string, role uint8, id eui.EUI) name {
	var n name
	if cn != "" {
		n = append(n, attr{oidCommonName, cbasn1.UTF8String, []byte(cn)})
	}
	return append(n,
		attr{oidOrganizationUnit, cbasn1.UTF8String, roleHex(role)},
		attr{oidUniqueIdentifier, cbasn1.BIT_STRING, append([]byte{0}, id[:]...)},
	)
}

// deviceCAName is the issuer every ZAZ1 device certificate shows: CN only.
func deviceCAName(cn string) name {
	return name{{oidCommonName, cbasn1.PrintableString, []byte(cn)}}
}

// fileSigningCAName is stored O, OU, CN so that its RFC 4514 rendering, which
// reverses the RDNs, is the "CN=IKI File Signing CA, OU=issuingAuthority,
// O=DCC" that ADT signature lines name.
func fileSigningCAName() name {
	return name{
		{oidOrganization, cbasn1.PrintableString, []byte("DCC")},
		{oidOrganizationUnit, cbasn1.PrintableString, []byte("issuingAuthority")},
		{oidCommonName, cbasn1.PrintableString, []byte(FileSigningCAName)},
	}
}

var shortNames = map[string]string{
	"2.5.4.3":  "CN",
	"2.5.4.6":  "C",
	"2.5.4.7":  "L",
	"2.5.4.8":  "ST",
	"2.5.4.10": "O",
	"2.5.4.11": "OU",
}

// formatDN renders a DER Name as RFC 4514 (most specific RDN first, no
// spaces), the form Java's getName() gives and DUIS X509IssuerName uses:
// "CN=T1,OU=07". Attributes without a short name, such as the
// x500UniqueIdentifier, render as dotted OID and #hex of their DER, in
// lower case as Java writes it.
func formatDN(der []byte) (string, error) {
	var rdns []string
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return "", errors.New("malformed Name")
	}
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return "", errors.New("malformed RDN")
		}
		var parts []string
		for !set.Empty() {
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var val cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1Element(&val, &tag) || !atv.Empty() {
				return "", errors.New("malformed AttributeTypeAndValue")
			}
			parts = append(parts, formatATV(oid, tag, val))
		}
		rdns = append(rdns, strings.Join(parts, "+"))
	}
	for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
		rdns[i], rdns[j] = rdns[j], rdns[i]
	}
	return strings.Join(rdns, ","), nil
}

func formatATV(oid asn1.ObjectIdentifier, tag cbasn1.Tag, elem cryptobyte.String) string {
	short, known := shortNames[oid.String()]
	var content cryptobyte.String
	isString := tag == cbasn1.PrintableString || tag == cbasn1.UTF8String || tag == cbasn1.IA5String
	if known && isString && elem.ReadASN1(&content, tag) {
		return short + "=" + escapeDNValue(string(content))
	}
	return oid.String() + "=#" + hex.EncodeToString(elem)
}

// escapeDNValue applies RFC 4514 §2.4 escaping.
func escapeDNValue(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(s)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
