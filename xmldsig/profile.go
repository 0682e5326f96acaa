package xmldsig

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// The DUIS profile: one value per slot, nothing negotiable.
const (
	nsDSig         = "http://www.w3.org/2000/09/xmldsig#"
	algExcC14N     = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	algEnveloped   = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algSHA256      = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// signature is a ds:Signature that passed the profile checks, with the
// values Verify needs.
type signature struct {
	el         *etree.Element
	signedInfo *etree.Element
	digest     []byte // DigestValue, 32 bytes
	value      []byte // SignatureValue, 64 bytes r‖s
	keyInfo    *etree.Element
}

// findSignature returns the one ds:Signature of the document, which must
// be the last element child of the root. Allowing exactly one signature in
// exactly one place is what defeats wrapping attacks: there is no second
// signature to point a verifier at, and URI="" can only mean the document.
func findSignature(root *etree.Element) (*etree.Element, error) {
	var sigs []*etree.Element
	var stray *etree.Element
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) { // depth is bounded by the screening limit
		if isDS(el, "Signature") {
			sigs = append(sigs, el)
			return // its content is checked by checkSignature
		}
		if stray == nil && el.NamespaceURI() == nsDSig {
			stray = el
		}
		for _, c := range el.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	switch {
	case len(sigs) == 0:
		return nil, errorf(NoSignature, "the document has no ds:Signature element")
	case len(sigs) > 1:
		return nil, errorf(ProfileViolation, "the document has %d ds:Signature elements; exactly one is allowed", len(sigs))
	case stray != nil:
		return nil, errorf(ProfileViolation, "%s appears outside the ds:Signature", describe(stray))
	}
	sig := sigs[0]
	if sig == root {
		return nil, errorf(ProfileViolation, "the root element is a ds:Signature; DUIS signatures are enveloped in the message")
	}
	if sig.Parent() != root {
		return nil, errorf(ProfileViolation, "the ds:Signature is inside <%s>; it must be a child of the root element <%s>",
			excerpt(sig.Parent().FullTag()), excerpt(root.FullTag()))
	}
	kids := root.ChildElements()
	if last := kids[len(kids)-1]; last != sig {
		return nil, errorf(ProfileViolation, "the ds:Signature must be the last element of <%s>; <%s> follows it",
			excerpt(root.FullTag()), excerpt(last.FullTag()))
	}
	return sig, nil
}

// checkSignature applies the profile to every element and attribute of the
// signature. Inside it nothing but whitespace may sit between elements, so
// the values read here are exactly the ones the canonical SignedInfo holds.
func checkSignature(sig *etree.Element) (*signature, error) {
	if err := onlyAttrs(sig); err != nil {
		return nil, err
	}
	parts, err := expect(sig, "SignedInfo", "SignatureValue", "KeyInfo")
	if err != nil {
		return nil, err
	}
	s := &signature{el: sig, signedInfo: parts[0], keyInfo: parts[2]}
	if s.digest, err = checkSignedInfo(s.signedInfo); err != nil {
		return nil, err
	}
	if s.value, err = signatureValue(parts[1]); err != nil {
		return nil, err
	}
	return s, nil
}

// checkSignedInfo returns the DigestValue of the single Reference.
func checkSignedInfo(si *etree.Element) ([]byte, error) {
	if err := onlyAttrs(si); err != nil {
		return nil, err
	}
	if n := countDS(si, "Reference"); n > 1 {
		return nil, errorf(ProfileViolation, "ds:SignedInfo has %d ds:Reference elements; exactly one is allowed", n)
	}
	kids, err := expect(si, "CanonicalizationMethod", "SignatureMethod", "Reference")
	if err != nil {
		return nil, err
	}
	// No InclusiveNamespaces PrefixList: the reference signer never writes
	// one, and without it exc-c14n of SignedInfo depends on nothing outside.
	if err := algorithm(kids[0], algExcC14N); err != nil {
		return nil, err
	}
	if err := algorithm(kids[1], algECDSASHA256); err != nil {
		return nil, err
	}
	return checkReference(kids[2])
}

func checkReference(ref *etree.Element) ([]byte, error) {
	if err := onlyAttrs(ref, "URI"); err != nil {
		return nil, err
	}
	uri := ref.SelectAttr("URI")
	if uri == nil {
		return nil, errorf(ProfileViolation, `ds:Reference has no URI attribute; URI="" is required`)
	}
	if uri.Value != "" {
		return nil, errorf(ProfileViolation, `ds:Reference URI is %q; only URI="" (the whole document) is allowed`, excerpt(uri.Value))
	}
	kids, err := expect(ref, "Transforms", "DigestMethod", "DigestValue")
	if err != nil {
		return nil, err
	}
	if err := onlyAttrs(kids[0]); err != nil {
		return nil, err
	}
	switch n := countDS(kids[0], "Transform"); {
	case n == 0:
		return nil, errorf(ProfileViolation, "ds:Transforms has no ds:Transform; exactly one, enveloped-signature, is required")
	case n > 1:
		return nil, errorf(ProfileViolation, "ds:Transforms has %d ds:Transform elements; only enveloped-signature is allowed", n)
	}
	tr, err := expect(kids[0], "Transform")
	if err != nil {
		return nil, err
	}
	if err := algorithm(tr[0], algEnveloped); err != nil {
		return nil, err
	}
	if err := algorithm(kids[1], algSHA256); err != nil {
		return nil, err
	}
	text, err := leafText(kids[2])
	if err != nil {
		return nil, err
	}
	d, err := decodeBase64(text)
	if err != nil {
		return nil, errorf(ProfileViolation, "ds:DigestValue: %v", err)
	}
	if len(d) != 32 {
		return nil, errorf(ProfileViolation, "ds:DigestValue is %d bytes; SHA-256 needs 32", len(d))
	}
	return d, nil
}

// signatureValue decodes the 64-byte r‖s. Java breaks the base64 every 76
// characters with "&#13;" and a newline, so all whitespace is dropped.
func signatureValue(el *etree.Element) ([]byte, error) {
	text, err := leafText(el)
	if err != nil {
		return nil, err
	}
	v, err := decodeBase64(text)
	if err != nil {
		return nil, errorf(BadSignature, "ds:SignatureValue: %v", err)
	}
	if len(v) != 64 {
		hint := ""
		if _, _, ok := parseDER(v); ok {
			hint = " (this one is ASN.1 DER, which DUIS does not use)"
		}
		return nil, errorf(BadSignature, "ds:SignatureValue is %d bytes; ECDSA P-256 in XML-DSig is 64 bytes r‖s%s", len(v), hint)
	}
	return v, nil
}

// isDS reports whether el is the XML-DSig element local, by namespace, not
// by prefix: a "ds:" bound elsewhere is not ours, and a default namespace
// is as good as a prefix.
func isDS(el *etree.Element, local string) bool {
	return el.Tag == local && el.NamespaceURI() == nsDSig
}

func countDS(el *etree.Element, local string) int {
	n := 0
	for _, c := range el.ChildElements() {
		if isDS(c, local) {
			n++
		}
	}
	return n
}

// describe names an element for an error: "ds:Object", or its namespace
// too when that is not XML-DSig.
func describe(el *etree.Element) string {
	if ns := el.NamespaceURI(); ns != nsDSig {
		return fmt.Sprintf("<%s> (namespace %q)", excerpt(el.FullTag()), clip(ns, 100))
	}
	return "ds:" + excerpt(el.Tag)
}

// children returns el's child elements and refuses everything else except
// whitespace: text, comments or processing instructions inside the
// signature would let the DOM and the canonical form disagree.
func children(el *etree.Element) ([]*etree.Element, error) {
	var out []*etree.Element
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			out = append(out, t)
		case *etree.CharData:
			if !isXMLSpace([]byte(t.Data)) {
				return nil, errorf(ProfileViolation, "text inside ds:%s", el.Tag)
			}
		case *etree.Comment:
			return nil, errorf(ProfileViolation, "comment inside ds:%s", el.Tag)
		default:
			return nil, errorf(ProfileViolation, "unexpected content inside ds:%s", el.Tag)
		}
	}
	return out, nil
}

