package smki

import (
	"encoding/pem"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

func decimal(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

// TestPoolVectorsXMLDSig resolves the X509IssuerSerial of every signed
// DUIS vector, the way the xmldsig layer will.
func TestPoolVectorsXMLDSig(t *testing.T) {
	pool, err := LoadPEMDir(filepath.Join(testkit.VectorsDir(t), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	// 20 files, three of them byte-identical copies (Z1-supplier-ds =
	// 90b3d51f30010000-ds, Z1-supplier2-ds = 90b3d51f30030000-ds,
	// Z1-transitionalCoS-ds = 90b3d51f30000004-ds).
	if pool.Len() != 17 {
		t.Errorf("pool has %d certificates, want 17", pool.Len())
	}
	issuer, err := ParseName("CN=Z1,OU=07")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		serial string // decimal, as in X509SerialNumber
		file   string // "" for no match
	}{
		{"27572613927499351639968579586655397031", "xml-sign-90B3D51F30010000-ds.pem"},      // GENERATED_6.23 request
		{"20315062944123339095836004026371736578", "Z1-accessControlBroker-dSPXmlSign.pem"}, // read-inventory-response-5.4
		{"50669612984035780968362471400449834504", "dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem"},
		{"117636141832862931915946451229571981153", "90b3d51f30000002-ds.pem"}, // readfw-response-resigned
		{"217636141832862931915946451229571981153", ""},                        // readfw-response-nonexist-serial
	}
	for _, tc := range tests {
		got := pool.FindByIssuerSerial(issuer, decimal(tc.serial))
		switch {
		case tc.file == "" && got != nil:
			t.Errorf("serial %s: found %v, want none", tc.serial, got)
		case tc.file != "" && !got.Equal(vectorCert(t, tc.file)):
			t.Errorf("serial %s: found %v, want %s", tc.serial, got, tc.file)
		}
	}
}

func TestPoolVectorsKeystore(t *testing.T) {
	pool, err := LoadKeystoreFile(filepath.Join(testkit.VectorsDir(t), "keys", "keystore.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pool.Len() != 33 {
		t.Errorf("pool has %d certificates, want 33", pool.Len())
	}
	tcos := pool.FindByEUI(eui.MustParse("90B3D51F30000004"), RoleTransitionalCoS, KeyUsageDigitalSignature)
	var serials []string
	for _, c := range tcos {
		serials = append(serials, c.SerialNumber.Text(16))
	}
	// Newest first: Z1b (2016) before Z1 (2015).
	if want := []string{"52881f0cb3926fdfac03fc8827aa11bd", "3ce369ab08f102975c5490d6b88fc066"}; !slices.Equal(serials, want) {
		t.Errorf("TCoS DS certificates %v, want %v", serials, want)
	}
	if got := pool.FindByEUI(eui.MustParse("90B3D51F30000004"), RoleTransitionalCoS, KeyUsageKeyAgreement); got != nil {
		t.Errorf("TCoS has KA certificates %v, want none", got)
	}
	acb := eui.MustParse("90B3D51F30000002")
	if got := pool.FindByEUI(acb, RoleAccessControlBroker, 0); len(got) != 4 {
		t.Errorf("ACB has %d certificates of any usage, want 4", len(got))
	}
	if got := pool.FindByEUI(acb, RoleDSPXMLSign, KeyUsageDigitalSignature); len(got) != 1 {
		t.Errorf("ACB has %d DSP XML signing certificates, want 1", len(got))
	}
	if got := pool.FindBySKI(mustHex("4F3F10855696FEF2")); len(got) != 1 || got[0].SerialNumber.Text(16) != "52881f0cb3926fdfac03fc8827aa11bd" {
		t.Errorf("FindBySKI(Z1b TCoS) = %v", got)
	}
}

func TestPool(t *testing.T) {
	p := newTestPKI(t)
	e := eui.MustParse("90B3D51F30010000")
	old := p.orgSpec(t, "02", e, KeyUsageDigitalSignature)
	old.notBefore = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := p.orgSpec(t, "02", e, KeyUsageDigitalSignature)
	newer.notBefore = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	ka := p.orgSpec(t, "02", e, KeyUsageKeyAgreement)
	xml := p.orgSpec(t, "87", e, KeyUsageDigitalSignature)
	oldC, newC, kaC, xmlC := old.cert(t), newer.cert(t), ka.cert(t), xml.cert(t)

	pool := NewPool(oldC, nil, newC, kaC, xmlC, p.ca, oldC)
	if pool.Len() != 5 {
		t.Errorf("Len = %d, want 5 (nil and duplicate dropped)", pool.Len())
	}
	if got := pool.Certificates(); !slices.EqualFunc(got, []*Certificate{oldC, newC, kaC, xmlC, p.ca}, (*Certificate).Equal) {
		t.Errorf("Certificates() = %v, not in insertion order", got)
	}
	if got := pool.FindByEUI(e, RoleSupplier, KeyUsageDigitalSignature); !slices.EqualFunc(got, []*Certificate{newC, oldC}, (*Certificate).Equal) {
		t.Errorf("FindByEUI(DS) = %v, want [newer, old]", got)
	}
	if got := pool.FindByEUI(e, RoleSupplier, 0); len(got) != 3 {
		t.Errorf("FindByEUI(any usage) = %d certificates, want 3", len(got))
	}
	if got := pool.FindByEUI(e, RoleXMLSign, 0); len(got) != 1 || !got[0].Equal(xmlC) {
		t.Errorf("FindByEUI(xmlSign) = %v", got)
	}
	if got := pool.FindByEUI(eui.MustParse("90B3D51F30010001"), RoleSupplier, 0); got != nil {
		t.Errorf("FindByEUI(unknown EUI) = %v", got)
	}
	if got := pool.FindBySKI(keyID(kaC.PublicKey)); len(got) != 1 || !got[0].Equal(kaC) {
		t.Errorf("FindBySKI = %v", got)
	}
	if got := pool.FindBySubject(p.ca.Subject); len(got) != 1 || !got[0].Equal(p.ca) {
		t.Errorf("FindBySubject = %v", got)
	}
	issuer, _ := ParseName("cn=z1, ou=07") // other case and spacing still match
	if got := pool.FindByIssuerSerial(issuer, kaC.SerialNumber); !got.Equal(kaC) {
		t.Errorf("FindByIssuerSerial = %v, want the KA certificate", got)
	}
	if got := pool.FindByIssuerSerial(p.root.Subject, kaC.SerialNumber); got != nil {
		t.Errorf("FindByIssuerSerial(wrong issuer) = %v", got)
	}
	if !pool.Contains(kaC) || pool.Contains(p.root) || pool.Contains(nil) {
		t.Error("Contains is wrong")
	}
	// Returned slices are copies.
	got := pool.FindByEUI(e, RoleSupplier, 0)
	got[0] = nil
	if pool.FindByEUI(e, RoleSupplier, 0)[0] == nil {
		t.Error("FindByEUI exposes the pool's slice")
	}
}

func TestNilPool(t *testing.T) {
	var p *Pool
	c := newTestPKI(t).ca
	if p.Len() != 0 || p.Certificates() != nil || p.Contains(c) || p.FindBySKI(c.SubjectKeyID) != nil ||
		p.FindBySubject(c.Subject) != nil || p.FindByIssuerSerial(c.Issuer, c.SerialNumber) != nil ||
		p.FindByEUI(c.EUI, RoleSupplier, 0) != nil {
		t.Error("nil Pool is not empty")
	}
}

func TestLoadPEMFS(t *testing.T) {
	p := newTestPKI(t)
	certPEM := func(c *Certificate) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) }
	pool, err := LoadPEMFS(fstest.MapFS{
		"root.pem":   {Data: certPEM(p.root)},
		"ca.pem":     {Data: append(certPEM(p.ca), certPEM(p.root)...)},
		"notes.txt":  {Data: []byte("not a certificate")},
		"sub/x.pem":  {Data: []byte("ignored: not at the top level")},
		"ca-key.key": {Data: []byte("ignored")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if pool.Len() != 2 || !pool.Contains(p.root) || !pool.Contains(p.ca) {
		t.Errorf("pool = %v, want root and ca", pool.Certificates())
	}
	_, err = LoadPEMFS(fstest.MapFS{
		"root.pem":  {Data: certPEM(p.root)},
		"empty.pem": {Data: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")},
	})
	if err == nil {
		t.Error("a .pem file without a certificate was accepted")
	}
	if _, err := LoadPEMDir(t.TempDir()); err != nil {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := LoadKeystoreFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("LoadKeystoreFile of a missing file succeeded")
	}
}
