package smki

import (
	"encoding/asn1"
	"testing"

	"pgregory.net/rapid"
)

func TestNameVectors(t *testing.T) {
	z1 := vectorZ1(t)
	xmlSign := vectorCert(t, "xml-sign-90B3D51F30010000-ds.pem")
	tcos := vectorCert(t, "Z1-transitionalCoS-ds.pem")
	// Z1 names itself in PrintableString; the stand-in CA behind the DCC
	// Boxed XML-signing certificates writes the same name in UTF8String.
	if !xmlSign.Issuer.Equal(z1.Subject) || xmlSign.Issuer.EqualDER(z1.Subject) {
		t.Errorf("xml-sign issuer vs Z1 subject: Equal %v (want true), EqualDER %v (want false)",
			xmlSign.Issuer.Equal(z1.Subject), xmlSign.Issuer.EqualDER(z1.Subject))
	}
	if !tcos.Issuer.EqualDER(z1.Subject) {
		t.Error("TCoS issuer is not byte-identical to the Z1 subject")
	}
	// The DUIS X509IssuerName of every signed vector.
	n, err := ParseName("CN=Z1,OU=07")
	if err != nil {
		t.Fatal(err)
	}
	if !n.EqualDER(z1.Subject) {
		t.Errorf("ParseName(CN=Z1,OU=07).Raw = %x, want Z1's subject %x", n.Raw, z1.Subject.Raw)
	}
	if !n.Equal(xmlSign.Issuer) {
		t.Error("ParseName(CN=Z1,OU=07) does not Equal the UTF8String issuer")
	}
	for _, c := range []*Certificate{z1, xmlSign, tcos} {
		for _, name := range []Name{c.Subject, c.Issuer} {
			back, err := ParseName(name.String())
			if err != nil || !back.Equal(name) {
				t.Errorf("%q does not round-trip: %v", name.String(), err)
			}
		}
	}
}

func TestNameString(t *testing.T) {
	oidO := asn1.ObjectIdentifier{2, 5, 4, 10}
	tests := []struct {
		attrs []Attribute
		want  string
	}{
		{nil, ""},
		{[]Attribute{attrOU("07"), attrCN("Z1")}, "CN=Z1,OU=07"},
		{[]Attribute{attrOU("05"), {oidAttrUniqueIdentifier, TagBitString, []byte{0, 0x90, 0xb3, 0xd5, 0x1f, 0x30, 0, 0, 4}}},
			"2.5.4.45=#03090090b3d51f30000004,OU=05"},
		{[]Attribute{{oidO, TagUTF8String, []byte(`a,b+c"d\e<f>g;h`)}}, `O=a\,b\+c\"d\\e\<f\>g\;h`},
		{[]Attribute{{oidO, TagUTF8String, []byte(" #lead")}}, `O=\ #lead`},
		{[]Attribute{{oidO, TagUTF8String, []byte("#x")}}, `O=\#x`},
		{[]Attribute{{oidO, TagUTF8String, []byte("trail ")}}, `O=trail\ `},
		{[]Attribute{{oidO, TagUTF8String, []byte("tab\there")}}, `O=tab\09here`},
		{[]Attribute{{oidO, TagUTF8String, []byte("Zürich")}}, `O=Zürich`},
		{[]Attribute{{oidO, TagBMPString, []byte{0, 'Z', 0, '1'}}}, `O=Z1`},
		{[]Attribute{{oidO, 0x14, []byte("T61")}}, `O=#1403543631`}, // TeletexString is not decoded
		{[]Attribute{{asn1.ObjectIdentifier{2, 5, 4, 5}, TagPrintableString, []byte("X")}}, `2.5.4.5=#130158`},
	}
	for _, tc := range tests {
		n, err := parseName(nameDER(tc.attrs...), "test")
		if err != nil {
			t.Fatalf("%q: %v", tc.want, err)
		}
		if got := n.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
		back, err := ParseName(tc.want)
		if err != nil {
			t.Errorf("ParseName(%q): %v", tc.want, err)
		} else if !back.Equal(n) {
			t.Errorf("ParseName(%q) = %q, not Equal to the original", tc.want, back.String())
		}
	}
}