// expect returns el's children, which must be exactly the named XML-DSig
// elements in order.
func expect(el *etree.Element, locals ...string) ([]*etree.Element, error) {
	kids, err := children(el)
	if err != nil {
		return nil, err
	}
	ok := len(kids) == len(locals)
	for i := 0; ok && i < len(kids); i++ {
		ok = isDS(kids[i], locals[i])
	}
	if ok {
		return kids, nil
	}
	want := make([]string, len(locals))
	for i, l := range locals {
		want[i] = "ds:" + l
	}
	got := make([]string, 0, len(kids))
	for _, k := range kids {
		got = append(got, describe(k))
	}
	if len(got) == 0 {
		got = append(got, "nothing")
	}
	return nil, errorf(ProfileViolation, "ds:%s must contain %s; it contains %s",
		el.Tag, strings.Join(want, ", "), clip(strings.Join(got, ", "), 200))
}

// onlyAttrs refuses any attribute but namespace declarations and the
// unqualified ones listed: Id, Type and friends are what reference-by-Id
// wrapping needs, and nothing in the profile uses them.
func onlyAttrs(el *etree.Element, allowed ...string) error {
next:
	for _, a := range el.Attr {
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
			continue
		}
		if a.Space == "" {
			for _, k := range allowed {
				if a.Key == k {
					continue next
				}
			}
		}
		return errorf(ProfileViolation, "unexpected attribute %s on ds:%s", excerpt(a.FullKey()), el.Tag)
	}
	return nil
}

// algorithm checks an empty element whose only attribute is Algorithm=want.
func algorithm(el *etree.Element, want string) error {
	if err := onlyAttrs(el, "Algorithm"); err != nil {
		return err
	}
	a := el.SelectAttr("Algorithm")
	if a == nil {
		return errorf(ProfileViolation, "ds:%s has no Algorithm", el.Tag)
	}
	if a.Value != want {
		return errorf(ProfileViolation, "ds:%s Algorithm is %q; DUIS requires %q", el.Tag, clip(a.Value, 100), want)
	}
	kids, err := children(el)
	if err != nil {
		return err
	}
	if len(kids) != 0 {
		return errorf(ProfileViolation, "ds:%s must be empty; it contains %s", el.Tag, describe(kids[0]))
	}
	return nil
}

// leafText returns the text of an element that may hold nothing else.
func leafText(el *etree.Element) (string, error) {
	if err := onlyAttrs(el); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, t := range el.Child {
		cd, ok := t.(*etree.CharData)
		if !ok {
			return "", errorf(ProfileViolation, "ds:%s may contain only text", el.Tag)
		}
		b.WriteString(cd.Data)
	}
	return b.String(), nil
}

// decodeBase64 drops XML whitespace anywhere, then decodes strictly (no
// stray padding bits), so one value has one spelling.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, fmt.Errorf("empty")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64")
	}
	return b, nil
}
