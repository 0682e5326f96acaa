package testpki

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// shape is everything about a certificate's encoding except its values
// (keys, serial, names, EUI-64s, dates): what "same profile" means.
type shape struct {
	Version       int64
	SerialLen     int
	SigAlg        string
	SPKIAlg       string
	Subject       []string // attribute type / string type, in order
	Issuer        []string
	TimeTags      []string
	Extensions    []string // in order, "!" marks critical
	KeyUsage      string
	Policies      string
	Basic         string
	SKILen        int
	SKIMethod2    bool
	AKIForm       string // value with the key identifier masked
	SANForm       string // value with the EUI-64 masked
	UIDBitString  string // "03 09 00" prefix of the x500UniqueIdentifier
	SignatureAlgs bool   // inner and outer algorithm identical
}

func shapeOf(t testing.TB, der []byte) shape {
	t.Helper()
	p := parseParts(t, der)
	x := p.extsByName
	s := shape{
		Version: p.version, SerialLen: len(p.serial),
		SigAlg: hex.EncodeToString(p.sigAlg), SPKIAlg: hex.EncodeToString(p.spkiAlg),
		Subject: attrShape(t, p.subject), Issuer: attrShape(t, p.issuer),
		TimeTags:   []string{tagName(p.timeTags[0]), tagName(p.timeTags[1])},
		Extensions: p.extOrder(),
		KeyUsage:   hex.EncodeToString(x["keyUsage"].value), Policies: hex.EncodeToString(x["policies"].value),
		Basic:  hex.EncodeToString(x["basicConstraints"].value),
		SKILen: len(x["ski"].value) - 2, SKIMethod2: bytes.Equal(x["ski"].value[2:], method2(p.point)),
		SignatureAlgs: bytes.Equal(p.sigAlg, p.outerAlg),
	}
	if aki := x["aki"].value; len(aki) > 4 {
		s.AKIForm = hex.EncodeToString(aki[:4]) + "+" + hex.EncodeToString([]byte{byte(len(aki) - 4)})
	}
	if san := x["san"].value; len(san) > 8 {
		s.SANForm = hex.EncodeToString(san[:len(san)-8]) + "+EUI"
	}
	if i := bytes.Index(p.subject, []byte{0x06, 0x03, 0x55, 0x04, 0x2d}); i >= 0 {
		s.UIDBitString = hex.EncodeToString(p.subject[i+5 : i+8])
	}
	return s
}

// zaz1OrgCA extracts the Z1 issuing CA certificate from the DUIS template
// that carries it in CertificationPathCertificates.
func zaz1OrgCA(t *testing.T) []byte {
	xml := testkit.Vector(t, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")
	m := regexp.MustCompile(`<sr:Certificate>([A-Za-z0-9+/=\s]+)</sr:Certificate>`).FindSubmatch(xml)
	if m == nil {
		t.Fatal("no CertificationPathCertificates/Certificate in the DUIS template")
	}
	der, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(m[1]), nil)))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestZAZ1Shapes puts each generated certificate beside its ZAZ1
// counterpart and requires the same encoding shape. Now is 2015 so that our
// validity, like ZAZ1's, stays within UTCTime.
func TestZAZ1Shapes(t *testing.T) {
	p := generate(t, Options{Now: time.Date(2015, 10, 29, 0, 0, 0, 0, time.UTC)})
	for _, tc := range []struct{ ours, theirs string }{
		{"org-ca", ""}, // from the DUIS template
		{"supplier1-ds", "keys/Z1-supplier-ds.pem"},
		{"supplier2-ds", "keys/Z1-supplier2-ds.pem"},
		{"supplier1-ka", "keys/90b3d51f30030000-ka.pem"},
		{"supplier1-ka-topup", "keys/90b3d51f30030000-pp-ka.pem"},
		{"tcos-ds", "keys/Z1-transitionalCoS-ds.pem"},
		{"ecos-ds", "keys/Z1b-transitionalCoS-ds.pem"},
		{"acb-ds", "keys/90b3d51f30000002-ds.pem"},
		{"acb-ka", "keys/90b3d51f30000002-ka.pem"},
		{"dsp-xml-sign", "keys/Z1-accessControlBroker-dSPXmlSign.pem"},
		{"device-0001-ds", "keys/00db1234567890a0-ds.pem"},
		{"device-0001-ka", "keys/00db1234567890a0-ka.pem"},
	} {
		t.Run(tc.ours, func(t *testing.T) {
			var theirs []byte
			if tc.theirs == "" {
				theirs = zaz1OrgCA(t)
			} else {
				theirs = testkit.PEMBlock(t, tc.theirs)
			}
			if diff := cmp.Diff(shapeOf(t, theirs), shapeOf(t, p.ByName(tc.ours).Cert)); diff != "" {
				t.Errorf("shape differs from %s (-ZAZ1 +ours):\n%s", tc.theirs, diff)
			}
		})
	}
}

// TestKeyIDMethodMatchesZAZ1 shows the SKI rule we implement is the one
// the DCC used: every ZAZ1 key identifier is method 2 of its key.
func TestKeyIDMethodMatchesZAZ1(t *testing.T) {
	files := testkit.Glob(t, "keys/*.pem")
	certs := [][]byte{zaz1OrgCA(t)}
	for _, f := range files {
		certs = append(certs, testkit.PEMBlock(t, filepath.Join("keys", filepath.Base(f))))
	}
	for i, der := range certs {
		p := parseParts(t, der)
		ski := p.extsByName["ski"].value
		if len(ski) != 10 || !bytes.Equal(ski[2:], method2(p.point)) {
			t.Errorf("certificate %d: SKI %x is not method 2 (%x)", i, ski, method2(p.point))
		}
	}
}
