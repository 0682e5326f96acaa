package duis

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// XSD validation with libxml2's xmllint, the DCC's schemas as published.
// Locally the tests skip when xmllint or the vectors are missing; in CI
// (CI=true) they fail, so CI cannot pass by skipping. CI installs xmllint
// from Debian's libxml2-utils.

// xsdValidated counts documents xmllint accepted, for the test log.
var xsdValidated atomic.Int64

// schemas are the copied, loadable schema files.
type schemas struct {
	duis string // "DUIS Schema V5.4.xsd", which imports MMC and XML-DSig
}

// schemaEdit is one textual change to a schema copy; old must occur
// exactly once, so a new schema release cannot silently skip it.
type schemaEdit struct{ old, new string }

// Why each copy is edited:
//   - libxml2 cannot open a path with spaces, so the files get space-free
//     names and the DUIS schema's import of the MMC schema follows.
//   - libxml2 (2.9.14, Debian 12's) holds xs:integer / xs:decimal values
//     in at most 24 digits and declares longer ones invalid. Certificate serial
//     numbers run to 39 digits: every real DCC signature's
//     X509SerialNumber, and CoSCertificateAlert's CertificateSerialNumber.
//     Those two elements get xs:integer's lexical space as a pattern
//     instead, which is exactly what the schema means, minus the bug.
var schemaFiles = []struct {
	from, to string
	edits    []schemaEdit
}{
	{"DUIS Schema V5.4.xsd", "duis.xsd", []schemaEdit{
		{`schemaLocation="MMC Schema V5.4.xsd"`, `schemaLocation="mmc.xsd"`},
		{`<xs:element name="CertificateSerialNumber" type="xs:integer" minOccurs="0"/>`,
			`<xs:element name="CertificateSerialNumber" minOccurs="0"><xs:simpleType><xs:restriction base="xs:token"><xs:pattern value="[+\-]?[0-9]+"/></xs:restriction></xs:simpleType></xs:element>`},
	}},
	{"MMC Schema V5.4.xsd", "mmc.xsd", nil},
	{"xmldsig-core-schema.xsd", "xmldsig-core-schema.xsd", []schemaEdit{
		{`<element name="X509SerialNumber" type="integer"/>`,
			`<element name="X509SerialNumber"><simpleType><restriction base="token"><pattern value="[+\-]?[0-9]+"/></restriction></simpleType></element>`},
	}},
}

// xmllint returns the xmllint binary, skipping (locally) or failing (CI)
// when it is not installed.
func xmllint(t testing.TB) string {
	t.Helper()
	return testkit.Tool(t, "xmllint", "apt-get install libxml2-utils")
}

// loadSchemas copies the vector schemas into a temporary directory with the
// edits above.
func loadSchemas(t testing.TB) schemas {
	t.Helper()
	xmllint(t)
	src := filepath.Join(testkit.VectorsDir(t), "schema")
	dir := t.TempDir()
	for _, f := range schemaFiles {
		b, err := os.ReadFile(filepath.Join(src, f.from))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range f.edits {
			if n := bytes.Count(b, []byte(e.old)); n != 1 {
				t.Fatalf("%s: %q occurs %d times, want once: update schemaFiles", f.from, e.old, n)
			}
			b = bytes.Replace(b, []byte(e.old), []byte(e.new), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, f.to), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return schemas{duis: filepath.Join(dir, "duis.xsd")}
}

// xsdResults validates docs (name → bytes) against schema in one xmllint
// run and returns each document's verdict: nil, or xmllint's messages.
func xsdResults(t testing.TB, schema string, docs map[string][]byte) map[string]error {
	t.Helper()
	dir := t.TempDir()
	args := []string{"--noout", "--nonet", "--schema", schema}
	byPath := map[string]string{}
	i := 0
	for name, doc := range docs {
		// Numbered file names: document names may hold any character.
		p := filepath.Join(dir, fmt.Sprintf("doc%04d.xml", i))
		i++
		if err := os.WriteFile(p, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		byPath[p] = name
		args = append(args, p)
	}
	out, _ := exec.Command(xmllint(t), args...).CombinedOutput() // exit status 3 just means "some invalid"
	msgs := map[string][]string{}
	verdict := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		for p := range byPath {
			rest, ok := strings.CutPrefix(line, p)
			if !ok {
				continue
			}
			switch strings.TrimSpace(rest) {
			case "validates", "fails to validate":
				verdict[p] = strings.TrimSpace(rest)
			default:
				msgs[p] = append(msgs[p], strings.TrimPrefix(rest, ":"))
			}
		}
	}
	res := map[string]error{}
	for p, name := range byPath {
		switch verdict[p] {
		case "validates":
			res[name] = nil
		case "fails to validate":
			res[name] = fmt.Errorf("%s", strings.Join(msgs[p], "\n"))
		default:
			t.Fatalf("xmllint gave no verdict for %s:\n%s", name, out)
		}
	}
	return res
}

// mustValidate fails the test for every document that does not validate.
func mustValidate(t testing.TB, schema string, docs map[string][]byte) {
	t.Helper()
	ok := 0
	for name, err := range xsdResults(t, schema, docs) {
		if err != nil {
			t.Errorf("%s does not validate against %s:\n%v\n%s", name, filepath.Base(schema), err, docs[name])
			continue
		}
		ok++
	}
	xsdValidated.Add(int64(ok))
	t.Logf("xmllint: %d of %d documents valid against %s (%d so far in this run)", ok, len(docs), filepath.Base(schema), xsdValidated.Load())
}

// TestXSDHelper checks the helper itself on the vectors: every RTDS 6.23
// template and real DCC Boxed document is valid (signed ones too, which
// needs the XML-DSig import), and the schema-invalid one is caught.
func TestXSDHelper(t *testing.T) {
	s := loadSchemas(t)
	valid := map[string][]byte{}
	for _, name := range []string{
		"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
		"CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML",
		"CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_REQUEST_DUIS.XML",
		"GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml",
		"read-inventory-response-5.4.xml",
		"readfw-response.xml",
		"readfw-response-no-signature.xml",
		"readfw-response-badsignature.xml",
		"readfw-response-nonexist-serial.xml",
	} {
		valid[name] = testkit.Vector(t, "duis/"+name)
	}
	mustValidate(t, s.duis, valid)

	res := xsdResults(t, s.duis, map[string][]byte{"invalid": testkit.Vector(t, "duis/readfw-response-invalid.xml")})
	if err := res["invalid"]; err == nil || !strings.Contains(err.Error(), "11.2.11.2") {
		t.Errorf("readfw-response-invalid.xml: got %v, want the bad ServiceReference reported", err)
	}
}
