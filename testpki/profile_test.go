package testpki

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
)

// Exact encodings copied from the ZAZ1 certificates (openssl asn1parse).
const (
	hexECDSAWithSHA256 = "300a06082a8648ce3d040302"
	hexP256SPKIAlg     = "301306072a8648ce3d020106082a8648ce3d030107"
	hexKUDS            = "03020780"
	hexKUKA            = "03020308"
	hexKUCA            = "03020106"
	hexOrgPolicies     = "3011300f060d2a863a0001848fb90f01020104"
	hexDevicePolicies  = "3010300e060c2a863a0001edee4001020104"
	hexBCPathLen0      = "30060101ff020100"
	hexBCNoPathLen     = "30030101ff"
	hexSANPrefix       = "3029a02706082b06010505070804a01b3019060d2a863a0001848fb90f010202010408"
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// rdn builds one single-attribute RDN by hand (short-form lengths only), an
// encoder independent of name.go for the expected subjects.
func rdn(oid string, tag byte, value []byte) string {
	atv := fmt.Sprintf("0603%s%02x%02x%x", oid, tag, len(value), value)
	seq := fmt.Sprintf("30%02x%s", len(atv)/2, atv)
	return fmt.Sprintf("31%02x%s", len(seq)/2, seq)
}

func nameHex(rdns ...string) string {
	body := strings.Join(rdns, "")
	return fmt.Sprintf("30%02x%s", len(body)/2, body)
}

const (
	oidCN, oidO, oidOU, oidUID = "550403", "55040a", "55040b", "55042d"
	tagPrintable, tagUTF8      = 0x13, 0x0c
)

func expectedSubject(c *Credential, cn string) string {
	switch c.Profile {
	case ProfileRootCA:
		return nameHex(rdn(oidOU, tagPrintable, []byte("00")), rdn(oidCN, tagPrintable, []byte("TA")))
	case ProfileIssuingCA:
		return nameHex(rdn(oidOU, tagPrintable, []byte("07")), rdn(oidCN, tagPrintable, []byte("T1")))
	case ProfileDeviceCA:
		return nameHex(rdn(oidCN, tagPrintable, []byte("T357")))
	case ProfileFileSigningCA:
		return nameHex(rdn(oidO, tagPrintable, []byte("DCC")), rdn(oidOU, tagPrintable, []byte("issuingAuthority")),
			rdn(oidCN, tagPrintable, []byte("IKI File Signing CA")))
	case ProfileDevice:
		return "3000"
	}
	var rdns []string
	if cn != "" {
		rdns = append(rdns, rdn(oidCN, tagUTF8, []byte(cn)))
	}
	rdns = append(rdns, rdn(oidOU, tagUTF8, fmt.Appendf(nil, "%02X", c.Role)),
		rdn(oidUID, 0x03, append([]byte{0}, c.EUI[:]...)))
	return nameHex(rdns...)
}

// method2 is RFC 5280 §4.2.1.2 method 2, computed independently.
func method2(point []byte) []byte {
	sum := sha1.Sum(point)
	id := slices.Clone(sum[12:])
	id[0] = id[0]&0x0f | 0x40
	return id
}

func TestProfileBytes(t *testing.T) {
	for _, tc := range []struct {
		name               string
		now                time.Time
		caAfter, eeAfter   string
		caTag, eeTag       cbasn1.Tag
		notBefore          string
		notBeforeGenerated bool
	}{
		// 2026 + 25 years crosses 2050: CA notAfter must switch to GeneralizedTime.
		// 2036 is a leap year: 10 years from 1 March end on 29 February.
		{"2026", testNow, "20510228235959Z", "360229235959Z", cbasn1.GeneralizedTime, cbasn1.UTCTime, "260301000000Z", false},
		// Like ZAZ1 (2015..2040): everything UTCTime. Sub-second Now is truncated.
		{"2015", time.Date(2015, 10, 29, 0, 0, 0, 5e8, time.UTC), "401028235959Z", "251028235959Z", cbasn1.UTCTime, cbasn1.UTCTime, "151029000000Z", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := generate(t, Options{Now: tc.now, Suppliers: 2, Devices: 2})
			parts := map[string]*certParts{}
			for _, c := range p.Credentials() {
				parts[c.Name] = parseParts(t, c.Cert)
			}
			for _, c := range p.Credentials() {
				t.Run(c.Name, func(t *testing.T) {
					checkProfile(t, p, c, parts[c.Name], parts[c.IssuerName], tc.caAfter, tc.eeAfter, tc.caTag, tc.eeTag, tc.notBefore)
				})
			}
		})
	}
}

