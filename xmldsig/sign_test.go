package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestSignKeepsDocumentBytes: with KeepWhitespace, Sign adds the
// signature and changes nothing else, so what the sender wrote is what
// the receiver reads.
func TestSignKeepsDocumentBytes(t *testing.T) {
	f := testFixture(t)
	signed := signWith(t, f.signer, f.request, KeepWhitespace())
	sig := signatureOf(t, signed)
	if got := strings.Replace(signed, sig, "", 1); got != f.request {
		t.Errorf("document changed outside the signature:\n%s", got)
	}
	if !strings.HasSuffix(signed, sig+"</sr:Request>\n") {
		t.Error("signature is not placed just before the root end tag")
	}
	v, err := Verify([]byte(signed), f.pool)
	if err != nil {
		t.Fatal(err)
	}
	if v.Signer != f.signer.cert {
		t.Error("wrong signer")
	}
	if len(v.SignatureValue) != 64 || !bytes.HasPrefix(v.SignedInfo, []byte(`<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`)) {
		t.Errorf("SignedInfo %q / SignatureValue %d bytes", v.SignedInfo, len(v.SignatureValue))
	}
}

// TestSignShapeMatchesJava: the signature element is byte for byte the
// shape the Java reference signer writes (vector
// GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml):
// ds: prefix, no declaration when the root binds ds:, self-closing empty
// elements, RFC 2253 issuer and decimal serial, no line breaks.
func TestSignShapeMatchesJava(t *testing.T) {
	f := testFixture(t)
	sig := signatureOf(t, signWith(t, f.signer, f.request))
	want := `<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>` +
		`<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>DIGEST</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue>SIG</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=T1,OU=07</ds:X509IssuerName>` +
		`<ds:X509SerialNumber>` + f.signer.cert.SerialNumber.String() + `</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature>`
	dv := between(t, sig, "<ds:DigestValue>", "</ds:DigestValue>")
	sv := between(t, sig, "<ds:SignatureValue>", "</ds:SignatureValue>")
	got := strings.Replace(strings.Replace(sig, dv, "<ds:DigestValue>DIGEST</ds:DigestValue>", 1), sv, "<ds:SignatureValue>SIG</ds:SignatureValue>", 1)
	if got != want {
		t.Errorf("signature shape\n got %s\nwant %s", got, want)
	}
	if len(sv) != len("<ds:SignatureValue></ds:SignatureValue>")+88 {
		t.Errorf("SignatureValue is not 88 base64 characters on one line: %s", sv)
	}
}

