package xmldsig

import (
	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Only goxmldsig's canonicalisers are used (its validator and signer do not
// fit DUIS: docs/dependencies.md §0.2). They were byte-identical to libxml2
// on every DUIS template and sample; the tests compare them with xmllint.
var (
	inclusive = dsig.MakeC14N10RecCanonicalizer()                       // C14N 1.0, no comments
	exclusive = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("") // exc-c14n, no comments
)

// canonicalDocument is the digest input: the inclusive C14N 1.0 of the
// root element, which for a document without DTD and processing
// instructions is the C14N of the whole document (the XML declaration,
// comments and whitespace outside the root are not part of it). The caller
// has already removed the ds:Signature, which is what the
// enveloped-signature transform does. The canonicaliser copies its input.
func canonicalDocument(root *etree.Element) ([]byte, error) {
	return inclusive.Canonicalize(root)
}

// canonicalSignedInfo is the signed input: the exclusive C14N of SignedInfo
// as it sits in the document. NSDetatch copies it with every in-scope
// namespace declared on it (ds: is usually declared on the root), and the
// exclusive canonicaliser then keeps only the visibly used ones.
func canonicalSignedInfo(si *etree.Element) ([]byte, error) {
	ctx, err := etreeutils.NSBuildParentContext(si)
	if err != nil {
		return nil, err
	}
	detached, err := etreeutils.NSDetatch(ctx, si)
	if err != nil {
		return nil, err
	}
	return exclusive.Canonicalize(detached)
}

// checkCanonicalisable refuses what goxmldsig canonicalises differently
// from libxml2 and Java: it orders namespace-qualified attributes by local
// name, where C14N orders them by namespace URI first. Attributes from two
// or more namespaces on one element would therefore digest differently
// here than at the other end: a false "changed after signing" on Verify and
// a signature nobody else accepts from Sign. DUIS never does this (its
// qualified attributes are xsi: only), so saying so precisely is better.
func checkCanonicalisable(root *etree.Element) error {
	var bad *etree.Element
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) { // depth is bounded by the screening limit
		first := ""
		for _, a := range el.Attr {
			if a.Space == "" || a.Space == "xmlns" {
				continue
			}
			ns := nsXML
			if a.Space != "xml" {
				ns = a.NamespaceURI()
			}
			switch {
			case first == "":
				first = ns
			case ns != first && bad == nil:
				bad = el
			}
		}
		for _, c := range el.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	if bad != nil {
		return errorf(ProfileViolation, "<%s> has attributes from more than one namespace; their canonical order is not supported", excerpt(bad.FullTag()))
	}
	return nil
}
