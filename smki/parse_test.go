package smki

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	ctpkix "github.com/google/certificate-transparency-go/x509/pkix"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func mustSerial(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	return n
}

type wantCert struct {
	kind     Kind
	role     RemotePartyRole
	eui      string // "" for none
	ku       KeyUsage
	serial   string
	ski, aki string // hex; "" for absent
	cn       string
	subject  string // RFC 2253
	notAfter time.Time
	policy   string
}

const orgPolicy, devPolicy = "1.2.826.0.1.8641679.1.2.1.4", "1.2.826.0.1.1800000.1.2.1.4"

func checkCert(t *testing.T, c *Certificate, w wantCert) {
	t.Helper()
	if c.Kind != w.kind {
		t.Errorf("Kind = %v, want %v", c.Kind, w.kind)
	}
	if c.Role != w.role {
		t.Errorf("Role = %v, want %v", c.Role, w.role)
	}
	var wantEUI eui.EUI
	if w.eui != "" {
		wantEUI = eui.MustParse(w.eui)
	}
	if c.EUI != wantEUI {
		t.Errorf("EUI = %s, want %s", c.EUI, wantEUI)
	}
	if c.KeyUsage != w.ku {
		t.Errorf("KeyUsage = %v, want %v", c.KeyUsage, w.ku)
	}
	if c.SerialNumber.Cmp(mustSerial(w.serial)) != 0 {
		t.Errorf("SerialNumber = %X, want %s", c.SerialNumber, w.serial)
	}
	if got := strings.ToUpper(hex.EncodeToString(c.SubjectKeyID)); got != w.ski {
		t.Errorf("SubjectKeyID = %s, want %s", got, w.ski)
	}
	if got := strings.ToUpper(hex.EncodeToString(c.AuthorityKeyID)); got != w.aki {
		t.Errorf("AuthorityKeyID = %s, want %s", got, w.aki)
	}
	if c.CommonName != w.cn {
		t.Errorf("CommonName = %q, want %q", c.CommonName, w.cn)
	}
	if got := c.Subject.String(); got != w.subject {
		t.Errorf("Subject = %q, want %q", got, w.subject)
	}
	if !c.NotAfter.Equal(w.notAfter) {
		t.Errorf("NotAfter = %v, want %v", c.NotAfter, w.notAfter)
	}
	if len(c.Policies) != 1 || c.Policies[0].String() != w.policy {
		t.Errorf("Policies = %v, want [%s]", c.Policies, w.policy)
	}
	if c.PublicKey == nil {
		t.Error("PublicKey is nil")
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 0, time.UTC) }