func checkProfile(t *testing.T, p *PKI, c *Credential, cp, ip *certParts, caAfter, eeAfter string, caTag, eeTag cbasn1.Tag, notBefore string) {
	if cp.version != 2 {
		t.Errorf("version %d, want 2 (v3)", cp.version)
	}
	if len(cp.serial) != 16 || cp.serial[0] == 0 || cp.serial[0] >= 0x80 {
		t.Errorf("serial %x: want 16 octets, positive, minimal", cp.serial)
	}
	if !bytes.Equal(cp.serial, c.Serial.Bytes()) {
		t.Errorf("Credential.Serial %x, certificate %x", c.Serial.Bytes(), cp.serial)
	}
	if hex.EncodeToString(cp.sigAlg) != hexECDSAWithSHA256 || hex.EncodeToString(cp.outerAlg) != hexECDSAWithSHA256 {
		t.Errorf("signature algorithm %x / %x, want ecdsa-with-SHA256", cp.sigAlg, cp.outerAlg)
	}
	if hex.EncodeToString(cp.spkiAlg) != hexP256SPKIAlg || len(cp.point) != 65 || cp.point[0] != 4 {
		t.Errorf("SPKI %x %x: want P-256 uncompressed", cp.spkiAlg, cp.point)
	}

	if cp.timeTags[0] != cbasn1.UTCTime || cp.times[0] != notBefore {
		t.Errorf("notBefore %s %q, want UTCTime %q", tagName(cp.timeTags[0]), cp.times[0], notBefore)
	}
	wantTag, wantAfter := eeTag, eeAfter
	switch {
	case c.Profile == ProfileDevice:
		wantTag, wantAfter = cbasn1.GeneralizedTime, "99991231235959Z"
	case c.Profile.IsCA():
		wantTag, wantAfter = caTag, caAfter
	}
	if cp.timeTags[1] != wantTag || cp.times[1] != wantAfter {
		t.Errorf("notAfter %s %q, want %s %q", tagName(cp.timeTags[1]), cp.times[1], tagName(wantTag), wantAfter)
	}

	cn := ""
	for i, s := range p.Suppliers {
		if c == s.DS {
			cn = fmt.Sprintf("ECOSTESTSUPPLIER%d", i+1)
		}
	}
	if got, want := hex.EncodeToString(cp.subject), expectedSubject(c, cn); got != want {
		t.Errorf("subject\n got %s\nwant %s", got, want)
	}
	if !bytes.Equal(cp.issuer, ip.subject) {
		t.Errorf("issuer %x is not %s's subject %x", cp.issuer, c.IssuerName, ip.subject)
	}

	wantOrder := map[Profile][]string{
		ProfileRootCA:        {"keyUsage!", "basicConstraints!", "policies!", "ski"},
		ProfileIssuingCA:     {"keyUsage!", "basicConstraints!", "policies!", "ski", "aki"},
		ProfileDeviceCA:      {"keyUsage!", "basicConstraints!", "policies!", "ski", "aki"},
		ProfileFileSigningCA: {"keyUsage!", "basicConstraints!", "policies!", "ski", "aki"},
		ProfileOrganisation:  {"keyUsage!", "ski", "policies!", "aki"},
		ProfileFileSigning:   {"keyUsage!", "ski", "policies!", "aki"},
		ProfileDevice:        {"keyUsage!", "ski", "san!", "policies!", "aki"},
	}[c.Profile]
	if got := cp.extOrder(); !slices.Equal(got, wantOrder) {
		t.Errorf("extensions %v, want %v", got, wantOrder)
	}
	x := cp.extsByName
	wantKU := map[string]string{UsageDS: hexKUDS, UsageKA: hexKUKA, UsageCA: hexKUCA}[c.Usage]
	if got := hex.EncodeToString(x["keyUsage"].value); got != wantKU {
		t.Errorf("keyUsage %s, want %s", got, wantKU)
	}
	wantSKI := method2(cp.point)
	if got := x["ski"].value; !bytes.Equal(got, append([]byte{0x04, 0x08}, wantSKI...)) || !bytes.Equal(c.SKI, wantSKI) {
		t.Errorf("SKI %x (Credential %x), want 0408%x", got, c.SKI, wantSKI)
	}
	if c.Profile != ProfileRootCA {
		issuerSKI := ip.extsByName["ski"].value[2:]
		if got := x["aki"].value; !bytes.Equal(got, append(h("300a8008"), issuerSKI...)) {
			t.Errorf("AKI %x, want 300a8008%x", got, issuerSKI)
		}
	}
	wantPolicies := hexOrgPolicies
	if c.Profile == ProfileDevice || c.Profile == ProfileDeviceCA {
		wantPolicies = hexDevicePolicies
	}
	if got := hex.EncodeToString(x["policies"].value); got != wantPolicies {
		t.Errorf("policies %s, want %s", got, wantPolicies)
	}
	if c.Profile.IsCA() {
		want := hexBCPathLen0
		if c.Profile == ProfileRootCA {
			want = hexBCNoPathLen
		}
		if got := hex.EncodeToString(x["basicConstraints"].value); got != want {
			t.Errorf("basicConstraints %s, want %s", got, want)
		}
	}
	if c.Profile == ProfileDevice {
		if got, want := hex.EncodeToString(x["san"].value), hexSANPrefix+hex.EncodeToString(c.EUI[:]); got != want {
			t.Errorf("SAN\n got %s\nwant %s", got, want)
		}
	}
}

