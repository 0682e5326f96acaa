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
	"math/big"
	"strings"

	"github.com/beevik/etree"

	"github.com/ecos-cos/ecos/smki"
)

// Sign returns doc with a DUIS enveloped signature made by signer, whose
// certificate is cert. Any existing ds:Signature is removed first.
//
// Sign does what the DCC's Java signer does with white space: the
// white-space-only text between elements (indentation) is removed before
// signing, so every verifier, the DCC's validator included, digests the
// same bytes. Text inside a value is never touched. KeepWhitespace signs
// the bytes as given instead, for verifiers that digest indentation;
// the DCC's validator refuses such a signature on an indented document.
//
// Otherwise only the signature is written: every other byte of doc
// (declaration, attribute order, comments, values) is kept as it was,
// because the digest is over the canonical form and re-serialising would
// only risk changing what the sender meant. The new ds:Signature takes the
// place of the old one if that was the root's last element, and otherwise
// goes just before the root's end tag. It has the Java reference signer's
// shape: "ds:" prefix (declared on the Signature only if the root does not
// bind it), no indentation, KeyInfo with the RFC 2253 issuer and decimal
// serial.
//
// A nil rand with an *ecdsa.PrivateKey signs deterministically (RFC 6979);
// other signers get crypto/rand.Reader. The result is checked before it is
// returned, so Sign never hands out a document Verify would refuse for
// anything this package wrote.
//
// WithoutSelfCheck skips reading the document back, for callers signing
// documents they encoded themselves with an encoder tested against Verify,
// xmlsec1 and the Java validator: it halves the cost of signing. A signer
// other than an *ecdsa.PrivateKey still has its signature verified.
func Sign(doc []byte, signer crypto.Signer, cert *smki.Certificate, rnd io.Reader, opts ...SignOption) ([]byte, error) {
	var o signOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if signer == nil || cert == nil || cert.SerialNumber == nil {
		return nil, errors.New("xmldsig: Sign needs a signer and its certificate")
	}
	if cert.PublicKey == nil || cert.PublicKey.Curve != elliptic.P256() {
		return nil, errors.New("xmldsig: the signing certificate has no P-256 key")
	}
	if pub, ok := signer.Public().(*ecdsa.PublicKey); !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("xmldsig: the signing key does not match the certificate")
	}
	if _, ok := signer.(*ecdsa.PrivateKey); rnd == nil && !ok {
		rnd = rand.Reader
	}

	d, err := parse(doc, newLimits(nil))
	if err != nil {
		return nil, err
	}
	if compact := d.compact(); compact != nil && !o.keepWhitespace {
		if d, err = parse(compact, newLimits(nil)); err != nil {
			return nil, fmt.Errorf("xmldsig: the document without white space between elements does not parse: %w", err)
		}
	}
	if err := checkCanonicalisable(d.root); err != nil {
		return nil, err
	}
	if n := removeSignatures(d.root); n != len(d.layout.signatures) {
		// Screening and the DOM disagree on what a signature is: a bug.
		return nil, fmt.Errorf("xmldsig: found %d signatures in the DOM but %d in the bytes", n, len(d.layout.signatures))
	}
	if el := firstDSig(d.root); el != nil {
		// Verify would refuse the signed document for it.
		return nil, errorf(ProfileViolation, "%s appears outside the ds:Signature", describe(el))
	}
	digested, err := canonicalDocument(d.root)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: canonicalising the document: %w", err)
	}
	digest := sha256.Sum256(digested)
	signedInfo := signedInfoXML(digest[:])

	tbs, err := canonicalTemplate(signedInfo)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(tbs)
	der, err := signer.Sign(rnd, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: signing: %w", err)
	}
	rs, ok := derToRS(der)
	if !ok {
		return nil, errors.New("xmldsig: the signer returned a malformed ECDSA signature")
	}

	var sig strings.Builder
	sig.WriteString("<ds:Signature")
	if !bindsDS(d.root) {
		sig.WriteString(` xmlns:ds="` + nsDSig + `"`)
	}
	sig.WriteString(">")
	sig.WriteString(signedInfo)
	sig.WriteString("<ds:SignatureValue>" + base64.StdEncoding.EncodeToString(rs) + "</ds:SignatureValue>")
	sig.WriteString("<ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>")
	sig.WriteString(textEscaper.Replace(cert.Issuer.String()))
	sig.WriteString("</ds:X509IssuerName><ds:X509SerialNumber>" + cert.SerialNumber.String())
	sig.WriteString("</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature>")

	out := splice(d.raw, d.layout, sig.String())
	// The self-check is Verify on the output. What it exists to catch is
	// this package splicing or canonicalising wrongly, and a signer
	// returning a signature that is not one. Go's own ECDSA cannot do the
	// latter, so for an *ecdsa.PrivateKey the value is compared with what
	// it returned for these very SignedInfo bytes instead of verified
	// again, which would cost twice the signing. Any other signer (an
	// HSM) has its signature verified.
	_, software := signer.(*ecdsa.PrivateKey)
	if o.noSelfCheck {
		if !software && !ecdsa.VerifyASN1(cert.PublicKey, h[:], der) {
			return nil, fmt.Errorf("xmldsig: the signed document does not verify: %w", errorf(BadSignature, "the signer's ds:SignatureValue does not verify with the key of its certificate"))
		}
		return out, nil
	}
	lim := newLimits([]Option{WithMaxSize(len(out))})
	check := checkECDSA
	if software {
		check = func(_ *smki.Certificate, signedInfo, value []byte) bool {
			return bytes.Equal(signedInfo, tbs) && bytes.Equal(value, rs)
		}
	}
	if _, err := verify(out, signerOnly{cert}, lim, check); err != nil {
		return nil, fmt.Errorf("xmldsig: the signed document does not verify: %w", err)
	}
	return out, nil
}

