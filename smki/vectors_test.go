package smki

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// The 6.23 request carries the supplier's three new certificates and, in
// CertificationPathCertificates, the Z1 issuing CA: the only copy of Z1 in
// the vectors (the ZA root is not published).
const duis623 = "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"

// duisCert returns the certificate in <sr:element> of the 6.23 request.
func duisCert(t testing.TB, element string) *Certificate {
	t.Helper()
	doc := string(testkit.Vector(t, duis623))
	open, end := "<sr:"+element+">", "</sr:"+element+">"
	i := strings.Index(doc, open)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no %s element", duis623, element)
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(doc[i+len(open) : j]))
	if err != nil {
		t.Fatalf("%s: %v", element, err)
	}
	c, err := Parse(der)
	if err != nil {
		t.Fatalf("%s: %v", element, err)
	}
	return c
}

func vectorZ1(t testing.TB) *Certificate { return duisCert(t, "Certificate") }

// vectorCert parses keys/<name>, which must hold exactly one certificate.
func vectorCert(t testing.TB, name string) *Certificate {
	t.Helper()
	c, err := Parse(testkit.PEMBlock(t, filepath.Join("keys", name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// vectorKeystore parses keys/keystore.json.
func vectorKeystore(t testing.TB) []KeystoreEntry {
	t.Helper()
	entries, err := ParseKeystore(testkit.Vector(t, "keys/keystore.json"))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func keystoreEntryNamed(t testing.TB, entries []KeystoreEntry, name string) KeystoreEntry {
	t.Helper()
	for _, e := range entries {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("keystore has no entry %q", name)
	return KeystoreEntry{}
}