func TestNamesAndIdentifiers(t *testing.T) {
	p := generate(t, Options{Suppliers: 3, Devices: 300})
	for _, tc := range []struct {
		c                      *Credential
		role                   uint8
		usage                  string
		eui                    string
		subject, issuer, iname string
	}{
		{p.Root, RoleRoot, UsageCA, "", "CN=TA,OU=00", "CN=TA,OU=00", "root-ca"},
		{p.OrgCA, RoleIssuingAuthority, UsageCA, "", "CN=T1,OU=07", "CN=TA,OU=00", "root-ca"},
		{p.DeviceCA, RoleNone, UsageCA, "", "CN=T357", "CN=TA,OU=00", "root-ca"},
		{p.FileSigningCA, RoleNone, UsageCA, "", "CN=IKI File Signing CA,OU=issuingAuthority,O=DCC", "CN=TA,OU=00", "root-ca"},
		{p.TCoS, RoleTransitionalCoS, UsageDS, "EE-C0-5E-00-00-00-00-04", "2.5.4.45=#030900eec05e0000000004,OU=05", "CN=T1,OU=07", "org-ca"},
		{p.ECoS, RoleTransitionalCoS, UsageDS, "EE-C0-5E-00-00-00-00-05", "2.5.4.45=#030900eec05e0000000005,OU=05", "CN=T1,OU=07", "org-ca"},
		{p.DSPXMLSign, RoleDSPXMLSign, UsageDS, "EE-C0-5E-00-00-00-00-02", "2.5.4.45=#030900eec05e0000000002,OU=89", "CN=T1,OU=07", "org-ca"},
		{p.ACB.DS, RoleACB, UsageDS, "EE-C0-5E-00-00-00-00-02", "2.5.4.45=#030900eec05e0000000002,OU=04", "CN=T1,OU=07", "org-ca"},
		{p.ACB.KA, RoleACB, UsageKA, "EE-C0-5E-00-00-00-00-02", "2.5.4.45=#030900eec05e0000000002,OU=04", "CN=T1,OU=07", "org-ca"},
		{p.NetworkOperator.DS, RoleNetworkOperator, UsageDS, "EE-C0-5E-00-00-00-00-03", "2.5.4.45=#030900eec05e0000000003,OU=03", "CN=T1,OU=07", "org-ca"},
		{p.NetworkOperator.KA, RoleNetworkOperator, UsageKA, "EE-C0-5E-00-00-00-00-03", "2.5.4.45=#030900eec05e0000000003,OU=03", "CN=T1,OU=07", "org-ca"},
		{p.Suppliers[0].DS, RoleSupplier, UsageDS, "EE-C0-5E-00-01-00-00-01", "2.5.4.45=#030900eec05e0001000001,OU=02,CN=ECOSTESTSUPPLIER1", "CN=T1,OU=07", "org-ca"},
		{p.Suppliers[0].KA, RoleSupplier, UsageKA, "EE-C0-5E-00-01-00-00-01", "2.5.4.45=#030900eec05e0001000001,OU=02", "CN=T1,OU=07", "org-ca"},
		{p.Suppliers[0].KATopUp, RoleSupplier, UsageKA, "EE-C0-5E-00-01-00-00-01", "2.5.4.45=#030900eec05e0001000001,OU=02", "CN=T1,OU=07", "org-ca"},
		{p.Suppliers[0].XMLSign, RoleXMLSign, UsageDS, "EE-C0-5E-00-01-00-00-01", "2.5.4.45=#030900eec05e0001000001,OU=87", "CN=T1,OU=07", "org-ca"},
		{p.Suppliers[0].FileSigning, RoleSupplier, UsageDS, "EE-C0-5E-00-01-00-00-01", "2.5.4.45=#030900eec05e0001000001,OU=02", "CN=IKI File Signing CA,OU=issuingAuthority,O=DCC", "iki-file-signing-ca"},
		{p.Suppliers[2].DS, RoleSupplier, UsageDS, "EE-C0-5E-00-01-00-00-03", "2.5.4.45=#030900eec05e0001000003,OU=02,CN=ECOSTESTSUPPLIER3", "CN=T1,OU=07", "org-ca"},
		{p.Devices[0].DS, RoleNone, UsageDS, "EE-C0-5E-DE-00-00-00-01", "", "CN=T357", "device-ca"},
		{p.Devices[299].KA, RoleNone, UsageKA, "EE-C0-5E-DE-00-00-01-2C", "", "CN=T357", "device-ca"},
	} {
		c := tc.c
		if c.Role != tc.role || c.Usage != tc.usage || c.Subject != tc.subject || c.Issuer != tc.issuer || c.IssuerName != tc.iname {
			t.Errorf("%s: role %02X usage %s subject %q issuer %q (%s); want %02X %s %q %q (%s)",
				c.Name, c.Role, c.Usage, c.Subject, c.Issuer, c.IssuerName, tc.role, tc.usage, tc.subject, tc.issuer, tc.iname)
		}
		if got := c.EUI; (tc.eui == "" && !got.IsZero()) || (tc.eui != "" && got != eui.MustParse(tc.eui)) {
			t.Errorf("%s: EUI %v, want %q", c.Name, got, tc.eui)
		}
	}

	// Every EUI-64 is unicast and locally administered, so none can be a
	// real manufacturer- or DCC-issued identifier.
	for _, c := range p.Credentials() {
		if !c.EUI.IsZero() && c.EUI[0]&0x03 != 0x02 {
			t.Errorf("%s: EUI %v is not locally administered unicast", c.Name, c.EUI)
		}
	}
}

