package xmldsig

import (
	"encoding/xml"
	"strings"
)

// XML Namespaces 1.0, which encoding/xml's RawToken leaves to the caller
// and etree resolves lazily by prefix. Checking them while screening means
// every element and attribute the profile later looks at has exactly one
// namespace, the one any other XML processor would give it.

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// binding is one in-scope prefix declaration ("" for the default).
type binding struct{ prefix, uri string }

// declare pushes the namespace declarations of t, refusing those XML
// Namespaces 1.0 forbids.
func declare(bindings []binding, t xml.StartElement) ([]binding, error) {
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if a.Value == nsXML || a.Value == nsXMLNS {
				return nil, errorf(Malformed, "<%s> makes %s the default namespace", excerpt(qname(t.Name)), a.Value)
			}
			bindings = append(bindings, binding{"", a.Value})
		case a.Name.Space == "xmlns":
			p := a.Name.Local
			switch {
			case p == "" || strings.Contains(p, ":"):
				return nil, errorf(Malformed, "invalid namespace declaration xmlns:%s", excerpt(p))
			case p == "xmlns":
				return nil, errorf(Malformed, "the xmlns prefix cannot be declared")
			case p == "xml" && a.Value != nsXML, p != "xml" && (a.Value == nsXML || a.Value == nsXMLNS):
				return nil, errorf(Malformed, "prefix %q cannot be bound to %q", excerpt(p), excerpt(a.Value))
			case a.Value == "":
				return nil, errorf(Malformed, "prefix %q is declared with an empty namespace name", excerpt(p))
			}
			bindings = append(bindings, binding{p, a.Value})
		}
	}
	return bindings, nil
}

// lookup resolves a prefix; ok is false for an undeclared one.
func lookup(bindings []binding, prefix string) (uri string, ok bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	for i := len(bindings) - 1; i >= 0; i-- {
		if bindings[i].prefix == prefix {
			return bindings[i].uri, true
		}
	}
	return "", prefix == "" // no default namespace: elements are in none
}

func elementNamespace(bindings []binding, n xml.Name) (string, error) {
	if n.Local == "" || strings.Contains(n.Local, ":") || n.Space == "xmlns" {
		return "", errorf(Malformed, "invalid element name <%s>", excerpt(qname(n)))
	}
	uri, ok := lookup(bindings, n.Space)
	if !ok {
		return "", errorf(Malformed, "undeclared namespace prefix %q on <%s>", excerpt(n.Space), excerpt(qname(n)))
	}
	return uri, nil
}

// checkAttrs refuses undeclared prefixes and two attributes with one
// expanded name (or one written name): encoding/xml accepts both, and a
// DOM that silently keeps one of two values is a wrapping opportunity.
func checkAttrs(bindings []binding, t xml.StartElement) error {
	if len(t.Attr) == 0 {
		return nil
	}
	seen := make(map[xml.Name]bool, len(t.Attr))
	raw := make(map[xml.Name]bool, len(t.Attr))
	for _, a := range t.Attr {
		if raw[a.Name] {
			return errorf(Malformed, "duplicate attribute %s on <%s>", excerpt(qname(a.Name)), excerpt(qname(t.Name)))
		}
		raw[a.Name] = true
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		if a.Name.Local == "" || strings.Contains(a.Name.Local, ":") {
			return errorf(Malformed, "invalid attribute name %s on <%s>", excerpt(qname(a.Name)), excerpt(qname(t.Name)))
		}
		uri := ""
		if a.Name.Space != "" {
			var ok bool
			if uri, ok = lookup(bindings, a.Name.Space); !ok {
				return errorf(Malformed, "undeclared namespace prefix %q on attribute %s", excerpt(a.Name.Space), excerpt(qname(a.Name)))
			}
		}
		exp := xml.Name{Space: uri, Local: a.Name.Local}
		if seen[exp] {
			return errorf(Malformed, "attribute %s appears twice on <%s> under different prefixes", excerpt(qname(a.Name)), excerpt(qname(t.Name)))
		}
		seen[exp] = true
	}
	return nil
}
