package testpki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

// csrSpec is a request as a hostile or mistaken requester could make it,
// built with crypto/x509 so the CA's checks are tested against requests
// ecos's own request writer would never produce.
type csrSpec struct {
	key     crypto.Signer
	subject name
	exts    []pkix.Extension
	corrupt bool // flip a bit of the signature
}

var (
	kuDS = pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: []byte{0x03, 0x02, 0x07, 0x80}}
	kuKA = pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: []byte{0x03, 0x02, 0x03, 0x08}}
)

func (s csrSpec) request(t *testing.T) *smki.Request {
	t.Helper()
	raw, err := s.subject.bytes()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{RawSubject: raw, ExtraExtensions: s.exts}, s.key)
	if err != nil {
		t.Fatal(err)
	}
	if s.corrupt {
		der[len(der)-3] ^= 0x01
	}
	r, err := smki.ParseRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func p256(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var newECoS = eui.MustParse("EE-C0-5E-00-00-00-00-05")

// TestIssueOrganisation: the Organisation CA issues what a good request
// asks for, and the certificate passes smki's profile check and chains
// to the root.
func TestIssueOrganisation(t *testing.T) {
	p := generate(t, Options{})
	key := p256(t)
	req := csrSpec{key: key, subject: entityName("ECOS", RoleTransitionalCoS, newECoS), exts: []pkix.Extension{kuDS}}.request(t)
	der, err := p.IssueOrganisation(req, IssueOptions{Now: testNow, Role: role.TransitionalCoS})
	if err != nil {
		t.Fatal(err)
	}
	c, err := smki.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckProfile(); err != nil {
		t.Fatal(err)
	}
	root, _ := smki.Parse(p.Root.Cert)
	ca, _ := smki.Parse(p.OrgCA.Cert)
	if _, err := smki.Verify(c, smki.VerifyOptions{Roots: smki.NewPool(root), Intermediates: smki.NewPool(ca), Now: testNow}); err != nil {
		t.Fatal(err)
	}
	ski, _ := keyID(&key.PublicKey)
	switch {
	case !c.PublicKey.Equal(&key.PublicKey):
		t.Error("another key certified")
	case !bytes.Equal(c.Subject.Raw, req.Subject.Raw):
		t.Error("the subject is not the request's")
	case c.Role != role.TransitionalCoS || c.EUI != newECoS || c.CommonName != "ECOS" || c.KeyUsage != smki.KeyUsageDigitalSignature:
		t.Errorf("role %v EUI %v CN %q usage %v", c.Role, c.EUI, c.CommonName, c.KeyUsage)
	case !bytes.Equal(c.SubjectKeyID, ski) || !bytes.Equal(c.AuthorityKeyID, p.OrgCA.SKI):
		t.Errorf("SKI %X AKI %X", c.SubjectKeyID, c.AuthorityKeyID)
	case !c.NotBefore.Equal(testNow) || !c.NotAfter.Equal(testNow.AddDate(10, 0, 0).Add(-1e9)):
		t.Errorf("validity %v..%v", c.NotBefore, c.NotAfter)
	}
	// The PKI's own ECoS certificate has the same shape, extension for
	// extension, with the new key's identifiers.
	mine, theirs := parseParts(t, der), parseParts(t, p.ECoS.Cert)
	if len(mine.exts) != len(theirs.exts) {
		t.Fatalf("%d extensions, the PKI's ECoS certificate has %d", len(mine.exts), len(theirs.exts))
	}
	for i := range mine.exts {
		if mine.exts[i].oid != theirs.exts[i].oid || mine.exts[i].critical != theirs.exts[i].critical {
			t.Errorf("extension %d: %+v, want the shape of %+v", i, mine.exts[i], theirs.exts[i])
		}
	}
}

func TestIssueOrganisationRefuses(t *testing.T) {
	p := generate(t, Options{})
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tcos := entityName("", RoleTransitionalCoS, newECoS)
	bc := pkix.Extension{Id: oidExtBasicConstraints, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xFF}}
	for _, tc := range []struct {
		name string
		spec csrSpec
		opts IssueOptions
		want string
	}{
		{"bad signature", csrSpec{key: p256(t), subject: tcos, exts: []pkix.Extension{kuDS}, corrupt: true}, IssueOptions{}, "not signed by the key it carries"},
		{"wrong role", csrSpec{key: p256(t), subject: entityName("", RoleSupplier, newECoS), exts: []pkix.Extension{kuDS}}, IssueOptions{}, "asks for role supplier"},
		{"P-384 key", csrSpec{key: p384, subject: tcos, exts: []pkix.Extension{kuDS}}, IssueOptions{}, "want prime256v1"},
		{"RSA key", csrSpec{key: rsaKey, subject: tcos, exts: []pkix.Extension{kuDS}}, IssueOptions{}, "want id-ecPublicKey"},
		{"key agreement", csrSpec{key: p256(t), subject: tcos, exts: []pkix.Extension{kuKA}}, IssueOptions{}, "must ask for digitalSignature"},
		{"both usages", csrSpec{key: p256(t), subject: tcos, exts: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: []byte{0x03, 0x02, 0x03, 0x88}}}}, IssueOptions{}, "want exactly digitalSignature or exactly keyAgreement"},
		{"no key usage", csrSpec{key: p256(t), subject: tcos}, IssueOptions{}, "keyUsage: not requested"},
		{"usage not critical", csrSpec{key: p256(t), subject: tcos, exts: []pkix.Extension{{Id: oidExtKeyUsage, Value: kuDS.Value}}}, IssueOptions{}, "requested not critical"},
		{"asks to be a CA", csrSpec{key: p256(t), subject: tcos, exts: []pkix.Extension{kuDS, bc}}, IssueOptions{}, "requests extension 2.5.29.19"},
		{"no EUI", csrSpec{key: p256(t), subject: name{{oidOrganizationUnit, 0x0C, []byte("05")}}, exts: []pkix.Extension{kuDS}}, IssueOptions{}, "x500UniqueIdentifier: 0 present"},
		{"EUI as text", csrSpec{key: p256(t), subject: name{{oidOrganizationUnit, 0x0C, []byte("05")}, {oidUniqueIdentifier, 0x0C, []byte("EEC05E0000000005")}}, exts: []pkix.Extension{kuDS}}, IssueOptions{}, "want BIT STRING"},
		{"role not hex", csrSpec{key: p256(t), subject: name{{oidOrganizationUnit, 0x0C, []byte("transitionalCoS")}, {oidUniqueIdentifier, 0x03, append([]byte{0}, newECoS[:]...)}}, exts: []pkix.Extension{kuDS}}, IssueOptions{}, "not exactly 2 hex digits"},
		{"extra attribute", csrSpec{key: p256(t), subject: append(name{{oidOrganization, 0x0C, []byte("Evil")}}, tcos...), exts: []pkix.Extension{kuDS}}, IssueOptions{}, "unexpected attribute 2.5.4.10"},
		{"CA role", csrSpec{key: p256(t), subject: entityName("", RoleIssuingAuthority, newECoS), exts: []pkix.Extension{kuDS}}, IssueOptions{Role: role.IssuingAuthority}, "belongs to a CA"},
		{"outlasts the CA", csrSpec{key: p256(t), subject: tcos, exts: []pkix.Extension{kuDS}}, IssueOptions{NotAfter: testNow.AddDate(30, 0, 0)}, "outlasts the Organisation CA"},
		{"another party's EUI", csrSpec{key: p256(t), subject: entityName("", RoleTransitionalCoS, SupplierEUI(1)), exts: []pkix.Extension{kuDS}}, IssueOptions{}, "is supplier1-ds's in this PKI (supplier), not a transitionalCoS party's"},
		{"a device's EUI", csrSpec{key: p256(t), subject: entityName("", RoleTransitionalCoS, DeviceEUI(1)), exts: []pkix.Extension{kuDS}}, IssueOptions{}, "is device-0001-ds's"},
		{"zero EUI", csrSpec{key: p256(t), subject: entityName("", RoleTransitionalCoS, eui.EUI{}), exts: []pkix.Extension{kuDS}}, IssueOptions{}, "all-zero EUI-64"},
		{"ends before it starts", csrSpec{key: p256(t), subject: tcos, exts: []pkix.Extension{kuDS}}, IssueOptions{NotAfter: testNow.Add(-1e9)}, "not after it starts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Now = testNow
			if o.Role == 0 {
				o.Role = role.TransitionalCoS
			}
			der, err := p.IssueOrganisation(tc.spec.request(t), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("issued %d bytes, error %v; want an error saying %q", len(der), err, tc.want)
			}
		})
	}
}
