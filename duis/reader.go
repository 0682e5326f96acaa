package duis

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits that keep a hostile document cheap to refuse.
const (
	MaxDocumentBytes = 1 << 20
	maxDepth         = 32
)

// reader walks a document element by element in schema order. Being
// sequential (not encoding/xml's struct mapping) is what lets it reject
// unknown, repeated and out-of-order elements.
type reader struct {
	d      *xml.Decoder
	peeked xml.Token
	path   []string
	depth  int
}

func newReader(doc []byte) (*reader, error) {
	if len(doc) > MaxDocumentBytes {
		return nil, errorf("", "document is %d bytes, more than the %d allowed", len(doc), MaxDocumentBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	// No entity map: only XML's five predefined entities and character
	// references are accepted, so &xxe; style tricks fail to parse.
	d.Entity = nil
	d.CharsetReader = nil
	return &reader{d: d}, nil
}

// decodeWith runs a document decoder on a fresh reader and guarantees the
// contract every Decode function documents: a nil value whenever there is
// an error, never a half-decoded one.
func decodeWith[T any](doc []byte, decode func(*reader) (*T, error)) (*T, error) {
	r, err := newReader(doc)
	if err != nil {
		return nil, err
	}
	v, err := decode(r)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (r *reader) where() string { return strings.Join(r.path, "/") }

func (r *reader) fail(format string, a ...any) error { return errorf(r.where(), format, a...) }

// token returns the next token that matters: white space between elements,
// comments and the XML declaration are skipped; a DTD is refused.
func (r *reader) token() (xml.Token, error) {
	if r.peeked != nil {
		t := r.peeked
		r.peeked = nil
		return t, nil
	}
	for {
		t, err := r.d.Token()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, r.fail("XML syntax error on line %d: %s", se.Line, se.Msg)
			}
			return nil, r.fail("XML: %v", err)
		}
		switch tt := t.(type) {
		case xml.Directive:
			return nil, r.fail("DTDs and other directives are not allowed")
		case xml.Comment:
			continue
		case xml.ProcInst:
			if tt.Target != "xml" {
				return nil, r.fail("processing instruction %q not allowed", tt.Target)
			}
			continue
		case xml.CharData:
			if isXMLSpace(tt) {
				continue
			}
			return tt.Copy(), nil
		case xml.StartElement:
			return tt.Copy(), nil
		default:
			return t, nil
		}
	}
}

// peek reports the next start element without consuming it; nil means the
// next token closes the current element.
func (r *reader) peek() (*xml.StartElement, error) {
	t, err := r.token()
	if err != nil {
		if err == io.EOF {
			return nil, r.fail("document ends early")
		}
		return nil, err
	}
	r.peeked = t
	switch tt := t.(type) {
	case xml.StartElement:
		return &tt, nil
	case xml.EndElement:
		return nil, nil
	case xml.CharData:
		return nil, r.fail("unexpected text %q", truncate(string(tt)))
	}
	return nil, r.fail("unexpected %T", t)
}

// open consumes the start tag of the element ns:local, which must come next.
// No element of ours has attributes in the schema, so only namespace
// declarations may ride on it: an xsi:type or xsi:nil would change what
// the element means to a schema-aware reader, and we would not notice.
func (r *reader) open(ns, local string) (xml.StartElement, error) {
	se, err := r.openAttrs(ns, local)
	if err != nil {
		return xml.StartElement{}, err
	}
	for _, a := range se.Attr {
		if !isNSDecl(a.Name) {
			return xml.StartElement{}, r.fail("unexpected attribute %s", describe(a.Name))
		}
	}
	return se, nil
}

// openAttrs is open for the few elements that have attributes; the caller
// checks them.
func (r *reader) openAttrs(ns, local string) (xml.StartElement, error) {
	se, err := r.peek()
	if err != nil {
		return xml.StartElement{}, err
	}
	if se == nil {
		return xml.StartElement{}, r.fail("missing element %s", local)
	}
	if se.Name.Space != ns || se.Name.Local != local {
		return xml.StartElement{}, r.fail("found element %s where %s was expected", describe(se.Name), local)
	}
	r.peeked = nil
	r.path = append(r.path, local)
	r.depth++
	if r.depth > maxDepth {
		return xml.StartElement{}, r.fail("nested more than %d deep", maxDepth)
	}
	return *se, nil
}

// is reports whether the next element is ns:local (for optional elements).
func (r *reader) is(ns, local string) (bool, error) {
	se, err := r.peek()
	if err != nil || se == nil {
		return false, err
	}
	return se.Name.Space == ns && se.Name.Local == local, nil
}

// close consumes the end tag of the element most recently opened.
func (r *reader) close() error {
	t, err := r.token()
	if err != nil {
		if err == io.EOF {
			return r.fail("document ends early")
		}
		return err
	}
	switch tt := t.(type) {
	case xml.EndElement:
		r.path = r.path[:len(r.path)-1]
		r.depth--
		return nil
	case xml.StartElement:
		return r.fail("unexpected element %s", describe(tt.Name))
	case xml.CharData:
		return r.fail("unexpected text %q", truncate(string(tt)))
	}
	return r.fail("unexpected %T", t)
}

// text reads a whole simple element ns:local and returns its content with
// surrounding XML white space removed (the collapse of xs:token,
// xs:dateTime, xs:integer, xs:boolean). Other Unicode spaces stay, so a
// value padded with them fails its type.
func (r *reader) text(ns, local string) (string, error) {
	s, err := r.rawText(ns, local)
	return trimXMLSpace(s), err
}

// rawText reads a whole simple element ns:local as it stands: the value
// of an xs:string, whose white space is preserved.
func (r *reader) rawText(ns, local string) (string, error) {
	if _, err := r.open(ns, local); err != nil {
		return "", err
	}
	var sb strings.Builder
	for {
		t, err := r.d.Token()
		if err != nil {
			return "", r.fail("reading text: %v", err)
		}
		switch tt := t.(type) {
		case xml.CharData:
			sb.Write(tt)
		case xml.Comment:
		case xml.EndElement:
			r.path = r.path[:len(r.path)-1]
			r.depth--
			return sb.String(), nil
		case xml.StartElement:
			return "", r.fail("unexpected element %s inside a text element", describe(tt.Name))
		default:
			return "", r.fail("unexpected %T inside a text element", t)
		}
	}
}

// skip consumes the next element and everything inside it.
func (r *reader) skip() error {
	se, err := r.peek()
	if err != nil {
		return err
	}
	if se == nil {
		return r.fail("nothing to skip")
	}
	r.peeked = nil
	depth := 1
	for depth > 0 {
		t, err := r.d.Token()
		if err != nil {
			return r.fail("inside %s: %v", se.Name.Local, err)
		}
		switch t.(type) {
		case xml.StartElement:
			depth++
			if r.depth+depth > maxDepth {
				return r.fail("nested more than %d deep", maxDepth)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return r.fail("DTDs and other directives are not allowed")
		}
	}
	return nil
}

// signature skips the optional enveloped ds:Signature that may close the
// root and reports whether there was one. Checking it is package xmldsig's
// job, on the bytes as received.
func (r *reader) signature() (bool, error) {
	ok, err := r.is(NSDSig, "Signature")
	if err != nil || !ok {
		return false, err
	}
	if err := r.skip(); err != nil {
		return false, err
	}
	return true, nil
}

// end checks nothing but white space or comments follows the root.
func (r *reader) end() error {
	t, err := r.token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return r.fail("content after the root element: %T", t)
}

// isNSDecl reports whether an attribute is a namespace declaration
// (xmlns="…" or xmlns:p="…").
func isNSDecl(n xml.Name) bool {
	return n.Space == "xmlns" || (n.Space == "" && n.Local == "xmlns")
}

// openRoot opens the document element ns:local and returns its
// schemaVersion.
func (r *reader) openRoot(ns, local string) (string, error) {
	root, err := r.openAttrs(ns, local)
	if err != nil {
		return "", err
	}
	return r.rootAttrs(root)
}

// openBody opens sr:Body and returns its one child's start tag, left
// unread for the caller to dispatch on.
func (r *reader) openBody() (*xml.StartElement, error) {
	if _, err := r.open(NSRequest, "Body"); err != nil {
		return nil, err
	}
	body, err := r.peek()
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, r.fail("empty body")
	}
	return body, nil
}

// rootAttrs reads the root's schemaVersion (an xs:decimal, required) and
// refuses any attribute but namespace declarations and schema location
// hints (never xsi:type, which could swap the root's type).
func (r *reader) rootAttrs(root xml.StartElement) (string, error) {
	version := ""
	for _, a := range root.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "schemaVersion":
			version = trimXMLSpace(a.Value)
		case isNSDecl(a.Name):
		case a.Name.Space == NSXSI && (a.Name.Local == "schemaLocation" || a.Name.Local == "noNamespaceSchemaLocation"):
		default:
			return "", r.fail("unexpected attribute %s", describe(a.Name))
		}
	}
	if version == "" {
		return "", r.fail("missing schemaVersion attribute")
	}
	if err := checkDecimal(version); err != nil {
		return "", r.fail("schemaVersion: %v", err)
	}
	return version, nil
}

func describe(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return fmt.Sprintf("{%s}%s", n.Space, n.Local)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