func TestParseVectors(t *testing.T) {
	testkit.VectorsDir(t)
	tests := map[string]wantCert{
		"90b3d51f30000004-ds.pem": {Organisation, RoleTransitionalCoS, "90B3D51F30000004", KeyUsageDigitalSignature,
			"3CE369AB08F102975C5490D6B88FC066", "4B38EB47561D93E8", "4F5688D7EC933BE2", "",
			"2.5.4.45=#03090090b3d51f30000004,OU=05", day(2025, 11, 2), orgPolicy},
		"Z1-transitionalCoS-ds.pem": {Organisation, RoleTransitionalCoS, "90B3D51F30000004", KeyUsageDigitalSignature,
			"3CE369AB08F102975C5490D6B88FC066", "4B38EB47561D93E8", "4F5688D7EC933BE2", "",
			"2.5.4.45=#03090090b3d51f30000004,OU=05", day(2025, 11, 2), orgPolicy},
		"Z1b-transitionalCoS-ds.pem": {Organisation, RoleTransitionalCoS, "90B3D51F30000004", KeyUsageDigitalSignature,
			"52881F0CB3926FDFAC03FC8827AA11BD", "4F3F10855696FEF2", "4F5688D7EC933BE2", "",
			"2.5.4.45=#03090090b3d51f30000004,OU=05", day(2026, 1, 9), orgPolicy},
		"90b3d51f30030000-ds.pem": {Organisation, RoleSupplier, "90B3D51F30030000", KeyUsageDigitalSignature,
			"39EAFF0055CE4DAF085AC874C7C84BD3", "4A8103ADAC183A89", "4F5688D7EC933BE2", "GITTESTSUPPLIER2",
			"2.5.4.45=#03090090b3d51f30030000,OU=02,CN=GITTESTSUPPLIER2", day(2025, 12, 22), orgPolicy},
		"90b3d51f30030000-ka.pem": {Organisation, RoleSupplier, "90B3D51F30030000", KeyUsageKeyAgreement,
			"2C0AC55B46CB410E7409D3FDA762C30B", "483972547DCD7835", "4F5688D7EC933BE2", "",
			"2.5.4.45=#03090090b3d51f30030000,OU=02", day(2025, 12, 22), orgPolicy},
		"90b3d51f30000002-ka.pem": {Organisation, RoleAccessControlBroker, "90B3D51F30000002", KeyUsageKeyAgreement,
			"37CDF206B07DDEF852FBC62950F22ED0", "4A9CE02C39AB910B", "4F5688D7EC933BE2", "",
			"2.5.4.45=#03090090b3d51f30000002,OU=04", day(2025, 10, 29), orgPolicy},
		"00db1234567890a0-ds.pem": {Device, RoleNone, "00DB1234567890A0", KeyUsageDigitalSignature,
			"30398236744D9DA0E57F8D74AE041FCD", "41978BA90C066FFA", "47D40AF3412904A0", "",
			"", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), devPolicy},
		"00db1234567890a0-ka.pem": {Device, RoleNone, "00DB1234567890A0", KeyUsageKeyAgreement,
			"730C9ADAEAD36D3057022F36C2C89DE3", "43EB833B26EE1F4F", "47D40AF3412904A0", "",
			"", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), devPolicy},
		"xml-sign-90B3D51F30010000-ds.pem": {Organisation, RoleXMLSign, "90B3D51F30010000", KeyUsageDigitalSignature,
			"14BE4AD2EA1D0E4EC7F7156BD24624A7", "4BAC60B74CB1A0DB", "", "",
			"2.5.4.45=#03090090b3d51f30010000,OU=87", time.Date(2118, 1, 1, 0, 0, 0, 0, time.UTC), orgPolicy},
		"xml-sign-00DB123456780004-ds.pem": {Organisation, RoleXMLSign, "00DB123456780004", KeyUsageDigitalSignature,
			"1C063B7B4F241AADA23FFFF28E88B927", "4EF3F4EC1E75C997", "", "",
			"2.5.4.45=#03090000db123456780004,OU=87", time.Date(2118, 1, 1, 0, 0, 0, 0, time.UTC), orgPolicy},
		"Z1-accessControlBroker-dSPXmlSign.pem": {Organisation, RoleDSPXMLSign, "90B3D51F30000002", KeyUsageDigitalSignature,
			"0F4889EF197D41E9016966F9D5AB0402", "43957BAEE57D47F2", "4F5688D7EC933BE2", "",
			"2.5.4.45=#03090090b3d51f30000002,OU=89", day(2035, 9, 1), orgPolicy},
		// OU "137" is 0x89 written in decimal: Parse accepts it but no role
		// can be read from it.
		"dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem": {Organisation, RoleNone, "90B3D51F30000002", KeyUsageDigitalSignature,
			"261E9CCC40A78FD13D83BCE07DACFE08", "42008248E412DFC6", "", "",
			"2.5.4.45=#03090090b3d51f30000002,OU=137", time.Date(2118, 1, 1, 0, 0, 0, 0, time.UTC), orgPolicy},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			checkCert(t, vectorCert(t, name), w)
		})
	}
	t.Run("Z1 from DUIS 6.23", func(t *testing.T) {
		z1 := vectorZ1(t)
		checkCert(t, z1, wantCert{CA, RoleIssuingAuthority, "", KeyUsageCertSign | KeyUsageCRLSign,
			"71872BDBC82789BC1401CE01BA06ADA3", "4F5688D7EC933BE2", "48CF1B32697C4669", "Z1",
			"CN=Z1,OU=07", time.Date(2040, 10, 28, 23, 59, 59, 0, time.UTC), orgPolicy})
		if !z1.IsCA || !z1.BasicConstraintsValid || z1.MaxPathLen != 0 {
			t.Errorf("basicConstraints: IsCA %v valid %v pathLen %d, want true true 0", z1.IsCA, z1.BasicConstraintsValid, z1.MaxPathLen)
		}
		if got := z1.Issuer.String(); got != "CN=ZA,OU=00" {
			t.Errorf("Issuer = %q", got)
		}
	})
}

