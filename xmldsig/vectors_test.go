package xmldsig

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/smki"
)

// Conformance with real DCC Boxed output ($ECOS_VECTORS_DIR; README there).

func vectorPool(tb testing.TB, pems ...string) *smki.Pool {
	tb.Helper()
	var certs []*smki.Certificate
	for _, p := range pems {
		c, err := smki.ParsePEM(testkit.Vector(tb, p))
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		certs = append(certs, c...)
	}
	return smki.NewPool(certs...)
}

func keystorePool(tb testing.TB) *smki.Pool {
	tb.Helper()
	p, err := smki.LoadKeystoreFile(filepath.Join(testkit.VectorsDir(tb), "keys/keystore.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func pemDirPool(tb testing.TB) *smki.Pool {
	tb.Helper()
	p, err := smki.LoadPEMDir(filepath.Join(testkit.VectorsDir(tb), "keys"))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// signedVectors are the documents the DCC tools signed, with their signer.
var signedVectors = []struct {
	doc, cert  string
	inKeystore bool // keystore.json holds the users' XML-signing keys, not the DSP's
}{
	{"duis/read-inventory-response-5.4.xml", "keys/Z1-accessControlBroker-dSPXmlSign.pem", false},
	{"duis/readfw-response.xml", "keys/dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem", false},
	{"duis/GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml", "keys/xml-sign-90B3D51F30010000-ds.pem", true},
}

func TestVerifyVectors(t *testing.T) {
	keystore, pemDir := keystorePool(t), pemDirPool(t)
	for _, v := range signedVectors {
		t.Run(filepath.Base(v.doc), func(t *testing.T) {
			doc := testkit.Vector(t, v.doc)
			pool := vectorPool(t, v.cert)
			got, err := Verify(doc, pool)
			if err != nil {
				t.Fatal(err)
			}
			if got.Signer != pool.Certificates()[0] {
				t.Errorf("signer %v", got.Signer)
			}
			checkDigested(t, doc, got.Digested)

			if _, err := Verify(doc, pemDir); err != nil {
				t.Errorf("with every PEM in keys/: %v", err)
			}
			ks, err := Verify(doc, keystore)
			switch {
			case v.inKeystore && err != nil:
				t.Errorf("with keystore.json: %v", err)
			case v.inKeystore && !bytes.Equal(ks.Digested, got.Digested):
				t.Error("keystore verification digested other bytes")
			case !v.inKeystore:
				wantReason(t, ks, err, UnknownSigner)
			}
		})
	}
}

// checkDigested: Digested is the canonical document without the signature
// and without the XML declaration: the bytes a caller decodes.
func checkDigested(t *testing.T, doc, digested []byte) {
	t.Helper()
	if len(digested) == 0 || bytes.Contains(digested, []byte("SignatureValue")) || bytes.HasPrefix(digested, []byte("<?xml")) {
		t.Errorf("Digested is not the signature-free canonical document: %.120s…", digested)
	}
	root := doc[bytes.Index(doc, []byte("<sr:")):]
	if !bytes.HasPrefix(digested, root[:bytes.IndexByte(root, ' ')]) {
		t.Errorf("Digested does not start with the root element: %.60s", digested)
	}
}

func TestVerifyNegativeVectors(t *testing.T) {
	pools := map[string]*smki.Pool{
		"signer":   vectorPool(t, "keys/dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem"),
		"keys/":    pemDirPool(t),
		"keystore": keystorePool(t),
	}
	cases := []struct {
		doc  string
		want Reason
		// other is the reason with stores that lack the signer
		other Reason
		has   func(store string) bool
	}{
		{"duis/readfw-response-badsignature.xml", BadSignature, UnknownSigner, notIn("keystore")},
		{"duis/readfw-response-no-signature.xml", NoSignature, 0, nil},
		{"duis/readfw-response-nonexist-serial.xml", UnknownSigner, 0, nil},
		{"duis/duis-xxe.xml", Hostile, 0, nil},
		// Schema-invalid for the Java tool, which checks the XSD first; the
		// edit that made it invalid was not re-signed, so for us it is a
		// changed document. Its signer (serial 1176…) is a Z1 organisation
		// certificate, not the DSP one.
		{"duis/readfw-response-invalid.xml", DigestMismatch, UnknownSigner, notIn("signer")},
		// RTDS templates carry placeholder signatures with a comment in them.
		{"duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML", ProfileViolation, 0, nil},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.doc), func(t *testing.T) {
			for name, pool := range pools {
				want := c.want
				if c.has != nil && !c.has(name) {
					want = c.other
				}
				v, err := Verify(testkit.Vector(t, c.doc), pool)
				wantReason(t, v, err, want)
				if want == Hostile && !isMalformed(err) {
					t.Errorf("%s: XXE must map to the malformed exit code", name)
				}
			}
		})
	}
}

func notIn(store string) func(string) bool { return func(s string) bool { return s != store } }

func isMalformed(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Reason.IsMalformed()
}

// TestSignVectorRequest signs the RTDS 6.23 request with the real
// XML-signing key of supplier 90B3D51F30010000, replacing its placeholder.
func TestSignVectorRequest(t *testing.T) {
	key := testkit.ECKey(t, "keys/xml-sign-90B3D51F30010000-ds.key")
	pool := vectorPool(t, "keys/xml-sign-90B3D51F30010000-ds.pem")
	cert := pool.Certificates()[0]
	doc := testkit.Vector(t, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")
	out, err := Sign(doc, key, cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("<ds:X509IssuerName>CN=Z1,OU=07</ds:X509IssuerName><ds:X509SerialNumber>27572613927499351639968579586655397031<")) {
		t.Errorf("KeyInfo is not the Java form:\n%s", out[bytes.Index(out, []byte("<ds:KeyInfo")):])
	}
	for name, p := range map[string]*smki.Pool{"cert": pool, "keystore": keystorePool(t), "dir": pemDirPool(t)} {
		if _, err := Verify(out, p); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The compact form digests to what the Java signer signed in the
	// GENERATED vector: both canonicalise the same content.
	compacted, err := Sign([]byte(compact(string(doc))), key, cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := string(testkit.Vector(t, "duis/GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml"))
	if d := between(t, string(compacted), "<ds:DigestValue>", "<"); !strings.Contains(gen, d) {
		t.Errorf("digest %s differs from the Java signer's", d)
	}
}

// signVectorRequest signs the RTDS 6.23 request (compacted or as
// published) with supplier 90B3D51F30010000's XML-signing key, and returns
// it with the certificate PEM.
func signVectorRequest(tb testing.TB, compacted bool, opts ...SignOption) (signed, certPEM []byte) {
	tb.Helper()
	doc := testkit.Vector(tb, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")
	if compacted {
		doc = []byte(compact(string(doc)))
	}
	return signAsVectorSupplier(tb, doc, opts...)
}

// signAsVectorSupplier signs doc with the vectors' supplier 1 XML-signing
// key, the key the Java tool signs its requests with.
func signAsVectorSupplier(tb testing.TB, doc []byte, opts ...SignOption) (signed, certPEM []byte) {
	tb.Helper()
	key := testkit.ECKey(tb, "keys/xml-sign-90B3D51F30010000-ds.key")
	certPEM = testkit.Vector(tb, "keys/xml-sign-90B3D51F30010000-ds.pem")
	certs, err := smki.ParsePEM(certPEM)
	if err != nil {
		tb.Fatal(err)
	}
	signed, err = Sign(doc, key, certs[0], nil, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return signed, certPEM
}