func TestNameEqual(t *testing.T) {
	mk := func(s string) Name {
		n, err := ParseName(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	equal := [][2]string{
		{"CN=Z1,OU=07", "cn=z1, ou=07"},
		{"CN=Z1,OU=07", "CN=  Z1,OU=07"},
		{"CN=GIT  TEST,OU=07", "CN=git test,OU=07"},
		{"2.5.4.3=#13025a31", "CN=Z1"},
		{"OID.2.5.4.3=Z1", "CN=Z1"},
		{"CN=Z1,OU=07", "CN=Z1;OU=07"},
	}
	for _, p := range equal {
		if !mk(p[0]).Equal(mk(p[1])) {
			t.Errorf("%q != %q, want equal", p[0], p[1])
		}
	}
	different := [][2]string{
		{"CN=Z1,OU=07", "OU=07,CN=Z1"}, // order matters
		{"CN=Z1,OU=07", "CN=Z1"},
		{"CN=Z1", "CN=Z2"},
		{"2.5.4.45=#03090090b3d51f30000004", "2.5.4.45=#03090090b3d51f30000005"},
		{"2.5.4.3=#03025a31", "CN=Z1"}, // a BIT STRING is not text
		{"CN=a\\,b", "CN=a,CN=b"},
		{"CN=", ""},
		{"CN=a2.5.4.11=s:b", "OU=b,CN=a"}, // one value posing as two attributes
	}
	for _, p := range different {
		if mk(p[0]).Equal(mk(p[1])) {
			t.Errorf("%q == %q, want different", p[0], p[1])
		}
	}
}

func TestParseNameErrors(t *testing.T) {
	for _, s := range []string{
		"CN",                  // no '='
		"XX=1",                // unknown keyword
		"1=a",                 // one-arc OID
		"3.1=a",               // invalid first arc
		"CN=a+OU=b",           // multi-valued
		"CN=\"quoted\"",       // quoted
		"CN=a,",               // trailing separator
		"CN=#zz",              // bad hex
		"CN=#0301",            // truncated DER
		"CN=#13015a00",        // trailing bytes after the element
		"CN=a\\",              // dangling escape
		"CN=\\ff",             // not UTF-8
		"CN=#1301ff",          // PrintableString with a bad byte
		"CN=#0c01ff",          // UTF8String that is not UTF-8
		"CN=a,,OU=b",          // empty RDN
		"CN=#1f8100",          // high tag number
		"2.5.4.99999999999=x", // OID arc out of range
	} {
		if n, err := ParseName(s); err == nil {
			t.Errorf("ParseName(%q) = %q, want an error", s, n.String())
		}
	}
}

// TestNameRoundTripProperty: String then ParseName gives an Equal name,
// for names with any mix of SMKI value types.
func TestNameRoundTripProperty(t *testing.T) {
	types := []asn1.ObjectIdentifier{oidAttrCommonName, oidAttrOrgUnit, oidAttrUniqueIdentifier, {2, 5, 4, 10}, {1, 2, 3, 4}}
	rapid.Check(t, func(t *rapid.T) {
		attrs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Attribute {
			a := Attribute{Type: rapid.SampledFrom(types).Draw(t, "type")}
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0:
				a.Tag, a.Value = TagUTF8String, []byte(rapid.String().Draw(t, "utf8"))
			case 1:
				a.Tag, a.Value = TagPrintableString, []byte(rapid.StringMatching(`[A-Za-z0-9 '()+,\-./:=?]*`).Draw(t, "printable"))
			case 2:
				a.Tag, a.Value = TagIA5String, []byte(rapid.StringMatching(`[\x00-\x7f]*`).Draw(t, "ia5"))
			default:
				a.Tag, a.Value = TagBitString, append([]byte{0}, rapid.SliceOfN(rapid.Byte(), 0, 9).Draw(t, "bits")...)
			}
			return a
		}), 0, 5).Draw(t, "attrs")
		n, err := parseName(nameDER(attrs...), "test")
		if err != nil {
			t.Fatalf("parseName: %v", err)
		}
		s := n.String()
		back, err := ParseName(s)
		if err != nil {
			t.Fatalf("ParseName(%q): %v", s, err)
		}
		if !back.Equal(n) {
			t.Fatalf("ParseName(%q) = %q, not Equal", s, back.String())
		}
	})
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"CN=Z1,OU=07", "2.5.4.45=#03090090b3d51f30000004,OU=05", "CN=GITTESTSUPPLIER,OU=02",
		`O=a\,b\+c\"d\\e\<f\>g\;h`, `O=\ #lead`, `O=trail\ `, "CN=Zürich", "", "OID.2.5.4.3=x; OU = 07",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			if n.Raw != nil || n.Attributes != nil {
				t.Fatal("non-zero Name with an error")
			}
			return
		}
		if _, err := parseName(n.Raw, "raw"); err != nil {
			t.Fatalf("Raw of ParseName(%q) does not parse: %v", s, err)
		}
		back, err := ParseName(n.String())
		if err != nil {
			t.Fatalf("ParseName(%q).String() = %q does not parse: %v", s, n.String(), err)
		}
		if !back.Equal(n) {
			t.Fatalf("%q: String %q does not round-trip", s, n.String())
		}
	})
}
