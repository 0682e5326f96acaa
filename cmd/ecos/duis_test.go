package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// TestDUISVerifyVectors: the real DCC Boxed documents verify, the negative
// samples are refused with the documented exit status.
func TestDUISVerifyVectors(t *testing.T) {
	v := testkit.VectorsDir(t)
	keys := filepath.Join(v, "keys")
	cases := []struct {
		file  string
		store string
		code  int
		want  string
	}{
		{"read-inventory-response-5.4.xml", keys, 0, "SRV: 8.2"},
		{"readfw-response.xml", keys, 0, "ResponseID: 88-73-84-57-00-2F-96-1E:90-B3-D5-1F-30-01-00-00:1660751141087"},
		{"GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml", keys, 0, "RequestID: 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1006"},
		{"GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml", filepath.Join(keys, "keystore.json"), 0, "SRV: 6.23"},
		{"readfw-response-badsignature.xml", keys, 1, "bad signature"},
		{"readfw-response-no-signature.xml", keys, 1, "no signature"},
		{"readfw-response-nonexist-serial.xml", keys, 1, "unknown signer"},
		{"duis-xxe.xml", keys, 2, "hostile"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			code, out, errs := ecos(t, "", "duis", "verify", "--certs", tc.store, "--at", "2026-06-01T00:00:00Z", filepath.Join(v, "duis", tc.file))
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Errorf("exit %d (want %d)\nstdout %s\nstderr %s", code, tc.code, out, errs)
			}
		})
	}
	// The signer's validity is checked at --at.
	code, _, errs := ecos(t, "", "duis", "verify", "--certs", keys, "--at", "2017-01-01T00:00:00Z",
		filepath.Join(v, "duis/GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml"))
	if code != 1 || !strings.Contains(errs, "not at 2017-01-01") {
		t.Errorf("signer not yet valid: exit %d %s", code, errs)
	}
	if code, _, _ := ecos(t, "", "duis", "verify", filepath.Join(v, "duis/readfw-response.xml")); code != 2 {
		t.Errorf("no --certs: exit %d", code)
	}
}

// TestDUISSignRoundTrip: what we sign, we verify; a tampered copy and a
// request signed for another User are refused.
func TestDUISSignRoundTrip(t *testing.T) {
	v := testkit.VectorsDir(t)
	req := filepath.Join(v, "duis/GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml")
	code, signed, errs := ecos(t, "", "duis", "sign", "--key", filepath.Join(v, "keys/xml-sign-90B3D51F30010000-ds.key"),
		"--cert", filepath.Join(v, "keys/xml-sign-90B3D51F30010000-ds.pem"), req)
	if code != 0 {
		t.Fatalf("sign: exit %d %s", code, errs)
	}
	if code, out, errs := ecos(t, signed, "duis", "verify", "--certs", filepath.Join(v, "keys"), "-"); code != 0 || !strings.Contains(out, "xmlSign") {
		t.Fatalf("verify our signature: exit %d %s %s", code, out, errs)
	}
	tampered := strings.Replace(signed, "<sr:ImportMPxN>1312345678333", "<sr:ImportMPxN>1312345678334", 1)
	if tampered == signed {
		t.Fatal("test bug: nothing tampered")
	}
	if code, _, errs := ecos(t, tampered, "duis", "verify", "--certs", filepath.Join(v, "keys"), "-"); code != 1 || !strings.Contains(errs, "digest") {
		t.Errorf("tampered: exit %d %s", code, errs)
	}
	// Supplier 2's XML-signing key cannot sign supplier 1's request.
	if code, _, errs := ecos(t, "", "duis", "sign", "--key", filepath.Join(v, "keys/xml-sign-90B3D51F30020000-ds.key"),
		"--cert", filepath.Join(v, "keys/xml-sign-90B3D51F30020000-ds.pem"), req); code != 1 || !strings.Contains(errs, "originator") {
		t.Errorf("other user's key: exit %d %s", code, errs)
	}
	// A verifier given supplier 2's certificate as the only signer refuses
	// a request whose signature names supplier 1's.
	if code, _, _ := ecos(t, signed, "duis", "verify", "--certs", filepath.Join(v, "keys/xml-sign-90B3D51F30020000-ds.pem"), "-"); code != 1 {
		t.Errorf("unknown signer: exit %d", code)
	}
}

