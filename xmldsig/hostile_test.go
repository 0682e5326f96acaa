package xmldsig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/smki"
)

// hostileCase builds a document from the signed fixture request.
type hostileCase struct {
	name   string
	doc    func(t *testing.T, signed string) string
	want   Reason
	detail string // a phrase the public message must contain
}

func literal(s string) func(*testing.T, string) string {
	return func(*testing.T, string) string { return s }
}

func edit(old, new string) func(*testing.T, string) string {
	return func(t *testing.T, s string) string { return replace(t, s, old, new) }
}

const (
	sigOpen     = "<ds:Signature>"
	sigClose    = "</ds:Signature>"
	transformEn = `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>`
	transformEx = `<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>`
	bodyOpen    = "<sr:Body>"
	bodyClose   = "</sr:Body>"
)

func signatureOf(t *testing.T, s string) string { return between(t, s, sigOpen, sigClose) }
func bodyOf(t *testing.T, s string) string      { return between(t, s, bodyOpen, bodyClose) }

// moveSignature puts the signature element where place says.
func moveSignature(place func(t *testing.T, withoutSig, sig string) string) func(*testing.T, string) string {
	return func(t *testing.T, s string) string {
		sig := signatureOf(t, s)
		return place(t, replace(t, s, sig, ""), sig)
	}
}

// attrs is n attributes written from format, numbered from 0.
func attrs(format string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" ")
		b.WriteString(strings.ReplaceAll(format, "%d", strconv.Itoa(i)))
	}
	return b.String()
}

// TestNamespaceBombRefusedAtOnce: a megabyte of namespace declarations
// on the root and empty elements under it took about 20 s of CPU before
// any signature was looked at (each element resolved its prefix among
// every declaration); it is refused while screening.
func TestNamespaceBombRefusedAtOnce(t *testing.T) {
	const size = 1 << 20
	var b strings.Builder
	b.WriteString("<r")
	for i := 0; b.Len() < size/2; i++ {
		b.WriteString(" xmlns:p" + strconv.Itoa(i) + `="u"`)
	}
	b.WriteString(">")
	for b.Len() < size-10 {
		b.WriteString("<a/>")
	}
	b.WriteString("</r>")
	_, err := Verify([]byte(b.String()), nil, WithMaxSize(size))
	if !errors.Is(err, Hostile) {
		t.Fatalf("got %v, want a hostile document", err)
	}
}