func TestAccessors(t *testing.T) {
	p := generate(t, Options{})
	if len(p.Suppliers) != defaultSuppliers || len(p.Devices) != defaultDevices {
		t.Fatalf("defaults: %d suppliers, %d devices", len(p.Suppliers), len(p.Devices))
	}
	if n := len(p.Credentials()); n != 4+7+5*defaultSuppliers+2*defaultDevices {
		t.Errorf("%d credentials", n)
	}
	names := map[string]bool{}
	for _, c := range p.Credentials() {
		if names[c.Name] || p.ByName(c.Name) != c {
			t.Errorf("name %q duplicated or not indexed", c.Name)
		}
		names[c.Name] = true
	}
	for _, want := range []string{"root-ca", "org-ca", "device-ca", "iki-file-signing-ca", "tcos-ds", "ecos-ds",
		"dsp-xml-sign", "acb-ds", "acb-ka", "network-operator-ds", "network-operator-ka",
		"supplier1-ds", "supplier1-ka", "supplier1-ka-topup", "supplier1-xml-sign", "supplier1-file-signing",
		"supplier2-ds", "device-0001-ds", "device-0001-ka", "device-0004-ka"} {
		if !names[want] {
			t.Errorf("missing credential %q", want)
		}
	}
	if p.ByName("nope") != nil {
		t.Error("ByName of unknown name")
	}
	if got := p.ByEUI(p.Suppliers[1].EUI); len(got) != 5 {
		t.Errorf("ByEUI(supplier2) = %d credentials, want 5", len(got))
	}
	if got := p.ByEUI(eui.EUI{}); len(got) != 0 {
		t.Errorf("ByEUI(zero) = %d credentials", len(got))
	}
	if got := p.ByRole(RoleTransitionalCoS); len(got) != 2 || got[0] != p.TCoS || got[1] != p.ECoS {
		t.Errorf("ByRole(transitionalCoS) = %v", got)
	}
	if p.TCoS.EUI == p.ECoS.EUI || p.TCoS.Key.Equal(p.ECoS.Key) {
		t.Error("TCoS and ECoS must have distinct EUIs and keys")
	}
	chain := p.Chain(p.Devices[0].KA)
	if len(chain) != 3 || chain[1] != p.DeviceCA || chain[2] != p.Root {
		t.Errorf("Chain(device KA) = %v", chain)
	}
	if got := p.Chain(p.Root); len(got) != 1 {
		t.Errorf("Chain(root) has %d entries", len(got))
	}
	// Separate key per credential, even for one party's DS/KA/top-up.
	seen := map[string]string{}
	for _, c := range p.Credentials() {
		raw, err := c.Key.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		k := hex.EncodeToString(raw)
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share a key", c.Name, other)
		}
		seen[k] = c.Name
	}
}