// SignOption adjusts Sign.
type SignOption func(*signOptions)

type signOptions struct{ noSelfCheck, keepWhitespace bool }

// WithoutSelfCheck makes Sign return the document without reading it back
// through Verify first.
func WithoutSelfCheck() SignOption { return func(o *signOptions) { o.noSelfCheck = true } }

// KeepWhitespace makes Sign keep and digest the white space between
// elements, signing the bytes as given.
func KeepWhitespace() SignOption { return func(o *signOptions) { o.keepWhitespace = true } }

// firstDSig returns the first element of the XML-DSig namespace in el's
// tree, or nil.
func firstDSig(el *etree.Element) *etree.Element {
	if el.NamespaceURI() == nsDSig {
		return el
	}
	for _, c := range el.ChildElements() {
		if f := firstDSig(c); f != nil {
			return f
		}
	}
	return nil
}

// signedInfoXML is SignedInfo exactly as the Java signer writes it.
func signedInfoXML(digest []byte) string {
	return `<ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="` + algExcC14N + `"/>` +
		`<ds:SignatureMethod Algorithm="` + algECDSASHA256 + `"/>` +
		`<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="` + algEnveloped + `"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="` + algSHA256 + `"/>` +
		`<ds:DigestValue>` + base64.StdEncoding.EncodeToString(digest) + `</ds:DigestValue>` +
		`</ds:Reference></ds:SignedInfo>`
}

// canonicalTemplate canonicalises a SignedInfo through the same code path
// Verify uses, inside a Signature that binds ds: as the document will.
// Exclusive C14N renders only the visibly used ds: binding, so the result
// does not depend on where the signature is later placed.
func canonicalTemplate(signedInfo string) ([]byte, error) {
	t := etree.NewDocument()
	if err := t.ReadFromString(`<ds:Signature xmlns:ds="` + nsDSig + `">` + signedInfo + `</ds:Signature>`); err != nil {
		return nil, fmt.Errorf("xmldsig: SignedInfo template: %w", err)
	}
	b, err := canonicalSignedInfo(t.Root().ChildElements()[0])
	if err != nil {
		return nil, fmt.Errorf("xmldsig: canonicalising SignedInfo: %w", err)
	}
	return b, nil
}

// removeSignatures removes every outermost ds:Signature, wherever it is,
// and says how many there were.
func removeSignatures(root *etree.Element) int {
	n := 0
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, c := range el.ChildElements() {
			if isDS(c, "Signature") {
				el.RemoveChild(c)
				n++
				continue
			}
			walk(c)
		}
	}
	walk(root)
	return n
}

// bindsDS reports whether the root element binds ds: to XML-DSig itself,
// as the Java signer's input usually does.
func bindsDS(root *etree.Element) bool {
	for _, a := range root.Attr {
		if a.Space == "xmlns" && a.Key == "ds" {
			return a.Value == nsDSig
		}
	}
	return false
}

// splice writes raw without its old signatures and with sig as the last
// element of the root, touching no other byte.
func splice(raw []byte, lay layout, sig string) []byte {
	out := make([]byte, 0, len(raw)+len(sig)+len(lay.rootName)+3)
	if lay.selfClosing { // "<root …/>" becomes "<root …>sig</root>"
		out = append(out, raw[:lay.rootEnd-2]...)
		out = append(out, '>')
		out = append(out, sig...)
		out = append(out, "</"+lay.rootName+">"...)
		return append(out, raw[lay.rootEnd:]...)
	}
	at := lay.rootEnd
	if lay.lastIsSig {
		at = lay.lastChild.start
	}
	prev, inserted := 0, false
	for _, s := range lay.signatures {
		out = append(out, raw[prev:s.start]...)
		if s.start == at {
			out = append(out, sig...)
			inserted = true
		}
		prev = s.end
	}
	if !inserted {
		out = append(out, raw[prev:at]...)
		out = append(out, sig...)
		prev = at
	}
	return append(out, raw[prev:]...)
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")

// signerOnly is the CertFinder for Sign's self-check.
type signerOnly struct{ c *smki.Certificate }

func (s signerOnly) FindByIssuerSerial(issuer smki.Name, serial *big.Int) *smki.Certificate {
	if s.c.Issuer.Equal(issuer) && s.c.SerialNumber.Cmp(serial) == 0 {
		return s.c
	}
	return nil
}