func TestVerifyHostile(t *testing.T) {
	f := testFixture(t)
	signed := signedRequest(t)
	if _, err := Verify([]byte(signed), f.pool); err != nil {
		t.Fatalf("fixture does not verify: %v", err)
	}
	rs := between(t, signed, "<ds:SignatureValue>", "</ds:SignatureValue>")

	cases := []hostileCase{
		// Not XML, or not acceptable XML.
		{"empty", literal(""), Malformed, "empty"},
		{"whitespace only", literal(" \n\t "), Malformed, "empty"},
		{"non-UTF-8 junk", literal("\xff\xfe<\x00a\x00/\x00>\x00"), Malformed, "UTF-8"},
		{"latin-1 bytes", edit("<sr:ImportMPxN>", "<sr:ImportMPxN>\xe9"), Malformed, "UTF-8"},
		{"declared non-UTF-8 encoding", edit(`encoding="UTF-8"`, `encoding="ISO-8859-1"`), Malformed, "encoding"},
		{"binary", literal("\x00\x01\x02\x03"), Malformed, ""},
		{"plain text", literal("hello"), Malformed, "root"},
		{"truncated", func(t *testing.T, s string) string { return s[:len(s)/2] }, Malformed, ""},
		{"two roots", func(t *testing.T, s string) string { return s + "<x/>" }, Malformed, "more than one root"},
		{"text after root", func(t *testing.T, s string) string { return s + "junk" }, Malformed, "outside the root"},
		{"mismatched end tag", edit("</sr:Header>", "</sr:Headers>"), Malformed, "closed by"},
		{"undeclared prefix", edit("<sr:CommandVariant>1</sr:CommandVariant>", "<zz:X>1</zz:X>"), Malformed, "undeclared namespace prefix"},
		{"undeclared attribute prefix", edit(`schemaVersion="5.4"`, `zz:a="1" schemaVersion="5.4"`), Malformed, "undeclared namespace prefix"},
		{"duplicate attribute", edit(`schemaVersion="5.4"`, `schemaVersion="5.4" schemaVersion="9.9"`), Malformed, "duplicate attribute"},
		{"same attribute by two prefixes", edit(`schemaVersion="5.4"`, `xmlns:a="urn:x" xmlns:b="urn:x" a:v="1" b:v="2" schemaVersion="5.4"`), Malformed, "appears twice"},
		{"xmlns prefix declared", edit(`schemaVersion="5.4"`, `xmlns:xmlns="urn:x" schemaVersion="5.4"`), Malformed, "xmlns prefix"},
		{"empty prefix binding", edit(`schemaVersion="5.4"`, `xmlns:e="" schemaVersion="5.4"`), Malformed, "empty namespace"},
		{"colon in local name", edit("<sr:CommandVariant>1</sr:CommandVariant>", "<sr:a:b>1</sr:a:b>"), Malformed, ""},
		{"unknown entity without DTD", edit("<sr:ImportMPxN>1312345678333", "<sr:ImportMPxN>&xxe;"), Malformed, "entity"},
		{"declaration not first", func(t *testing.T, s string) string { return "\n" + s }, Malformed, ""},

		// Constructs only an attack needs.
		{"DTD with internal entity", func(t *testing.T, s string) string {
			s = replace(t, s, "?>\n", "?>\n<!DOCTYPE sr:Request [<!ENTITY mpxn \"1312345678333\">]>\n")
			return replace(t, s, "<sr:ImportMPxN>1312345678333", "<sr:ImportMPxN>&mpxn;")
		}, Hostile, "DOCTYPE"},
		{"XXE", edit("?>\n", "?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"), Hostile, "DOCTYPE"},
		{"billion laughs", literal(`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>`), Hostile, "DOCTYPE"},
		{"DOCTYPE without subset", edit("?>\n", "?>\n<!DOCTYPE sr:Request>\n"), Hostile, "DOCTYPE"},
		{"stylesheet PI", edit("?>\n", "?>\n<?xml-stylesheet href=\"x.xsl\"?>\n"), Hostile, "processing instruction"},
		{"PI in body", edit("<sr:Body>", "<sr:Body><?php echo 1; ?>"), Hostile, "processing instruction"},
		{"oversized", func(t *testing.T, s string) string {
			return replace(t, s, "</sr:Request>", "<!--"+strings.Repeat("x", DefaultMaxSize)+"--></sr:Request>")
		}, Hostile, "limit"},
		{"deeply nested", edit("<sr:Body>", "<sr:Body>"+strings.Repeat("<a>", 100)+strings.Repeat("</a>", 100)), Hostile, "nested deeper"},
		{"nesting bomb without end", literal(strings.Repeat("<a>", 100000)), Hostile, "nested deeper"},
		// Resolving a prefix, and the DOM's attribute and namespace
		// lookups, cost the declarations in scope and the attributes on an
		// element: without a bound, a document of declarations and empty
		// elements costs quadratic time before its signature is looked at.
		{"namespace declarations bomb", func(t *testing.T, s string) string {
			s = replace(t, s, bodyOpen, "<sr:Body"+attrs(`xmlns:p%d="urn:x"`, maxAttrs)+">")
			return replace(t, s, "<sr:UpdateSecurityCredentialsCoS>", "<sr:UpdateSecurityCredentialsCoS"+attrs(`xmlns:q%d="urn:x"`, maxAttrs)+">")
		}, Hostile, "namespace declarations"},
		{"attributes bomb", edit(bodyOpen, "<sr:Body"+attrs(`a%d="1"`, maxAttrs+1)+">"), Hostile, "attributes"},

		// Where the signature is and how many there are.
		{"no signature", moveSignature(func(t *testing.T, s, _ string) string { return s }), NoSignature, "no ds:Signature"},
		{"ds prefix bound elsewhere", edit(sigOpen, `<ds:Signature xmlns:ds="urn:not-dsig">`), NoSignature, ""},
		{"two signatures", moveSignature(func(t *testing.T, s, sig string) string {
			return replace(t, s, "</sr:Request>", sig+sig+"</sr:Request>")
		}), ProfileViolation, "2 ds:Signature"},
		{"second signature in body", func(t *testing.T, s string) string {
			return replace(t, s, bodyOpen, bodyOpen+signatureOf(t, s))
		}, ProfileViolation, "2 ds:Signature"},
		{"signature not last", moveSignature(func(t *testing.T, s, sig string) string {
			return replace(t, s, bodyOpen, sig+bodyOpen)
		}), ProfileViolation, "last element"},
		{"signature nested in body", moveSignature(func(t *testing.T, s, sig string) string {
			return replace(t, s, bodyClose, sig+bodyClose)
		}), ProfileViolation, "inside <sr:Body>"},
		{"signature is the root", func(t *testing.T, s string) string {
			return strings.Replace(signatureOf(t, s), sigOpen, `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`, 1)
		}, ProfileViolation, "root element is a ds:Signature"},
		{"stray SignedInfo in body", edit(bodyClose, "<ds:SignedInfo/>"+bodyClose), ProfileViolation, "outside the ds:Signature"},

		// The SignedInfo profile.
		{"C14N transform added", edit(transformEn, transformEn+transformEx), ProfileViolation, "2 ds:Transform"},
		{"transform missing", edit(transformEn, ""), ProfileViolation, "no ds:Transform"},
		{"transforms missing", edit("<ds:Transforms>"+transformEn+"</ds:Transforms>", ""), ProfileViolation, "must contain ds:Transforms"},
		{"only a C14N transform", edit(transformEn, transformEx), ProfileViolation, "Algorithm"},
		{"XPath transform", edit(transformEn, `<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>/</ds:XPath></ds:Transform>`), ProfileViolation, "Algorithm"},
		{"reference by Id", edit(`URI=""`, `URI="#body"`), ProfileViolation, `URI is "#body"`},
		{"reference without URI", edit(`<ds:Reference URI="">`, `<ds:Reference>`), ProfileViolation, "no URI"},
		{"reference with Type", edit(`URI=""`, `URI="" Type="http://www.w3.org/2000/09/xmldsig#Object"`), ProfileViolation, "attribute Type"},
		{"two references", func(t *testing.T, s string) string {
			ref := between(t, s, "<ds:Reference ", "</ds:Reference>")
			return replace(t, s, ref, ref+ref)
		}, ProfileViolation, "2 ds:Reference"},
		{"inclusive canonicalization", edit(`Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`, `Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"`), ProfileViolation, "CanonicalizationMethod Algorithm"},
		{"exc-c14n with comments", edit(`Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`, `Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#WithComments"`), ProfileViolation, "CanonicalizationMethod Algorithm"},
		{"InclusiveNamespaces", edit(`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>`,
			`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="sr"/></ds:CanonicalizationMethod>`),
			ProfileViolation, "must be empty"},
		{"RSA signature method", edit("xmldsig-more#ecdsa-sha256", "xmldsig-more#rsa-sha256"), ProfileViolation, "SignatureMethod Algorithm"},
		{"ECDSA-SHA1", edit("xmldsig-more#ecdsa-sha256", "xmldsig-more#ecdsa-sha1"), ProfileViolation, "SignatureMethod Algorithm"},
		{"HMAC output length", edit(`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>`,
			`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"><ds:HMACOutputLength>0</ds:HMACOutputLength></ds:SignatureMethod>`),
			ProfileViolation, "must be empty"},
		{"SHA-1 digest", edit("xmlenc#sha256", "xmldsig#sha1"), ProfileViolation, "DigestMethod Algorithm"},
		{"SignedInfo Id", edit("<ds:SignedInfo>", `<ds:SignedInfo Id="si">`), ProfileViolation, "attribute Id"},
		{"Signature Id", edit(sigOpen, `<ds:Signature Id="sig">`), ProfileViolation, "attribute Id"},
		{"comment in SignedInfo", edit("<ds:SignedInfo>", "<ds:SignedInfo><!-- x -->"), ProfileViolation, "comment"},
		{"comment splitting DigestValue", func(t *testing.T, s string) string {
			return replace(t, s, "<ds:DigestValue>", "<ds:DigestValue><!---->")
		}, ProfileViolation, "only text"},
		{"text in SignedInfo", edit("<ds:SignedInfo>", "<ds:SignedInfo>x"), ProfileViolation, "text"},
		{"Object", edit("</ds:KeyInfo>", "</ds:KeyInfo><ds:Object><sr:Body/></ds:Object>"), ProfileViolation, "ds:Object"},
		{"Manifest in Object", edit("</ds:KeyInfo>", `</ds:KeyInfo><ds:Object><ds:Manifest><ds:Reference URI="#x"/></ds:Manifest></ds:Object>`), ProfileViolation, "ds:Object"},
		{"foreign element in SignedInfo", edit("</ds:SignedInfo>", "<sr:X/></ds:SignedInfo>"), ProfileViolation, "namespace"},
		{"DigestValue not base64", func(t *testing.T, s string) string {
			return replace(t, s, between(t, s, "<ds:DigestValue>", "</ds:DigestValue>"), "<ds:DigestValue>!!!</ds:DigestValue>")
		}, ProfileViolation, "not base64"},
		{"DigestValue short", func(t *testing.T, s string) string {
			return replace(t, s, between(t, s, "<ds:DigestValue>", "</ds:DigestValue>"), "<ds:DigestValue>AAAA</ds:DigestValue>")
		}, ProfileViolation, "32"},

		// KeyInfo and the signer.
		{"KeyInfo missing", func(t *testing.T, s string) string {
			return replace(t, s, between(t, s, "<ds:KeyInfo>", "</ds:KeyInfo>"), "")
		}, ProfileViolation, "ds:KeyInfo"},
		{"X509Certificate instead", func(t *testing.T, s string) string {
			return replace(t, s, between(t, s, "<ds:X509IssuerSerial>", "</ds:X509IssuerSerial>"), "<ds:X509Certificate>AAAA</ds:X509Certificate>")
		}, ProfileViolation, "X509IssuerSerial"},
		{"KeyName added", edit("<ds:KeyInfo>", "<ds:KeyInfo><ds:KeyName>k</ds:KeyName>"), ProfileViolation, "KeyName"},
		{"hex serial", func(t *testing.T, s string) string {
			return replace(t, s, f.signer.cert.SerialNumber.String()+"<", "0x"+f.signer.cert.SerialNumber.Text(16)+"<")
		}, ProfileViolation, "decimal"},
		{"negative serial", edit("<ds:X509SerialNumber>", "<ds:X509SerialNumber>-"), ProfileViolation, "decimal"},
		{"bad issuer name", edit("CN=T1,OU=07", "nonsense"), ProfileViolation, "RFC 2253"},
		{"unknown serial", func(t *testing.T, s string) string {
			return replace(t, s, f.signer.cert.SerialNumber.String()+"<", "12345<")
		}, UnknownSigner, "serial 12345"},
		{"unknown issuer", edit("CN=T1,OU=07", "CN=T2,OU=07"), UnknownSigner, "CN=T2"},
		{"another known signer", func(t *testing.T, s string) string {
			return replace(t, s, f.signer.cert.SerialNumber.String()+"<", f.other.cert.SerialNumber.String()+"<")
		}, BadSignature, "does not verify"},

		// The signature value.
		{"SignatureValue in DER", func(t *testing.T, s string) string {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(rs, "<ds:SignatureValue>"), "</ds:SignatureValue>"))
			return replace(t, s, rs, "<ds:SignatureValue>"+base64.StdEncoding.EncodeToString(rsToDER(raw))+"</ds:SignatureValue>")
		}, BadSignature, "ASN.1 DER"},
		{"SignatureValue not base64", edit(rs, "<ds:SignatureValue>@@@@</ds:SignatureValue>"), BadSignature, "not base64"},
		{"SignatureValue empty", edit(rs, "<ds:SignatureValue></ds:SignatureValue>"), BadSignature, "empty"},
		{"SignatureValue zero", edit(rs, "<ds:SignatureValue>"+base64.StdEncoding.EncodeToString(make([]byte, 64))+"</ds:SignatureValue>"), BadSignature, "does not verify"},
		{"SignatureValue flipped", func(t *testing.T, s string) string {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(rs, "<ds:SignatureValue>"), "</ds:SignatureValue>"))
			raw[40] ^= 1
			return replace(t, s, rs, "<ds:SignatureValue>"+base64.StdEncoding.EncodeToString(raw)+"</ds:SignatureValue>")
		}, BadSignature, "does not verify"},
		{"DigestValue changed", func(t *testing.T, s string) string {
			dv := between(t, s, "<ds:DigestValue>", "</ds:DigestValue>")
			return replace(t, s, dv, "<ds:DigestValue>"+base64.StdEncoding.EncodeToString(make([]byte, 32))+"</ds:DigestValue>")
		}, BadSignature, "does not verify"},
		// White space between SignedInfo's elements is not seen (as by the
		// DCC's validator, TestVerifyIndentedAfterSigning), but a character
		// reference is content.
		{"SignedInfo reformatted", edit("<ds:SignedInfo>", "<ds:SignedInfo>&#10;"), BadSignature, "does not verify"},

		// Signature wrapping and content changes: SignedInfo still verifies,
		// the document does not match it.
		{"wrapped body plus new body", func(t *testing.T, s string) string {
			body := bodyOf(t, s)
			evil := replace(t, body, "1312345678333", "1999999999999")
			return replace(t, s, body, "<sr:Header>"+body+"</sr:Header>"+evil)
		}, DigestMismatch, "changed after signing"},
		{"body moved into Signature sibling wrapper", func(t *testing.T, s string) string {
			body := bodyOf(t, s)
			return replace(t, s, body, replace(t, body, "1312345678333", "1999999999999")+"<sr:Wrapper>"+body+"</sr:Wrapper>")
		}, DigestMismatch, ""},
		{"value changed", edit("1312345678333", "1312345678334"), DigestMismatch, ""},
		{"attribute added", edit(bodyOpen, `<sr:Body xsi:nil="false">`), DigestMismatch, ""},
		{"attribute changed", edit(`schemaVersion="5.4"`, `schemaVersion="5.1"`), DigestMismatch, ""},
		{"whitespace inside body", edit("<sr:ImportMPxN>1312345678333", "<sr:ImportMPxN> 1312345678333"), DigestMismatch, ""},
		{"indentation changed", edit("\n    <sr:UpdateSecurityCredentialsCoS>", "\n\t<sr:UpdateSecurityCredentialsCoS>"), DigestMismatch, ""},
		{"element added", edit(bodyClose, "<sr:Extra/>"+bodyClose), DigestMismatch, ""},
		{"prefix renamed", func(t *testing.T, s string) string {
			s = replace(t, s, "<sr:ImportMPxN>", `<x:ImportMPxN xmlns:x="http://www.dccinterface.co.uk/ServiceUserGateway">`)
			return replace(t, s, "</sr:ImportMPxN>", "</x:ImportMPxN>")
		}, DigestMismatch, ""},
		{"namespace declaration added", edit(bodyOpen, `<sr:Body xmlns:extra="urn:x">`), DigestMismatch, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := c.doc(t, signed)
			v, err := Verify([]byte(doc), f.pool)
			wantReason(t, v, err, c.want)
			if !strings.Contains(err.Error(), c.detail) {
				t.Errorf("message %q does not mention %q", err, c.detail)
			}
			if len(err.Error()) > 400 {
				t.Errorf("message is %d bytes; details must stay short", len(err.Error()))
			}
		})
	}
}

