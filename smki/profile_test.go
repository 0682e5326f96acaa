package smki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

// violatedFields lists the Field of every violation, sorted.
func violatedFields(err error) []string {
	var out []string
	for _, v := range Violations(err) {
		out = append(out, v.Field)
	}
	slices.Sort(out)
	return out
}

func TestCheckProfileVectors(t *testing.T) {
	testkit.VectorsDir(t)
	// The good certificates: everything the real Z1 CA issued, the device
	// certificates and Z1 itself.
	good := []string{
		"90b3d51f30000002-ds.pem", "90b3d51f30000002-ka.pem", "90b3d51f30000004-ds.pem",
		"90b3d51f30010000-ds.pem", "90b3d51f30010000-ka.pem", "90b3d51f30010000-pp-ka.pem",
		"90b3d51f30030000-ds.pem", "90b3d51f30030000-ka.pem", "90b3d51f30030000-pp-ka.pem",
		"Z1-accessControlBroker-dSPXmlSign.pem", "Z1-supplier-ds.pem", "Z1-supplier2-ds.pem",
		"Z1-transitionalCoS-ds.pem", "Z1b-transitionalCoS-ds.pem",
		"00db1234567890a0-ds.pem", "00db1234567890a0-ka.pem",
	}
	for _, name := range good {
		t.Run("ok/"+name, func(t *testing.T) {
			if err := vectorCert(t, name).CheckProfile(); err != nil {
				t.Errorf("CheckProfile: %v", err)
			}
		})
	}
	t.Run("ok/Z1", func(t *testing.T) {
		if err := vectorZ1(t).CheckProfile(); err != nil {
			t.Errorf("CheckProfile: %v", err)
		}
	})

	// The DCC Boxed XML-signing certificates come from a stand-in "Z1"
	// (UTF8String issuer, another key) that never sets an AKI.
	bad := map[string][]string{
		"dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem": {FieldAuthorityKeyID, FieldSubjectOU},
		"xml-sign-00DB123456780004-ds.pem":               {FieldAuthorityKeyID},
		"xml-sign-90B3D51F30010000-ds.pem":               {FieldAuthorityKeyID},
		"xml-sign-90B3D51F30020000-ds.pem":               {FieldAuthorityKeyID},
	}
	for name, want := range bad {
		t.Run("fail/"+name, func(t *testing.T) {
			err := vectorCert(t, name).CheckProfile()
			if got := violatedFields(err); !slices.Equal(got, want) {
				t.Errorf("violations %v, want %v (error: %v)", got, want, err)
			}
			if !errors.Is(err, ErrProfile) {
				t.Error("error does not wrap ErrProfile")
			}
		})
	}
	t.Run("fail/OU 137 says why", func(t *testing.T) {
		err := vectorCert(t, "dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem").CheckProfile()
		for _, v := range Violations(err) {
			if v.Field == FieldSubjectOU && v.Reason != `"137" is not exactly 2 hex digits` {
				t.Errorf("OU reason = %q", v.Reason)
			}
		}
	})
}

func TestCheckProfileKeystore(t *testing.T) {
	// Keystore certificates by the violations they carry; all others pass.
	want := map[string][]string{
		"xml-sign-00DB123456780004-ds":     {FieldAuthorityKeyID},
		"xml-sign-90B3D51F30010000-ds":     {FieldAuthorityKeyID},
		"xml-sign-90B3D51F30020000-ds":     {FieldAuthorityKeyID},
		"dsp-xml-sign-90B3D51F30000002-ds": {FieldAuthorityKeyID},
		// The MDR certificates (issuer Z99) encode ecdsa-with-SHA256 with
		// NULL parameters.
		"mdr-ds": {FieldSignatureAlgorithm},
		"mdr-ka": {FieldSignatureAlgorithm},
	}
	passed := 0
	for _, e := range vectorKeystore(t) {
		got := violatedFields(e.Certificate.CheckProfile())
		if !slices.Equal(got, want[e.Name]) {
			t.Errorf("%s: violations %v, want %v", e.Name, got, want[e.Name])
		}
		if got == nil {
			passed++
		}
	}
	if passed != 27 {
		t.Errorf("%d keystore certificates pass, want 27", passed)
	}
}

