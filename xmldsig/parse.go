package xmldsig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// document is an input that passed screening: its DOM, and the byte layout
// Sign needs to splice a signature in without re-serialising anything.
type document struct {
	raw    []byte
	root   *etree.Element
	layout layout
}

// span is a half-open byte range [start, end) of the input.
type span struct{ start, end int }

type layout struct {
	rootName    string // the root's qualified name as written
	rootEnd     int    // offset of the root end tag "</…>"; just after "/>" when self-closing
	selfClosing bool
	signatures  []span // outermost ds:Signature elements, in document order
	lastChild   span   // the root's last element child; zero if it has none
	lastIsSig   bool   // … and whether that child is a ds:Signature
}

// parse screens b, then builds the DOM. Screening comes first so that no
// DOM is ever built from a document we would refuse, and so that the DOM
// (etree keeps prefixes, not namespaces) can trust every prefix to be
// declared exactly once per element.
func parse(b []byte, lim limits) (*document, error) {
	if len(b) > lim.maxSize {
		return nil, errorf(Hostile, "document is %d bytes; the limit is %d", len(b), lim.maxSize)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errorf(Malformed, "empty document")
	}
	// encoding/xml checks UTF-8 in text and attributes but not in
	// comments; one check up front covers every byte.
	if !utf8.Valid(b) {
		return nil, errorf(Malformed, "document is not valid UTF-8")
	}
	lay, err := screen(b, lim)
	if err != nil {
		return nil, err
	}
	tree := etree.NewDocument()
	tree.ReadSettings = etree.ReadSettings{MaxDepth: lim.maxDepth}
	if err := tree.ReadFromBytes(b); err != nil {
		return nil, errorf(Malformed, "%v", err) // unreachable after screening
	}
	root := tree.Root()
	if root == nil {
		return nil, errorf(Malformed, "no root element")
	}
	return &document{raw: b, root: root, layout: lay}, nil
}

// frame is one open element during screening.
type frame struct {
	name   xml.Name // as written: Space is the prefix
	nsMark int      // len(bindings) before this element's declarations
	start  int      // offset of "<"
	isSig  bool     // an outermost ds:Signature
}

type binding struct{ prefix, uri string }

// screen walks the raw tokens once. encoding/xml (Strict, no Entity map)
// already refuses unknown entities and bad syntax; screen adds what it
// leaves out: DTDs and processing instructions, the depth limit, a single
// root, matching end tags, and the namespace rules of XML Namespaces 1.0
// (declared prefixes, reserved prefixes, unique expanded attribute names).
func screen(b []byte, lim limits) (layout, error) {
	var (
		lay      layout
		stack    []frame
		bindings []binding
		rootSeen bool
		inSig    bool
	)
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		start := int(d.InputOffset())
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return lay, errorf(Malformed, "%s", clip(err.Error(), 120))
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target != "xml" {
				return lay, errorf(Hostile, "processing instruction <?%s?> is not allowed", excerpt(t.Target))
			}
			if start != 0 {
				return lay, errorf(Malformed, "the XML declaration must start the document")
			}
		case xml.Directive:
			return lay, errorf(Hostile, "<!%s…> is not allowed: DUIS documents carry no DTD or entity declarations", excerpt(string(t)))
		case xml.Comment:
			// Allowed: canonicalisation without comments drops them, and
			// callers decode the canonical bytes.
		case xml.CharData:
			if len(stack) == 0 && !isXMLSpace(t) {
				return lay, errorf(Malformed, "text outside the root element")
			}
		case xml.StartElement:
			if len(stack) == 0 {
				if rootSeen {
					return lay, errorf(Malformed, "more than one root element")
				}
				rootSeen = true
			}
			if len(stack) >= lim.maxDepth {
				return lay, errorf(Hostile, "elements are nested deeper than %d", lim.maxDepth)
			}
			mark := len(bindings)
			if bindings, err = declare(bindings, t); err != nil {
				return lay, err
			}
			uri, err := elementNamespace(bindings, t.Name)
			if err != nil {
				return lay, err
			}
			if err := checkAttrs(bindings, t); err != nil {
				return lay, err
			}
			f := frame{name: t.Name, nsMark: mark, start: start}
			if !inSig && uri == nsDSig && t.Name.Local == "Signature" {
				f.isSig, inSig = true, true
			}
			if len(stack) == 1 {
				lay.lastChild, lay.lastIsSig = span{start: start}, f.isSig
			}
			stack = append(stack, f)
		case xml.EndElement:
			if len(stack) == 0 {
				return lay, errorf(Malformed, "unexpected end tag </%s>", excerpt(qname(t.Name)))
			}
			top := stack[len(stack)-1]
			if t.Name != top.name {
				return lay, errorf(Malformed, "element <%s> is closed by </%s>", excerpt(qname(top.name)), excerpt(qname(t.Name)))
			}
			end := int(d.InputOffset())
			if top.isSig {
				lay.signatures = append(lay.signatures, span{top.start, end})
				inSig = false
			}
			switch len(stack) {
			case 1:
				lay.rootName, lay.rootEnd, lay.selfClosing = qname(top.name), start, start == end
			case 2:
				lay.lastChild.end = end
			}
			bindings = bindings[:top.nsMark]
			stack = stack[:len(stack)-1]
		}
	}
	if !rootSeen {
		return lay, errorf(Malformed, "no root element")
	}
	if len(stack) != 0 {
		return lay, errorf(Malformed, "document ends inside <%s>", excerpt(qname(stack[len(stack)-1].name)))
	}
	return lay, nil
}

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

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func isXMLSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// excerpt keeps error details short: they may be shown to the sender, and
// an attacker-sized name must not become an attacker-sized log line.
func excerpt(s string) string { return clip(s, 40) }

func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