func TestParseEveryVectorPEM(t *testing.T) {
	files := testkit.Glob(t, "keys/*.pem")
	if len(files) != 20 {
		t.Fatalf("%d PEM files in keys/, want 20", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := ParsePEM(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if len(certs) != 1 {
			t.Errorf("%s: %d certificates, want 1", filepath.Base(f), len(certs))
		}
		if blk, _ := pem.Decode(data); !bytes.Equal(certs[0].Raw, blk.Bytes) {
			t.Errorf("%s: Raw differs from the PEM bytes", filepath.Base(f))
		}
	}
}

func TestParseEveryKeystoreCert(t *testing.T) {
	entries := vectorKeystore(t)
	if len(entries) != 33 {
		t.Fatalf("%d keystore entries, want 33", len(entries))
	}
	kinds := map[Kind]int{}
	for _, e := range entries {
		kinds[e.Certificate.Kind]++
	}
	if kinds[Organisation] != 33 {
		t.Errorf("kinds = %v, want 33 organisation certificates", kinds)
	}
}

// TestParseMatchesCTGo compares every vector certificate with
// certificate-transparency-go's x509, an independent parser that accepts
// SMKI names.
func TestParseMatchesCTGo(t *testing.T) {
	var ders [][]byte
	for _, f := range testkit.Glob(t, "keys/*.pem") {
		data, _ := os.ReadFile(f)
		blk, _ := pem.Decode(data)
		ders = append(ders, blk.Bytes)
	}
	for _, e := range vectorKeystore(t) {
		ders = append(ders, e.Certificate.Raw)
	}
	ders = append(ders, vectorZ1(t).Raw)
	for _, der := range ders {
		c, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		o, err := ctx509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("ct-go: %v", err)
		}
		switch {
		case c.SerialNumber.Cmp(o.SerialNumber) != 0:
			t.Errorf("%v: serial differs from ct-go %X", c, o.SerialNumber)
		case !c.NotBefore.Equal(o.NotBefore) || !c.NotAfter.Equal(o.NotAfter):
			t.Errorf("%v: validity differs from ct-go", c)
		case !bytes.Equal(c.Subject.Raw, o.RawSubject) || !bytes.Equal(c.Issuer.Raw, o.RawIssuer):
			t.Errorf("%v: raw names differ from ct-go", c)
		case !bytes.Equal(c.SubjectKeyID, o.SubjectKeyId) || !bytes.Equal(c.AuthorityKeyID, o.AuthorityKeyId):
			t.Errorf("%v: key identifiers differ from ct-go", c)
		case int(c.KeyUsage) != int(o.KeyUsage):
			t.Errorf("%v: KeyUsage %v differs from ct-go %d", c, c.KeyUsage, o.KeyUsage)
		case c.IsCA != o.IsCA || c.BasicConstraintsValid != o.BasicConstraintsValid:
			t.Errorf("%v: basicConstraints differ from ct-go", c)
		case !c.PublicKey.Equal(o.PublicKey):
			t.Errorf("%v: public key differs from ct-go", c)
		case fmt.Sprint(c.Policies) != fmt.Sprint(o.PolicyIdentifiers):
			t.Errorf("%v: policies %v differ from ct-go %v", c, c.Policies, o.PolicyIdentifiers)
		case !bytes.Equal(c.RawTBSCertificate, o.RawTBSCertificate) || !bytes.Equal(c.Signature, o.Signature):
			t.Errorf("%v: TBS or signature differ from ct-go", c)
		case !slices.EqualFunc(c.Extensions, o.Extensions, func(a Extension, b ctpkix.Extension) bool {
			return a.ID.String() == b.Id.String() && a.Critical == b.Critical && bytes.Equal(a.Value, b.Value)
		}):
			t.Errorf("%v: extensions differ from ct-go", c)
		}
	}
}

func TestParsePEM(t *testing.T) {
	p := newTestPKI(t)
	leaf := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010000"), KeyUsageDigitalSignature).cert(t)
	certPEM := func(c *Certificate) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) }
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})

	t.Run("ok/bundle with a key in between", func(t *testing.T) {
		in := slices.Concat(certPEM(leaf), keyPEM, certPEM(p.ca))
		certs, err := ParsePEM(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != 2 || !certs[0].Equal(leaf) || !certs[1].Equal(p.ca) {
			t.Fatalf("got %v, want [leaf, ca] in order", certs)
		}
	})
	t.Run("fail/no certificate", func(t *testing.T) {
		certs, err := ParsePEM(keyPEM)
		if err == nil || certs != nil {
			t.Fatalf("ParsePEM(key only) = %v, %v; want nil, error", certs, err)
		}
		if _, ok := errors.AsType[*ParseError](err); !ok {
			t.Errorf("error %T is not *ParseError", err)
		}
	})
	t.Run("fail/second certificate corrupt", func(t *testing.T) {
		bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw[:40]})
		certs, err := ParsePEM(slices.Concat(certPEM(leaf), bad))
		if err == nil || certs != nil {
			t.Fatalf("got %v, %v; want nil, error", certs, err)
		}
		if !strings.Contains(err.Error(), "PEM certificate 2") {
			t.Errorf("error %q does not name the block", err)
		}
		if strings.Count(err.Error(), "smki:") != 1 {
			t.Errorf("error %q repeats its prefix", err)
		}
	})
}

