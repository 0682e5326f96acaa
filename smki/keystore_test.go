package smki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

func TestParseKeystoreVectors(t *testing.T) {
	entries := vectorKeystore(t)
	if len(entries) != 33 {
		t.Fatalf("%d entries, want 33", len(entries))
	}
	for i := 1; i < len(entries); i++ {
		a, b := entries[i-1], entries[i]
		if c := bytes.Compare(a.EUI[:], b.EUI[:]); c > 0 || c == 0 && a.Usage > b.Usage {
			t.Fatalf("entries not sorted at %d: %s/%v then %s/%v", i, a.EUI, a.Usage, b.EUI, b.Usage)
		}
	}
	tests := []struct {
		name   string
		role   RemotePartyRole
		eui    string
		usage  KeyUsage
		serial string
		cn     string
	}{
		{"Z1-transitionalCoS-ds", RoleTransitionalCoS, "90B3D51F30000004", KeyUsageDigitalSignature, "3CE369AB08F102975C5490D6B88FC066", ""},
		{"Z1b-transitionalCoS-ds", RoleTransitionalCoS, "90B3D51F30000004", KeyUsageDigitalSignature, "52881F0CB3926FDFAC03FC8827AA11BD", ""},
		{"Z1-supplier2-ds", RoleSupplier, "90B3D51F30030000", KeyUsageDigitalSignature, "39EAFF0055CE4DAF085AC874C7C84BD3", "GITTESTSUPPLIER2"},
		{"Z1-supplier2PP-ka", RoleSupplier, "90B3D51F30030000", KeyUsageKeyAgreement, "30E12228CEDECA04DE91A825B22CE740", ""},
		{"Z1-loadController-ka", RoleLoadController, "90B3D51F30010008", KeyUsageKeyAgreement, "24AC01DF8384E18F7B539B1EAD4628BC", ""},
		{"mdr-ds", RoleOther, "90B3D51F30010009", KeyUsageDigitalSignature, "173CFBF08C3464D8C0E61E331D73D6A0", "MDR"},
		{"otherUser-ds", RoleOther, "00DB123456780004", KeyUsageDigitalSignature, "43F410FE3624C88E20521E8CA23ECD25", ""},
		{"xml-sign-90B3D51F30010000-ds", RoleXMLSign, "90B3D51F30010000", KeyUsageDigitalSignature, "14BE4AD2EA1D0E4EC7F7156BD24624A7", ""},
		{"dsp-xml-sign-90B3D51F30000002-ds", RoleDSPXMLSign, "90B3D51F30000002", KeyUsageDigitalSignature, "7DAC7283AAD29BDD23C9EFBFDDB52A41", ""},
	}
	for _, tc := range tests {
		e := keystoreEntryNamed(t, entries, tc.name)
		c := e.Certificate
		if e.Role != tc.role || c.Role != tc.role || e.EUI != eui.MustParse(tc.eui) || c.EUI != e.EUI ||
			e.Usage != tc.usage || c.SerialNumber.Cmp(mustSerial(tc.serial)) != 0 || c.CommonName != tc.cn {
			t.Errorf("%s: role %v/%v EUI %s usage %v serial %X CN %q", tc.name, e.Role, c.Role, e.EUI, e.Usage, c.SerialNumber, c.CommonName)
		}
	}
	// The keys are usable: the TCoS key signs what its certificate verifies.
	e := keystoreEntryNamed(t, entries, "Z1-transitionalCoS-ds")
	h := sha256.Sum256([]byte("CS02b"))
	sig, err := ecdsa.SignASN1(rand.Reader, e.PrivateKey, h[:])
	if err != nil || !ecdsa.VerifyASN1(e.Certificate.PublicKey, h[:], sig) {
		t.Errorf("TCoS key does not match its certificate: %v", err)
	}
	// The same key as the standalone vector file.
	file := vectorCert(t, "Z1-transitionalCoS-ds.pem")
	if !file.Equal(e.Certificate) {
		t.Error("keystore Z1-transitionalCoS-ds differs from keys/Z1-transitionalCoS-ds.pem")
	}
}

// keystoreJSON builds a one-entry keystore for negative tests.
type ksFixture struct {
	eui, usage, serial string
	entry              map[string]any
}

