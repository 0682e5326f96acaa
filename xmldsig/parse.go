package xmldsig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/beevik/etree"
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
	// ignorable is the white space the DCC's validator does not see:
	// text of XML white space only, in an element whose content is
	// otherwise elements only (and comments). In document order.
	ignorable []span
}

// parse screens b and builds its DOM in one pass over the tokens, so the
// checks and the tree cannot disagree about what the document says (two
// parsers reading one input differently is how wrapping attacks start),
// and the DOM (etree keeps prefixes, not namespaces) can trust every
// prefix to be declared and every attribute to be unique.
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
	// A UTF-8 byte order mark is legal before the declaration; encoding/xml
	// would read it as text. Offsets are shifted back for Sign.
	text := bytes.TrimPrefix(b, utf8BOM)
	tree := etree.NewDocument()
	lay, err := screen(text, lim, &tree.Element)
	if err != nil {
		return nil, err
	}
	lay.shift(len(b) - len(text))
	return &document{raw: b, root: tree.Root(), layout: lay}, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// shift moves every offset by n bytes.
func (l *layout) shift(n int) {
	l.rootEnd += n
	l.lastChild.start += n
	l.lastChild.end += n
	for i := range l.signatures {
		l.signatures[i].start += n
		l.signatures[i].end += n
	}
	for i := range l.ignorable {
		l.ignorable[i].start += n
		l.ignorable[i].end += n
	}
}

// compact is raw without its ignorable white space: the document as the
// DCC's Java signer and validator read it. They parse with the DUIS schema
// and setIgnoringElementContentWhitespace, which drops white-space text
// in element-only content; text in an element without children is a
// value and is kept, whatever it holds. Without the schema, "element-only"
// is read off the document: an element with child elements and no other
// text. DUIS has no mixed content, so the two agree on every valid DUIS
// document. Nil when nothing would change.
func (d *document) compact() []byte {
	if len(d.layout.ignorable) == 0 {
		return nil
	}
	out := make([]byte, 0, len(d.raw))
	prev := 0
	for _, s := range d.layout.ignorable {
		out = append(out, d.raw[prev:s.start]...)
		prev = s.end
	}
	return append(out, d.raw[prev:]...)
}

// frame is one open element during screening.
type frame struct {
	el     *etree.Element
	name   xml.Name // as written: Space is the prefix
	nsMark int      // len(bindings) before this element's declarations
	start  int      // offset of "<"
	isSig  bool     // an outermost ds:Signature

	children bool   // it has a child element
	text     bool   // it has text other than literal XML white space
	spaces   []span // its white-space-only text, ignorable if it has children and no text
}

// screen walks the raw tokens once and appends the root element it reads
// to doc. encoding/xml (Strict, no Entity map) already refuses unknown
// entities and bad syntax; screen adds what it leaves out: DTDs and
// processing instructions, the depth limit, a single root, matching end
// tags, and the namespace rules of XML Namespaces 1.0 (declared prefixes,
// reserved prefixes, unique expanded attribute names). What lies outside
// the root (comments, whitespace) is not part of the canonical form and
// is not kept.
func screen(b []byte, lim limits, doc *etree.Element) (layout, error) {
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
			// callers decode the canonical bytes. Kept in the DOM so that
			// the profile can refuse them inside the signature.
			if len(stack) > 0 {
				stack[len(stack)-1].el.CreateComment(string(t))
			}
		case xml.CharData:
			if len(stack) == 0 {
				if !isXMLSpace(t) {
					return lay, errorf(Malformed, "text outside the root element")
				}
				continue
			}
			top := &stack[len(stack)-1]
			top.el.CreateText(string(t))
			// The raw bytes decide: a character reference or a CDATA
			// section is content even when it stands for a space.
			if end := int(d.InputOffset()); isXMLSpace(b[start:end]) {
				top.spaces = append(top.spaces, span{start, end})
			} else {
				top.text = true
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
			if len(t.Attr) > maxAttrs {
				return lay, errorf(Hostile, "<%s> has %d attributes; at most %d are accepted", excerpt(qname(t.Name)), len(t.Attr), maxAttrs)
			}
			mark := len(bindings)
			if bindings, err = declare(bindings, t); err != nil {
				return lay, err
			}
			if len(bindings) > maxBindings {
				return lay, errorf(Hostile, "more than %d namespace declarations are in scope at <%s>", maxBindings, excerpt(qname(t.Name)))
			}
			uri, err := elementNamespace(bindings, t.Name)
			if err != nil {
				return lay, err
			}
			if err := checkAttrs(bindings, t); err != nil {
				return lay, err
			}
			if literalSpaceInValue(b[start:d.InputOffset()]) {
				// XML normalises such a character to a space; encoding/xml
				// keeps it, so our canonical form would differ from the
				// signer's. DUIS attribute values are single tokens anyway.
				return lay, errorf(ProfileViolation, "<%s> has a literal tab or line break in an attribute value, which is not supported (write &#9; or &#10;)",
					excerpt(qname(t.Name)))
			}
			parent := doc
			if len(stack) > 0 {
				parent = stack[len(stack)-1].el
				stack[len(stack)-1].children = true
			}
			el := parent.CreateElement(qname(t.Name))
			for _, a := range t.Attr {
				el.CreateAttr(qname(a.Name), a.Value)
			}
			f := frame{el: el, name: t.Name, nsMark: mark, start: start}
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
			if top.children && !top.text {
				lay.ignorable = append(lay.ignorable, top.spaces...)
			}
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
	// Elements close inner first; the spans are wanted in document order.
	slices.SortFunc(lay.ignorable, func(a, b span) int { return a.start - b.start })
	return lay, nil
}

// literalSpaceInValue reports whether a raw start tag has a literal tab,
// CR or LF inside a quoted attribute value. Quotes cannot occur in a start
// tag except around values, so tracking them is enough.
func literalSpaceInValue(tag []byte) bool {
	var q byte
	for _, c := range tag {
		switch {
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q != 0 && c == q:
			q = 0
		case q != 0 && (c == '\t' || c == '\n' || c == '\r'):
			return true
		}
	}
	return false
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