func TestSignDeclaresDSWhenNeeded(t *testing.T) {
	f := testFixture(t)
	cases := []struct {
		name, doc, open string
	}{
		{"root without ds", `<r xmlns="urn:r"><a>1</a></r>`, `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`},
		{"root binds ds elsewhere", `<r xmlns:ds="urn:other"><ds:a>1</ds:a></r>`, `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`},
		{"root binds ds to XML-DSig", `<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><a>1</a></r>`, `<ds:Signature>`},
		{"DSig as default namespace", `<r xmlns="http://www.w3.org/2000/09/xmldsig#x"><a>1</a></r>`, `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := signWith(t, f.signer, c.doc)
			if !strings.Contains(out, c.open+"<ds:SignedInfo>") {
				t.Errorf("got %s", out)
			}
			if _, err := Verify([]byte(out), f.pool); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSignReplacesSignature(t *testing.T) {
	f := testFixture(t)
	once := signWith(t, f.signer, f.request)
	if twice := signWith(t, f.signer, once); twice != once {
		t.Errorf("re-signing with RFC 6979 changed the document:\n%s\n%s", once, twice)
	}
	// Re-signed by another party: same place, new KeyInfo.
	other := signWith(t, f.other, once)
	v, err := Verify([]byte(other), f.pool)
	if err != nil {
		t.Fatal(err)
	}
	if v.Signer != f.other.cert || countSignatures(other) != 1 {
		t.Errorf("re-signing kept the old signature or signer")
	}

	// A placeholder signature (as in the RTDS templates: pretty-printed,
	// default namespace, a comment) is replaced in place, so the
	// surrounding indentation stays as the author wrote it.
	placeholder := strings.Replace(f.request, "</sr:Body>\n", "</sr:Body>\n  <ds:Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\n    <!-- placeholder -->\n    <ds:SignedInfo/>\n  </ds:Signature>\n", 1)
	out := signWith(t, f.signer, placeholder, KeepWhitespace())
	if !strings.Contains(out, "</sr:Body>\n  <ds:Signature><ds:SignedInfo>") || !strings.HasSuffix(out, "</ds:Signature>\n</sr:Request>\n") {
		t.Errorf("placeholder not replaced in place:\n%s", out)
	}
	if got := strings.Replace(out, signatureOf(t, out), "", 1); got != strings.Replace(placeholder, between(t, placeholder, "<ds:Signature", "</ds:Signature>"), "", 1) {
		t.Errorf("bytes outside the signature changed:\n%s", got)
	}

	// A signature somewhere else is removed, and the new one appended.
	misplaced := strings.Replace(f.request, "<sr:Body>", "<sr:Body><ds:Signature/>", 1)
	out = signWith(t, f.signer, misplaced)
	if countSignatures(out) != 1 || !strings.Contains(out, "</ds:Signature></sr:Request>") {
		t.Errorf("misplaced signature not moved:\n%s", out)
	}
}

func TestSignSelfClosingRoot(t *testing.T) {
	f := testFixture(t)
	for _, doc := range []string{`<r/>`, `<?xml version="1.0"?>` + "\n" + `<p:r xmlns:p="urn:p" a="1" />` + "\n"} {
		out := signWith(t, f.signer, doc)
		if _, err := Verify([]byte(out), f.pool); err != nil {
			t.Errorf("%s: %v\n%s", doc, err, out)
		}
	}
	out := signWith(t, f.signer, `<p:r xmlns:p="urn:p"/>`)
	if !strings.HasPrefix(out, `<p:r xmlns:p="urn:p"><ds:Signature`) || !strings.HasSuffix(out, `</ds:Signature></p:r>`) {
		t.Errorf("got %s", out)
	}
}

func TestSignRandomness(t *testing.T) {
	f := testFixture(t)
	a, err := Sign([]byte(f.request), f.signer.key, f.signer.cert, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Sign([]byte(f.request), f.signer.key, f.signer.cert, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("randomised signatures are equal")
	}
	// A signer that is not an *ecdsa.PrivateKey gets crypto/rand for nil.
	c, err := Sign([]byte(f.request), opaqueSigner{f.signer.key}, f.signer.cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range [][]byte{a, b, c} {
		if _, err := Verify(d, f.pool); err != nil {
			t.Error(err)
		}
	}
}

// opaqueSigner hides the concrete key type, as an HSM signer does, and
// refuses a nil reader so the test sees Sign substitute one.
type opaqueSigner struct{ k *ecdsa.PrivateKey }

func (o opaqueSigner) Public() crypto.PublicKey { return o.k.Public() }
func (o opaqueSigner) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	if r == nil {
		return nil, errors.New("nil reader")
	}
	return o.k.Sign(r, d, opts)
}

type badSigner struct {
	opaqueSigner
	out []byte
	err error
}

func (b badSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return b.out, b.err }

func TestSignErrors(t *testing.T) {
	f := testFixture(t)
	doc := []byte(f.request)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noKey := *f.signer.cert
	noKey.PublicKey = nil
	cases := []struct {
		name   string
		signer crypto.Signer
		doc    []byte
		want   string
	}{
		{"nil signer", nil, doc, "needs a signer"},
		{"key does not match", other, doc, "does not match"},
		{"signer error", badSigner{opaqueSigner{f.signer.key}, nil, errors.New("hsm offline")}, doc, "hsm offline"},
		{"signer returns garbage", badSigner{opaqueSigner{f.signer.key}, []byte{1, 2, 3}, nil}, doc, "malformed ECDSA"},
		{"signer returns wrong signature", badSigner{opaqueSigner{f.signer.key}, rsToDER(bytes.Repeat([]byte{7}, 64)), nil}, doc, "does not verify"},
		{"hostile input", f.signer.key, []byte("<!DOCTYPE x><x/>"), "hostile"},
		{"malformed input", f.signer.key, []byte("<x>"), "malformed"},
		{"stray DSig element", f.signer.key, []byte(`<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyInfo/></r>`), "outside the ds:Signature"},
	}
	for _, c := range cases {
		// Without the self-check every case still fails: input is parsed
		// as before, and an opaque signer's signature is still verified.
		for _, opts := range [][]SignOption{nil, {WithoutSelfCheck()}} {
			t.Run(fmt.Sprintf("%s/options %d", c.name, len(opts)), func(t *testing.T) {
				out, err := Sign(c.doc, c.signer, f.signer.cert, nil, opts...)
				if err == nil || out != nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v, %q; want error containing %q", out != nil, err, c.want)
				}
			})
		}
	}
	if _, err := Sign(doc, f.signer.key, &noKey, nil); err == nil || !strings.Contains(err.Error(), "P-256") {
		t.Errorf("certificate without key: %v", err)
	}
	if _, err := Sign(doc, f.signer.key, nil, nil); err == nil {
		t.Error("nil certificate accepted")
	}
	_, err := Sign([]byte("<!DOCTYPE x><x/>"), f.signer.key, f.signer.cert, nil)
	if e, ok := errors.AsType[*Error](err); !ok || e.Reason != Hostile {
		t.Errorf("hostile input: %v is not a Hostile *Error", err)
	}
}

func TestRS(t *testing.T) {
	for _, rs := range [][]byte{
		bytes.Repeat([]byte{0xff}, 64),
		append(append(make([]byte, 31), 1), append(make([]byte, 31), 2)...), // tiny r and s
	} {
		back, ok := derToRS(rsToDER(rs))
		if !ok || !bytes.Equal(back, rs) {
			t.Errorf("round trip of %x gave %x", rs, back)
		}
	}
	for _, der := range [][]byte{
		nil,
		{0x30, 0x00},
		rsToDER(make([]byte, 64)), // zero r and s
		append(rsToDER(bytes.Repeat([]byte{1}, 64)), 0),  // trailing byte
		{0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01}, // negative r
		{0x30, 0x26, 0x02, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01}, // 33-byte r
	} {
		if _, ok := derToRS(der); ok {
			t.Errorf("derToRS accepted %x", der)
		}
	}
}

func countSignatures(s string) int {
	return strings.Count(s, "<ds:Signature>") + strings.Count(s, "<ds:Signature ") + strings.Count(s, "<ds:Signature/")
}

// TestByteOrderMark: a UTF-8 BOM is legal XML; Verify accepts it and Sign
// keeps it in place.
func TestByteOrderMark(t *testing.T) {
	f := testFixture(t)
	doc := "\uFEFF" + f.request
	out := signWith(t, f.signer, doc, KeepWhitespace())
	if !strings.HasPrefix(out, "\uFEFF<?xml") || strings.Replace(out, signatureOf(t, out), "", 1) != doc {
		t.Errorf("BOM document changed:\n%q", out[:60])
	}
	v, err := Verify([]byte(out), f.pool)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Verify([]byte(signWith(t, f.signer, f.request, KeepWhitespace())), f.pool)
	if err != nil || !bytes.Equal(v.Digested, plain.Digested) {
		t.Errorf("BOM changes the digested bytes: %v", err)
	}
	if _, err := Verify([]byte("\uFEFF\uFEFF"+f.request), f.pool); err == nil {
		t.Error("two BOMs accepted")
	}
}

// signSpelled signs doc with a signature spelled by sig(digest, value),
// the way another conforming signer might write it: the SignedInfo is cut
// out of sig's output, canonicalised in place and signed, so the result is
// valid whatever prefixes and whitespace sig chose.
func signSpelled(t *testing.T, p party, doc string, sig func(digest, value string) string) string {
	t.Helper()
	d, err := parse([]byte(doc), newLimits(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := canonicalDocument(d.root)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(c)
	at := strings.LastIndex(doc, "</")
	draft := doc[:at] + sig(base64.StdEncoding.EncodeToString(h[:]), "") + doc[at:]
	dd, err := parse([]byte(draft), newLimits(nil))
	if err != nil {
		t.Fatal(err)
	}
	sigEl, err := findSignature(dd.root)
	if err != nil {
		t.Fatal(err)
	}
	tbs, err := canonicalSignedInfo(sigEl.ChildElements()[0])
	if err != nil {
		t.Fatal(err)
	}
	th := sha256.Sum256(tbs)
	der, err := ecdsa.SignASN1(rand.Reader, p.key, th[:])
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := derToRS(der)
	v := base64.StdEncoding.EncodeToString(rs)
	return doc[:at] + sig(base64.StdEncoding.EncodeToString(h[:]), v[:76]+"&#13;\n"+v[76:]) + doc[at:]
}

// TestVerifyOtherSpellings: Verify is strict about structure, not about
// spelling. Signatures written with another prefix, as the default
// namespace, pretty-printed, or with Java's wrapped base64 verify.
func TestVerifyOtherSpellings(t *testing.T) {
	f := testFixture(t)
	profile := func(p, decl, nl string) func(d, v string) string {
		return func(d, v string) string {
			return "<" + p + "Signature" + decl + ">" + nl +
				"<" + p + "SignedInfo>" + nl +
				"<" + p + `CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></` + p + "CanonicalizationMethod>" + nl +
				"<" + p + `SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>` + nl +
				"<" + p + `Reference URI=''>` + nl + "<" + p + "Transforms>" + nl +
				"<" + p + `Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` + nl +
				"</" + p + "Transforms>" + nl +
				"<" + p + `DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>` + nl +
				"<" + p + "DigestValue>" + nl + d + nl + "</" + p + "DigestValue>" + nl +
				"</" + p + "Reference>" + nl + "</" + p + "SignedInfo>" + nl +
				"<" + p + "SignatureValue>" + v + "</" + p + "SignatureValue>" + nl +
				"<" + p + "KeyInfo><" + p + "X509Data><" + p + "X509IssuerSerial><" + p + "X509IssuerName> CN=T1, OU=07 </" + p + "X509IssuerName>" +
				"<" + p + "X509SerialNumber>" + nl + "00" + f.signer.cert.SerialNumber.String() + nl + "</" + p + "X509SerialNumber>" +
				"</" + p + "X509IssuerSerial></" + p + "X509Data></" + p + "KeyInfo>" + nl +
				"</" + p + "Signature>" // text after it would be digested
		}
	}
	const dsig = ` xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"`
	cases := map[string]func(d, v string) string{
		"ds declared on the root": profile("ds:", "", ""),
		"other prefix":            profile("dsig:", dsig, ""),
		"default namespace":       profile("", ` xmlns="http://www.w3.org/2000/09/xmldsig#"`, ""),
		"pretty-printed":          profile("dsig:", dsig, "\n  "),
	}
	for name, sig := range cases {
		t.Run(name, func(t *testing.T) {
			doc := signSpelled(t, f.signer, f.request, sig)
			v, err := Verify([]byte(doc), f.pool)
			if err != nil {
				t.Fatalf("%v\n%s", err, doc[strings.Index(doc, "</sr:Body>"):])
			}
			if v.Signer != f.signer.cert {
				t.Error("wrong signer")
			}
			if ok, out := xmlsecVerifyIfInstalled(t, []byte(doc), f.signer.cred.CertPEM()); !ok {
				t.Errorf("xmlsec1 disagrees:\n%s", out)
			}
		})
	}
}

// TestSignWithoutSelfCheck: skipping the read-back changes no byte of the
// output (RFC 6979 makes both signatures deterministic), for software and
// opaque signers alike.
func TestSignWithoutSelfCheck(t *testing.T) {
	f := testFixture(t)
	for _, s := range []crypto.Signer{f.signer.key, opaqueSigner{f.signer.key}} {
		for _, doc := range []string{f.request, `<r/>`, `<p:r xmlns:p="urn:p" a="1"><x>é</x></p:r>`} {
			var rnd io.Reader
			if _, ok := s.(opaqueSigner); ok {
				rnd = rand.Reader
			}
			fast, err := Sign([]byte(doc), s, f.signer.cert, rnd, WithoutSelfCheck())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(fast, f.pool); err != nil {
				t.Errorf("%T %.20q: %v", s, doc, err)
			}
			if rnd != nil {
				continue
			}
			checked, err := Sign([]byte(doc), s, f.signer.cert, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fast, checked) {
				t.Errorf("%.20q: output differs with and without the self-check", doc)
			}
		}
	}
}