func (f ksFixture) json(t testing.TB) []byte {
	b, err := json.Marshal(map[string]any{f.eui: map[string]any{f.usage: map[string]any{f.serial: f.entry}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKSFixture(t testing.TB) (ksFixture, *ecdsa.PrivateKey) {
	p := newTestPKI(t)
	e := eui.MustParse("90B3D51F30000004")
	k := newKey(t)
	s := p.orgSpec(t, "05", e, KeyUsageDigitalSignature)
	s.pub = &k.PublicKey
	s.replace(extSKI(false, keyID(&k.PublicKey)))
	c := s.cert(t)
	pk8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return ksFixture{
		eui: "90b3d51f30000004", usage: "digitalSignature", serial: c.SerialNumber.String(),
		entry: map[string]any{
			"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
			"privateKey":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8})),
			"name":        "test-transitionalCoS-ds",
			"role":        5,
		},
	}, k
}

func TestParseKeystore(t *testing.T) {
	f, k := newKSFixture(t)
	entries, err := ParseKeystore(f.json(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !entries[0].PrivateKey.Equal(k) || entries[0].Name != "test-transitionalCoS-ds" ||
		entries[0].Role != RoleTransitionalCoS || entries[0].Usage != KeyUsageDigitalSignature {
		t.Fatalf("entries = %+v", entries)
	}

	other := newKey(t)
	otherPK8, _ := x509.MarshalPKCS8PrivateKey(other)
	tests := []struct {
		name   string
		mutate func(f *ksFixture)
		raw    string // used instead of the fixture when set
		want   string
	}{
		{"not JSON", nil, "{", "keystore:"},
		{"trailing data", nil, "{} {}", "trailing data"},
		{"bad EUI", func(f *ksFixture) { f.eui = "90b3d51f3000000" }, "", "invalid EUI-64"},
		{"EUI of someone else", func(f *ksFixture) { f.eui = "90b3d51f30000005" }, "", "certificate EUI"},
		{"unknown usage", func(f *ksFixture) { f.usage = "keyEncipherment" }, "", `unknown usage "keyEncipherment"`},
		{"usage mismatch", func(f *ksFixture) { f.usage = "keyAgreement" }, "", "key usage"},
		{"serial not decimal", func(f *ksFixture) { f.serial = "0x10" }, "", "not a decimal integer"},
		{"serial mismatch", func(f *ksFixture) { f.serial = "12345" }, "", "certificate serial"},
		{"role mismatch", func(f *ksFixture) { f.entry["role"] = 2 }, "", "certificate role transitionalCoS differs from role 2"},
		{"role missing", func(f *ksFixture) { delete(f.entry, "role") }, "", "role"},
		{"role out of range", func(f *ksFixture) { f.entry["role"] = 300 }, "", "role"},
		{"unknown field", func(f *ksFixture) { f.entry["password"] = "x" }, "", "unknown field"},
		{"certificate not PEM", func(f *ksFixture) { f.entry["certificate"] = "MIIB" }, "", "no PEM CERTIFICATE block"},
		{"two certificates", func(f *ksFixture) {
			f.entry["certificate"] = strings.Repeat(f.entry["certificate"].(string), 2)
		}, "", "2 certificates"},
		{"private key of another certificate", func(f *ksFixture) {
			f.entry["privateKey"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherPK8}))
		}, "", "private key does not match"},
		{"private key not PEM", func(f *ksFixture) { f.entry["privateKey"] = "x" }, "", "not a PEM PRIVATE KEY"},
		{"private key garbage", func(f *ksFixture) {
			f.entry["privateKey"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}))
		}, "", "privateKey:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.raw)
			if tc.mutate != nil {
				f, _ := newKSFixture(t)
				tc.mutate(&f)
				in = f.json(t)
			}
			entries, err := ParseKeystore(in)
			if err == nil || entries != nil {
				t.Fatalf("got %d entries, %v; want nil, error", len(entries), err)
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Errorf("error %T is not *ParseError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Count(err.Error(), "smki:") != 1 {
				t.Errorf("error %q repeats its prefix", err)
			}
		})
	}
}

// TestParseKeystoreDuplicates: JSON keeps the last of two equal names
// silently, and two spellings of one EUI or serial are two names; either
// way one certificate would hide another, so both are refused by name.
func TestParseKeystoreDuplicates(t *testing.T) {
	f, _ := newKSFixture(t)
	entry, err := json.Marshal(f.entry)
	if err != nil {
		t.Fatal(err)
	}
	e := string(entry)
	for _, tc := range []struct{ name, doc, want string }{
		{"name twice", `{"` + f.eui + `":{"digitalSignature":{"` + f.serial + `":` + e + `,"` + f.serial + `":` + e + `}}}`,
			`name "` + f.serial + `" at byte`},
		{"EUI twice", `{"` + f.eui + `":{},"` + f.eui + `":{}}`, `name "` + f.eui + `" at byte`},
		{"EUI spelled twice", `{"` + f.eui + `":{"digitalSignature":{"` + f.serial + `":` + e + `}},"90-B3-D5-1F-30-00-00-04":{"digitalSignature":{"` + f.serial + `":` + e + `}}}`,
			"keystore 90b3d51f30000004/digitalSignature/" + f.serial + ": the same certificate as 90-B3-D5-1F-30-00-00-04/digitalSignature/" + f.serial},
		{"serial spelled twice", `{"` + f.eui + `":{"digitalSignature":{"` + f.serial + `":` + e + `,"0` + f.serial + `":` + e + `}}}`,
			"keystore 90b3d51f30000004/digitalSignature/" + f.serial + ": the same certificate as 90b3d51f30000004/digitalSignature/0" + f.serial},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := ParseKeystore([]byte(tc.doc))
			if err == nil || entries != nil {
				t.Fatalf("got %d entries, %v; want nil, error", len(entries), err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