// Canonical XML drops what does not change the infoset: comments, the
// spelling of characters, CDATA sections, attribute order and quotes,
// redundant declarations. Such edits keep the signature valid, and the
// Digested bytes a caller decodes are the same as for the original, so
// none of them can change what the caller sees.
func TestVerifyCanonicalEquivalents(t *testing.T) {
	f := testFixture(t)
	signed := signedRequest(t)
	orig, err := Verify([]byte(signed), f.pool)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		doc  string
	}{
		{"comment in body", replace(t, signed, "<sr:ImportMPxN>1312345678", "<sr:ImportMPxN>1312345678<!-- 999 -->")},
		{"comment before root", replace(t, signed, "?>\n", "?>\n<!-- hello -->")},
		{"character reference", replace(t, signed, "<sr:ImportMPxN>1", "<sr:ImportMPxN>&#x31;")},
		{"CDATA", replace(t, signed, "<sr:ImportMPxN>1312345678333", "<sr:ImportMPxN><![CDATA[1312345678333]]>")},
		{"single quotes", replace(t, signed, `schemaVersion="5.4"`, `schemaVersion='5.4'`)},
		{"redundant declaration", replace(t, signed, bodyOpen, `<sr:Body xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">`)},
		{"no XML declaration", signed[strings.Index(signed, "?>")+2:]},
		{"CRLF line ends", strings.ReplaceAll(signed, "\n", "\r\n")},
		{"pretty-printed signature", replace(t, replace(t, signed, "<ds:SignedInfo>", "\n  <ds:SignedInfo>"), "<ds:KeyInfo>", "\n<ds:KeyInfo>")},
		{"empty element spelled out", replace(t, signed, `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>`,
			`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Verify([]byte(c.doc), f.pool)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !bytes.Equal(v.Digested, orig.Digested) {
				t.Errorf("Digested differs from the original's:\n%s\nwant\n%s", v.Digested, orig.Digested)
			}
			if bytes.Contains(v.Digested, []byte("<!--")) || bytes.Contains(v.Digested, []byte("Signature")) {
				t.Error("Digested holds a comment or the signature")
			}
		})
	}
}

func TestVerifyLimitsConfigurable(t *testing.T) {
	f := testFixture(t)
	signed := []byte(signedRequest(t))
	v, err := Verify(signed, f.pool, WithMaxSize(len(signed)-1))
	wantReason(t, v, err, Hostile)
	if _, err := Verify(signed, f.pool, WithMaxSize(len(signed))); err != nil {
		t.Errorf("at the size limit: %v", err)
	}
	depth := func(n int) limits { return limits{maxSize: DefaultMaxSize, maxDepth: n} }
	v, err = verify(signed, f.pool, depth(5), checkECDSA) // the signature reaches depth 6
	wantReason(t, v, err, Hostile)
	if _, err := verify(signed, f.pool, depth(6), checkECDSA); err != nil {
		t.Errorf("at the depth limit: %v", err)
	}
	if _, err := Verify(signed, f.pool, nil, WithMaxSize(0)); err != nil {
		t.Errorf("nil and zero options: %v", err)
	}
	deep := replace(t, string(signed), bodyOpen, bodyOpen+strings.Repeat("<a>", 40)+strings.Repeat("</a>", 40))
	v, err = Verify([]byte(deep), f.pool)
	wantReason(t, v, err, Hostile)
	v, err = verify([]byte(deep), f.pool, depth(64), checkECDSA)
	wantReason(t, v, err, DigestMismatch) // past the screen, and the edit is caught
}

func TestVerifyNilStore(t *testing.T) {
	signed := []byte(signedRequest(t))
	v, err := Verify(signed, nil)
	wantReason(t, v, err, UnknownSigner)
}

// laxFinder returns its certificate whatever is asked: Verify must not
// trust it to have matched issuer and serial.
type laxFinder struct{ c *smki.Certificate }

func (l laxFinder) FindByIssuerSerial(smki.Name, *big.Int) *smki.Certificate { return l.c }

func TestVerifyDistrustsCertFinder(t *testing.T) {
	f := testFixture(t)
	signed := signedRequest(t)
	unknown := replace(t, signed, f.signer.cert.SerialNumber.String()+"<", "12345<")
	v, err := Verify([]byte(unknown), laxFinder{f.signer.cert})
	wantReason(t, v, err, UnknownSigner)

	noKey := *f.signer.cert
	noKey.PublicKey = nil // what smki leaves for a non-P-256 key
	v, err = Verify([]byte(signed), laxFinder{&noKey})
	wantReason(t, v, err, UnknownSigner)
	if !strings.Contains(err.Error(), "P-256") {
		t.Errorf("message %q does not say why", err)
	}
}

func TestReasonsMalformed(t *testing.T) {
	for r := Malformed; r <= BadSignature; r++ {
		if got, want := r.IsMalformed(), r == Malformed || r == Hostile; got != want {
			t.Errorf("%v.IsMalformed() = %v", r, got)
		}
		if strings.HasPrefix(r.String(), "reason(") {
			t.Errorf("reason %d has no name", r)
		}
	}
	if Reason(0).String() != "reason(0)" {
		t.Error("zero reason has a name")
	}
}

// TestCanonicalLimitations: the two constructs whose canonical form we
// cannot produce exactly (see checkCanonicalisable and screen) are refused
// by name, by Verify and by Sign, instead of failing as a digest mismatch
// or producing a signature other verifiers reject.
func TestCanonicalLimitations(t *testing.T) {
	f := testFixture(t)
	signed := signedRequest(t)
	cases := []struct{ name, old, new, detail string }{
		{"attributes from two namespaces", bodyOpen, `<sr:Body xmlns:a="urn:a" xsi:nil="false" a:z="1">`, "more than one namespace"},
		{"literal tab in attribute", `schemaVersion="5.4"`, "schemaVersion=\"5.4\tx\"", "literal tab"},
		{"literal newline in attribute", `schemaVersion="5.4"`, "schemaVersion='5.4\nx'", "literal tab or line break"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Verify([]byte(replace(t, signed, c.old, c.new)), f.pool)
			wantReason(t, v, err, ProfileViolation)
			if !strings.Contains(err.Error(), c.detail) {
				t.Errorf("message %q does not mention %q", err, c.detail)
			}
			if _, err := Sign([]byte(replace(t, f.request, c.old, c.new)), f.signer.key, f.signer.cert, nil); err == nil || !strings.Contains(err.Error(), c.detail) {
				t.Errorf("Sign: %v", err)
			}
		})
	}
	// Character references and plain spaces are fine: they canonicalise the
	// same everywhere.
	ok := replace(t, f.request, `schemaVersion="5.4"`, `schemaVersion="5.4&#9;x&#10;y z" xsi:nil="false"`)
	if _, err := Verify([]byte(signWith(t, f.signer, ok)), f.pool); err != nil {
		t.Error(err)
	}
}