func TestCheckProfileGood(t *testing.T) {
	p := newTestPKI(t)
	e := eui.MustParse("90B3D51F30000004")
	for name, c := range map[string]*Certificate{
		"root":      p.root,
		"issuing":   p.ca,
		"org DS":    p.orgSpec(t, "05", e, KeyUsageDigitalSignature).cert(t),
		"org KA":    p.orgSpec(t, "02", e, KeyUsageKeyAgreement).cert(t),
		"xmlSign":   p.orgSpec(t, "87", e, KeyUsageDigitalSignature).cert(t),
		"device DS": p.deviceSpec(t, eui.MustParse("00DB1234567890A0"), KeyUsageDigitalSignature).cert(t),
		"device KA": p.deviceSpec(t, eui.MustParse("00DB1234567890A0"), KeyUsageKeyAgreement).cert(t),
	} {
		if err := c.CheckProfile(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCheckProfileViolations breaks one rule at a time, starting from a
// certificate that passes, and expects exactly the named fields.
func TestCheckProfileViolations(t *testing.T) {
	p := newTestPKI(t)
	e := eui.MustParse("90B3D51F30000004")
	other := newKey(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	compressed := func(pub *ecdsa.PublicKey) []byte {
		b, _ := pub.Bytes()
		return append([]byte{0x02 | b[64]&1}, b[1:33]...)
	}
	type tc struct {
		name   string
		base   func() certSpec
		mutate func(s *certSpec)
		want   []string
	}
	org := func() certSpec { return p.orgSpec(t, "05", e, KeyUsageDigitalSignature) }
	dev := func() certSpec { return p.deviceSpec(t, eui.MustParse("00DB1234567890A0"), KeyUsageDigitalSignature) }
	root := func() certSpec { s := p.rootSpec; s.exts = slices.Clone(s.exts); return s }
	issuing := func() certSpec { s := p.caSpec; s.exts = slices.Clone(s.exts); return s }
	tests := []tc{
		// Common rules.
		{"P-384 key", org, func(s *certSpec) {
			pt, _ := p384.PublicKey.Bytes()
			s.spki = spkiDER(asn1.ObjectIdentifier{1, 3, 132, 0, 34}, pt)
		}, []string{FieldPublicKey}},
		{"compressed point", org, func(s *certSpec) { s.spki = spkiDER(oidCurveP256, compressed(s.pub)) }, []string{FieldPublicKey}},
		{"point off the curve", org, func(s *certSpec) {
			b, _ := s.pub.Bytes()
			b[64] ^= 1
			s.spki = spkiDER(oidCurveP256, b)
		}, []string{FieldPublicKey}},
		{"ecdsa-with-SHA384", org, func(s *certSpec) { s.sigAlg = mustHex("300a06082a8648ce3d040303") }, []string{FieldSignatureAlgorithm}},
		{"NULL parameters", org, func(s *certSpec) { s.sigAlg = mustHex("300c06082a8648ce3d0403020500") }, []string{FieldSignatureAlgorithm}},
		{"version 2", org, func(s *certSpec) { s.version = 2; s.exts = nil }, []string{
			FieldAuthorityKeyID, FieldPolicies, FieldKeyUsage, FieldSubjectKeyID, FieldVersion}},
		{"serial zero", org, func(s *certSpec) { s.serial = big.NewInt(0) }, []string{FieldSerialNumber}},
		{"serial negative", org, func(s *certSpec) { s.serial = big.NewInt(-5) }, []string{FieldSerialNumber}},
		{"notAfter before notBefore", org, func(s *certSpec) { s.notAfter = s.notBefore.Add(-time.Second) }, []string{FieldValidity}},
		{"keyUsage absent", org, func(s *certSpec) { s.without(oidExtKeyUsage) }, []string{FieldKeyUsage}},
		{"keyUsage not critical", org, func(s *certSpec) { s.replace(extKU(false, KeyUsageDigitalSignature)) }, []string{FieldKeyUsage}},
		{"keyUsage DS and KA", org, func(s *certSpec) {
			s.replace(extKU(true, KeyUsageDigitalSignature|KeyUsageKeyAgreement))
		}, []string{FieldKeyUsage}},
		{"keyUsage keyEncipherment", org, func(s *certSpec) { s.replace(extKU(true, KeyUsageKeyEncipherment)) }, []string{FieldKeyUsage}},
		{"keyUsage keyCertSign on an end entity", org, func(s *certSpec) {
			s.replace(extKU(true, KeyUsageDigitalSignature|KeyUsageCertSign))
		}, []string{FieldKeyUsage}},
		{"SKI absent", org, func(s *certSpec) { s.without(oidExtSubjectKeyID) }, []string{FieldSubjectKeyID}},
		{"SKI 20 bytes", org, func(s *certSpec) { s.replace(extSKI(false, make([]byte, 20))) }, []string{FieldSubjectKeyID}},
		{"SKI critical", org, func(s *certSpec) { s.replace(extSKI(true, keyID(s.pub))) }, []string{FieldSubjectKeyID}},
		{"AKI absent", org, func(s *certSpec) { s.without(oidExtAuthorityKeyID) }, []string{FieldAuthorityKeyID}},
		{"AKI 20 bytes", org, func(s *certSpec) { s.replace(extAKI(false, make([]byte, 20), false)) }, []string{FieldAuthorityKeyID}},
		{"AKI critical", org, func(s *certSpec) {
			s.replace(extAKI(true, keyID(&p.caKey.PublicKey), false))
		}, []string{FieldAuthorityKeyID}},
		{"AKI with serial", org, func(s *certSpec) {
			s.replace(extAKI(false, keyID(&p.caKey.PublicKey), true))
		}, []string{FieldAuthorityKeyID}},
		{"policies absent", org, func(s *certSpec) { s.without(oidExtCertPolicies) }, []string{FieldPolicies}},
		{"policies not critical", org, func(s *certSpec) { s.replace(extPolicies(false, oidTestPolicy)) }, []string{FieldPolicies}},
		{"policies empty", org, func(s *certSpec) { s.replace(extPolicies(true)) }, []string{FieldPolicies}},
		{"unknown critical extension", org, func(s *certSpec) {
			s.exts = append(s.exts, ext{asn1.ObjectIdentifier{1, 2, 3, 4}, true, []byte{0x05, 0x00}})
		}, []string{FieldExtensions}},
		{"pathLen on an end entity", org, func(s *certSpec) { s.exts = append(s.exts, extBC(true, false, 0)) }, []string{FieldBasicConstraints}},
		// Organisation subject.
		{"OU 137", org, func(s *certSpec) { s.subject = nameDER(attrOU("137"), attrUID(e)) }, []string{FieldSubjectOU}},
		{"OU one digit", org, func(s *certSpec) { s.subject = nameDER(attrOU("5"), attrUID(e)) }, []string{FieldSubjectOU}},
		{"OU not hex", org, func(s *certSpec) { s.subject = nameDER(attrOU("0G"), attrUID(e)) }, []string{FieldSubjectOU}},
		{"OU absent", org, func(s *certSpec) { s.subject = nameDER(attrCN("X"), attrUID(e)) }, []string{FieldSubjectOU}},
		{"OU twice", org, func(s *certSpec) { s.subject = nameDER(attrOU("05"), attrOU("02"), attrUID(e)) }, []string{FieldSubjectOU}},
		{"OU of a CA role", org, func(s *certSpec) { s.subject = nameDER(attrOU("07"), attrUID(e)) }, []string{FieldSubjectOU}},
		{"OU of an unknown role", org, func(s *certSpec) { s.subject = nameDER(attrOU("09"), attrUID(e)) }, []string{FieldSubjectOU}},
		{"UID absent", org, func(s *certSpec) { s.subject = nameDER(attrOU("05")) }, []string{FieldSubjectUID}},
		{"UID 56 bits", org, func(s *certSpec) {
			s.subject = nameDER(attrOU("05"), Attribute{oidAttrUniqueIdentifier, TagBitString, append([]byte{0}, e[:7]...)})
		}, []string{FieldSubjectUID}},
		{"UID 72 bits", org, func(s *certSpec) {
			s.subject = nameDER(attrOU("05"), Attribute{oidAttrUniqueIdentifier, TagBitString, append([]byte{0, 1}, e[:]...)})
		}, []string{FieldSubjectUID}},
		{"UID 60 bits", org, func(s *certSpec) {
			v := append([]byte{4}, e[:]...)
			v[8] &^= 0x0f
			s.subject = nameDER(attrOU("05"), Attribute{oidAttrUniqueIdentifier, TagBitString, v})
		}, []string{FieldSubjectUID}},
		{"UID as UTF8String", org, func(s *certSpec) {
			s.subject = nameDER(attrOU("05"), Attribute{oidAttrUniqueIdentifier, TagUTF8String, []byte(e.Hex())})
		}, []string{FieldSubjectUID}},
		{"extra subject attribute", org, func(s *certSpec) {
			s.subject = nameDER(Attribute{asn1.ObjectIdentifier{2, 5, 4, 10}, TagUTF8String, []byte("DCC")}, attrOU("05"), attrUID(e))
		}, []string{FieldSubject}},
		{"every violation at once", org, func(s *certSpec) {
			s.subject = nameDER(attrOU("137"))
			s.without(oidExtKeyUsage)
			s.without(oidExtAuthorityKeyID)
		}, []string{FieldAuthorityKeyID, FieldKeyUsage, FieldSubjectOU, FieldSubjectUID}},
		// Device.
		{"device SAN not critical", dev, func(s *certSpec) {
			s.replace(extSAN(false, hwModuleGN(mustHex("00DB1234567890A0"))))
		}, []string{FieldSubjectAltName}},
		{"device SAN absent", dev, func(s *certSpec) { s.without(oidExtSubjectAltName) }, []string{FieldSubjectAltName}},
		{"device SAN with a DNS name too", dev, func(s *certSpec) {
			s.replace(extSAN(true, hwModuleGN(mustHex("00DB1234567890A0")), dnsGN("meter.example")))
		}, []string{FieldSubjectAltName}},
		{"device SAN with two hardware module names", dev, func(s *certSpec) {
			s.replace(extSAN(true, hwModuleGN(mustHex("00DB1234567890A0")), hwModuleGN(mustHex("00DB1234567890A1"))))
		}, []string{FieldSubjectAltName}},
		{"device hwSerialNum 7 bytes", dev, func(s *certSpec) {
			s.replace(extSAN(true, hwModuleGN(mustHex("00DB1234567890"))))
		}, []string{FieldSubjectAltName}},
		{"device notAfter 2035", dev, func(s *certSpec) { s.notAfter = t2035 }, []string{FieldNotAfter}},
		{"device two policies", dev, func(s *certSpec) {
			s.replace(extPolicies(true, oidDevicePolicy, oidTestPolicy))
		}, []string{FieldPolicies}},
		{"device keyUsage DS and KA", dev, func(s *certSpec) {
			s.replace(extKU(true, KeyUsageDigitalSignature|KeyUsageKeyAgreement))
		}, []string{FieldKeyUsage}},
		// CAs.
		{"root AKI absent but not self-signed", root, func(s *certSpec) { s.signer = other }, []string{FieldAuthorityKeyID}},
		{"issuing CA AKI absent", issuing, func(s *certSpec) { s.without(oidExtAuthorityKeyID) }, []string{FieldAuthorityKeyID}},
		{"CA keyUsage digitalSignature", issuing, func(s *certSpec) {
			s.replace(extKU(true, KeyUsageCertSign|KeyUsageDigitalSignature))
		}, []string{FieldKeyUsage}},
		{"CA keyUsage without keyCertSign", issuing, func(s *certSpec) { s.replace(extKU(true, KeyUsageCRLSign)) }, []string{FieldKeyUsage}},
		{"CA basicConstraints not critical", issuing, func(s *certSpec) { s.replace(extBC(false, true, 0)) }, []string{FieldBasicConstraints}},
		{"CA with a supplier OU", issuing, func(s *certSpec) { s.subject = nameDER(attrOU("02"), attrCN("Z1")) }, []string{FieldSubjectOU}},
		{"CA with a UID", issuing, func(s *certSpec) {
			s.subject = nameDER(attrOU("07"), attrCN("Z1"), attrUID(e))
		}, []string{FieldSubject}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.base()
			if err := s.cert(t).CheckProfile(); err != nil {
				t.Fatalf("baseline fails: %v", err)
			}
			tc.mutate(&s)
			err := s.cert(t).CheckProfile()
			want := slices.Sorted(slices.Values(tc.want))
			if got := violatedFields(err); !slices.Equal(got, want) {
				t.Errorf("violations %v, want %v\nerror: %v", got, want, err)
			}
			if pe, ok := errors.AsType[*ProfileError](err); !ok || !errors.Is(err, ErrProfile) {
				t.Errorf("error %v: not a *ProfileError wrapping ErrProfile", err)
			} else if !strings.HasPrefix(err.Error(), pe.Field+": ") {
				t.Errorf("error %q does not start with its field", err)
			}
		})
	}
}

func TestViolationsOfNonProfileErrors(t *testing.T) {
	if v := Violations(nil); v != nil {
		t.Errorf("Violations(nil) = %v", v)
	}
	if v := Violations(errors.New("x")); v != nil {
		t.Errorf("Violations(plain error) = %v", v)
	}
	pe := &ProfileError{Field: FieldKeyUsage, Reason: "absent"}
	wrapped := errors.Join(errors.New("x"), &wrapErr{pe})
	if v := Violations(wrapped); len(v) != 1 || v[0] != pe {
		t.Errorf("Violations(wrapped) = %v, want [%v]", v, pe)
	}
}

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

// TestCheckProfileCAFamilies: besides Organisation CAs (OU 00/07), SMKI has
// CN-only device CAs (ZAZ1's E357) and the IKI File Signing CA, whose DN the
// ADT signature line fixes.
func TestCheckProfileCAFamilies(t *testing.T) {
	p := newTestPKI(t)
	attrO := func(s string) Attribute { return Attribute{oidAttrOrganization, TagUTF8String, []byte(s)} }
	cases := []struct {
		name    string
		subject []byte
		want    []string
	}{
		{"ok/device-ca", nameDER(attrCN("E357")), nil},
		{"ok/iki-file-signing-ca", nameDER(attrO("DCC"), attrOU("issuingAuthority"), attrCN("IKI File Signing CA")), nil},
		{"fail/iki-without-O", nameDER(attrOU("issuingAuthority"), attrCN("IKI File Signing CA")), []string{FieldSubjectOU}},
		{"fail/iki-with-uid", nameDER(attrO("DCC"), attrOU("issuingAuthority"), attrCN("IKI"), attrUID(eui.MustParse("90B3D51F30000004"))), []string{FieldSubject}},
		{"fail/two-CNs", nameDER(attrCN("E357"), attrCN("E358")), []string{FieldSubjectOU}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := p.caSpec
			s.exts = slices.Clone(s.exts)
			s.subject = tc.subject
			got := violatedFields(s.cert(t).CheckProfile())
			if !slices.Equal(got, slices.Sorted(slices.Values(tc.want))) {
				t.Errorf("violations %v, want %v", got, tc.want)
			}
		})
	}
}