func TestParseCopiesInput(t *testing.T) {
	p := newTestPKI(t)
	der := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010000"), KeyUsageDigitalSignature).der(t)
	c, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(der)
	for i := range der {
		der[i] = 0
	}
	if !bytes.Equal(c.Raw, want) || c.SerialNumber.Sign() == 0 || c.Subject.Attributes[0].Value[0] == 0 {
		t.Fatal("Certificate aliases the caller's buffer")
	}
}

// TestParseErrors: malformed DER is a *ParseError naming the problem and
// yields no certificate.
func TestParseErrors(t *testing.T) {
	p := newTestPKI(t)
	e := eui.MustParse("90B3D51F30010000")
	good := p.orgSpec(t, "02", e, KeyUsageDigitalSignature)
	with := func(f func(s *certSpec)) func() []byte {
		return func() []byte {
			s := good
			s.exts = slices.Clone(good.exts)
			f(&s)
			return s.der(t)
		}
	}
	tests := []struct {
		name string
		der  func() []byte
		want string
	}{
		{"empty", func() []byte { return nil }, "not a single DER SEQUENCE"},
		{"truncated", func() []byte { d := good.der(t); return d[:len(d)-1] }, "not a single DER SEQUENCE"},
		{"trailing byte", func() []byte { return append(good.der(t), 0) }, "not a single DER SEQUENCE"},
		{"two certificates", func() []byte { return append(good.der(t), good.der(t)...) }, "not a single DER SEQUENCE"},
		{"octet string", func() []byte { return []byte{0x04, 0x00} }, "not a single DER SEQUENCE"},
		{"outer and inner signature algorithm differ", with(func(s *certSpec) {
			s.outerSigAlg = mustHex("300a06082a8648ce3d040303")
		}), "signatureAlgorithm differs"},
		{"duplicate extension", with(func(s *certSpec) {
			s.exts = append(s.exts, extKU(true, KeyUsageKeyAgreement))
		}), "duplicate extension 2.5.29.15"},
		{"multi-valued RDN", with(func(s *certSpec) {
			s.subject = mustHex("3018" + "3116" + "300906035504030c025a31" + "300906035504030c025a32")
		}), "subject: multi-valued"},
		{"invalid UTF8String", with(func(s *certSpec) {
			s.subject = nameDER(Attribute{oidAttrOrgUnit, TagUTF8String, []byte{0xff, 0xfe}})
		}), "subject: attribute 2.5.4.11: invalid UTF8String"},
		{"invalid PrintableString", with(func(s *certSpec) {
			s.issuer = nameDER(Attribute{oidAttrCommonName, TagPrintableString, []byte("Z1*")})
		}), "issuer: attribute 2.5.4.3: invalid PrintableString"},
		{"extensions in a v1 certificate", with(func(s *certSpec) { s.version = 1 }), "extensions in a version 1"},
		{"keyUsage not a BIT STRING", with(func(s *certSpec) {
			s.replace(ext{oidExtKeyUsage, true, []byte{0x04, 0x00}})
		}), "extension 2.5.29.15: malformed"},
		{"SAN otherName without type", with(func(s *certSpec) {
			s.replace(ext{oidExtSubjectAltName, true, mustHex("3004a0020600")})
		}), "extension 2.5.29.17: malformed"},
		{"negative pathLen", with(func(s *certSpec) {
			s.replace(ext{oidExtBasicConstraints, true, mustHex("30060101ff0201ff")})
		}), "extension 2.5.29.19: malformed"},
		{"AKI with trailing garbage", with(func(s *certSpec) {
			s.replace(ext{oidExtAuthorityKeyID, false, mustHex("300c8008010203040506070804000000")})
		}), "extension 2.5.29.35: malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.der())
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if c != nil {
				t.Error("non-nil certificate with an error")
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Errorf("error %T is not *ParseError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Organisation: "organisation", Device: "device", CA: "CA", KindUnknown: "Kind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", k, got, want)
		}
	}
}

func TestKeyUsageString(t *testing.T) {
	for ku, want := range map[KeyUsage]string{
		KeyUsageDigitalSignature:           "digitalSignature",
		KeyUsageKeyAgreement:               "keyAgreement",
		KeyUsageCertSign | KeyUsageCRLSign: "keyCertSign|cRLSign",
		0:                                  "none",
		KeyUsageDecipherOnly | KeyUsageDigitalSignature: "digitalSignature|decipherOnly",
	} {
		if got := ku.String(); got != want {
			t.Errorf("KeyUsage(%d).String() = %q, want %q", ku, got, want)
		}
	}
}