// TestDUISVerifyChainWithGeneratedPKI: with --ca the signer must chain to
// the Organisation CA; a DS certificate is not an XML-signing one.
func TestDUISVerifyChainWithGeneratedPKI(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := ecos(t, "", "pki", "init", "--seed", "duis", "--at", "2026-01-01T00:00:00Z", "--suppliers", "1", "--devices", "1", filepath.Join(dir, "pki")); code != 0 {
		t.Fatal(errs)
	}
	p := func(n string) string { return filepath.Join(dir, "pki", n) }
	req := requestFrom(t, "EE-C0-5E-00-01-00-00-01")
	reqPath := filepath.Join(dir, "req.xml")
	if err := os.WriteFile(reqPath, []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	code, signed, errs := ecos(t, "", "duis", "sign", "--key", p("supplier1-xml-sign.key"), "--cert", p("supplier1-xml-sign.pem"), reqPath)
	if code != 0 {
		t.Fatalf("sign: %s", errs)
	}
	at := "2026-06-01T00:00:00Z"
	if code, out, errs := ecos(t, signed, "duis", "verify", "--certs", filepath.Join(dir, "pki"), "--ca", p("root-ca.pem"), "--at", at, "-"); code != 0 || strings.Contains(out, "not checked") {
		t.Errorf("chained signer: exit %d %s %s", code, out, errs)
	}
	other := filepath.Join(dir, "other")
	if code, _, errs := ecos(t, "", "pki", "init", "--seed", "other", "--suppliers", "1", "--devices", "1", other); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := ecos(t, signed, "duis", "verify", "--certs", filepath.Join(dir, "pki"), "--ca", filepath.Join(other, "root-ca.pem"), "--at", at, "-"); code != 1 || !strings.Contains(errs, "Organisation CA") {
		t.Errorf("foreign CA: exit %d %s", code, errs)
	}
	// Signed with the supplier's DS key rather than its XML-signing key.
	code, signedDS, _ := ecos(t, "", "duis", "sign", "--key", p("supplier1-ds.key"), "--cert", p("supplier1-ds.pem"), reqPath)
	if code != 0 {
		t.Fatal("sign with DS key")
	}
	if code, _, errs := ecos(t, signedDS, "duis", "verify", "--certs", filepath.Join(dir, "pki"), "--ca", p("root-ca.pem"), "--at", at, "-"); code != 1 || !strings.Contains(errs, "XML-signing") {
		t.Errorf("DS-signed request: exit %d %s", code, errs)
	}
}

// requestFrom is a minimal unsigned 6.23 request from the given User.
func requestFrom(t *testing.T, originator string) string {
	t.Helper()
	return `<?xml version="1.0" encoding="UTF-8"?><sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" schemaVersion="5.4"><sr:Header><sr:RequestID>` +
		originator + `:EE-C0-5E-DE-00-00-00-01:1</sr:RequestID><sr:CommandVariant>1</sr:CommandVariant><sr:ServiceReference>6.23</sr:ServiceReference><sr:ServiceReferenceVariant>6.23</sr:ServiceReferenceVariant></sr:Header><sr:Body><sr:UpdateSecurityCredentialsCoS><sr:SupplierFloorSeqNumber>0</sr:SupplierFloorSeqNumber><sr:SupplierReplacementCertificates><sr:DigitalSigningCertificate>MAA=</sr:DigitalSigningCertificate></sr:SupplierReplacementCertificates><sr:CertificationPathCertificates><sr:Certificate>MAA=</sr:Certificate></sr:CertificationPathCertificates><sr:ApplyTimeBasedCPVChecks>true</sr:ApplyTimeBasedCPVChecks><sr:ImportMPxN>1312345678333</sr:ImportMPxN></sr:UpdateSecurityCredentialsCoS></sr:Body></sr:Request>`
}

func TestIndented(t *testing.T) {
	for doc, want := range map[string]bool{
		`<?xml version="1.0"?>` + "\n<a><b>x y</b></a>":                       false,
		`<?xml version="1.0"?>` + "\n<a>\n  <b>x</b>\n</a>\n":                 true,
		"<a><b>text with > and < </b></a>":                                    false,
		"<a><b/>\t<c/></a>":                                                   true,
		`<?xml version="1.0" encoding="UTF-8"?><sr:Request><x/></sr:Request>`: false,
	} {
		if got := indented([]byte(doc)); got != want {
			t.Errorf("indented(%q) = %v", doc, got)
		}
	}
}

// TestDUISWhitespace: sign removes the indentation, as the DCC's signer
// does, unless --keep-whitespace; verify accepts a DCC-signed document
// that was indented afterwards, as the DCC's validator does.
func TestDUISWhitespace(t *testing.T) {
	v := testkit.VectorsDir(t)
	keys := filepath.Join(v, "keys")
	key, cert := filepath.Join(keys, "xml-sign-90B3D51F30010000-ds.key"), filepath.Join(keys, "xml-sign-90B3D51F30010000-ds.pem")
	template := filepath.Join(v, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML") // indented

	code, signed, errs := ecos(t, "", "duis", "sign", "--key", key, "--cert", cert, template)
	if code != 0 || errs != "" {
		t.Fatalf("sign: exit %d %s", code, errs)
	}
	if root := signed[strings.Index(signed, "<sr:Request"):]; strings.Contains(strings.TrimSpace(root), ">\n") {
		t.Errorf("indentation kept:\n%s", signed)
	}
	if code, out, errs := ecos(t, signed, "duis", "verify", "--certs", keys, "--at", "2026-06-01T00:00:00Z", "-"); code != 0 {
		t.Errorf("verify: exit %d %s %s", code, out, errs)
	}

	code, kept, errs := ecos(t, "", "duis", "sign", "--keep-whitespace", "--key", key, "--cert", cert, template)
	if code != 0 || !strings.Contains(errs, "--keep-whitespace signs that white space") || !strings.Contains(kept[strings.Index(kept, "<sr:Request"):], ">\n") {
		t.Errorf("--keep-whitespace: exit %d %s\n%s", code, errs, kept)
	}
	if code, _, errs := ecos(t, kept, "duis", "verify", "--certs", keys, "--at", "2026-06-01T00:00:00Z", "-"); code != 0 {
		t.Errorf("verify --keep-whitespace output: exit %d %s", code, errs)
	}

	// Signed by the DCC's Java tool, then indented by a reader.
	dcc, err := os.ReadFile(filepath.Join(v, "duis/GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml"))
	if err != nil {
		t.Fatal(err)
	}
	indented := strings.ReplaceAll(string(dcc), "><", ">\n  <")
	if code, out, errs := ecos(t, indented, "duis", "verify", "--certs", keys, "--at", "2026-06-01T00:00:00Z", "-"); code != 0 || !strings.Contains(out, "RequestID: 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1006") {
		t.Errorf("DCC-signed then indented: exit %d %s %s", code, out, errs)
	}
	// White space inside a value is content: the signature no longer holds.
	padded := strings.Replace(indented, "<sr:ImportMPxN>", "<sr:ImportMPxN> ", 1)
	if code, _, errs := ecos(t, padded, "duis", "verify", "--certs", keys, "--at", "2026-06-01T00:00:00Z", "-"); code != 1 || !strings.Contains(errs, "digest") {
		t.Errorf("space inside a value: exit %d %s", code, errs)
	}
}
