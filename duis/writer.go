package duis

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"strconv"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// NSXSI is the XML Schema instance namespace the RTDS templates declare on
// the root; nothing uses it, but inclusive C14N keeps the declaration, so
// copying the templates' root keeps our digests like theirs.
const NSXSI = "http://www.w3.org/2001/XMLSchema-instance"

// xmlDecl is written without a newline: DCC Boxed does the same, and C14N
// drops everything outside the root anyway.
const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>`

// writer emits prefixed elements with no indentation. It is hand-rolled
// because encoding/xml's Encoder cannot write a chosen prefix (it declares
// a default namespace on every element); here every byte is ours, so the
// output is the same for the same value on every run and Go version.
// Values must have passed Validate; the one conversion that can fail
// (date-times) records a sticky error as a second line of defence.
type writer struct {
	b   bytes.Buffer
	err error
}

type attr struct{ name, value string }

func newWriter() *writer {
	w := &writer{}
	w.b.WriteString(xmlDecl)
	return w
}

func (w *writer) start(name string, attrs ...attr) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	for _, a := range attrs {
		w.b.WriteByte(' ')
		w.b.WriteString(a.name)
		w.b.WriteString(`="`)
		xml.EscapeText(&w.b, []byte(a.value))
		w.b.WriteByte('"')
	}
	w.b.WriteByte('>')
}

func (w *writer) end(name string) {
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
}

// text writes a simple element. xml.EscapeText also escapes CR, tab and
// newline as character references, which keeps them through parsing.
func (w *writer) text(name, value string) {
	w.start(name)
	xml.EscapeText(&w.b, []byte(value))
	w.end(name)
}

// base64 writes xs:base64Binary on one line: DUIS senders do, and a line
// break would only be one more thing for C14N and signers to disagree on.
func (w *writer) base64(name string, b []byte) { w.text(name, base64.StdEncoding.EncodeToString(b)) }

func (w *writer) uint(name string, n uint64) { w.text(name, strconv.FormatUint(n, 10)) }

func (w *writer) bool(name string, v bool) { w.text(name, strconv.FormatBool(v)) }

func (w *writer) eui(name string, e eui.EUI) { w.text(name, e.String()) }

func (w *writer) requestID(name string, id RequestID) { w.text(name, id.String()) }

func (w *writer) dateTime(name string, t time.Time) {
	s, err := formatDateTime(t)
	if err != nil && w.err == nil {
		w.err = invalidf(name, "%v", err)
	}
	w.text(name, s)
}

func (w *writer) bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	return bytes.Clone(w.b.Bytes()), nil
}
