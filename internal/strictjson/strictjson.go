// Package strictjson decodes a reviewed JSON file (the service's
// configuration, a key ceremony, a wrapped key's manifest) into a Go struct
// more strictly than encoding/json: an unknown key, a duplicate key, a key
// that differs from a field's only in case, and a value of the wrong type
// are each a Problem with its key path, line and column.
//
// Trust level: no I/O; parses files a person wrote or reviewed.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Problem is one fault in a document.
type Problem struct {
	// Key is the key path, "keys.tcos.cert" or "trust.intermediates[2]";
	// empty for the document as a whole.
	Key string
	// Line and Column (1-based; the column counts characters) locate a
	// decoding fault; both are 0 for a validation fault, which is about a
	// value rather than a place.
	Line, Column int
	Msg          string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", p.Line, p.Column)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in a document.
type Error struct {
	File     string // what the document is called in the message: its path, or "ceremony"
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.File + ": " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// Rule checks a value of a type the walk cannot judge by its kind (a
// duration written as a string); tok is the value's one token. It returns
// "" for a good value, else what is wrong.
type Rule func(tok json.Token) string

// Options tune a decoding.
type Options struct {
	// What the document is, for messages about the document as a whole:
	// "configuration", "ceremony", "manifest".
	What string
	// Rules for types checked by their own rule, before their kind.
	Rules map[reflect.Type]Rule
	// Renamed adds to the "unknown key" message of a key path what
	// replaced it.
	Renamed map[string]string
}

// Check walks data against the type t (a struct) and returns the key paths
// present in the document (for defaults that go by presence) and every
// fault found, in document order.
func Check(data []byte, t reflect.Type, o Options) (present map[string]bool, problems []Problem) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // editors on Windows add one
	ch := newChecker(data, o)
	ch.document(t)
	return ch.present, ch.problems
}

// Decode checks data against v's type (v points to a struct), and only if
// it has no fault fills v with encoding/json (DisallowUnknownFields as a
// second line of defence). On a fault it returns an *Error naming o.What,
// and v is unchanged.
func Decode(data []byte, v any, o Options) (present map[string]bool, err error) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("strictjson: Decode needs a pointer to a struct, not %v", t)
	}
	present, problems := Check(data, t.Elem(), o)
	if len(problems) > 0 {
		return nil, &Error{File: o.What, Problems: problems}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	fresh := reflect.New(t.Elem())
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(fresh.Interface()); err != nil {
		return nil, &Error{File: o.What, Problems: []Problem{FromDecodeError(data, err)}}
	}
	reflect.ValueOf(v).Elem().Set(fresh.Elem())
	return present, nil
}

// FromDecodeError places an error from encoding/json's filling decode. The
// shape check should have caught it first, so this is a safety net.
func FromDecodeError(data []byte, err error) Problem {
	var off int64
	var key string
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		off, key = te.Offset, te.Field
		msg = fmt.Sprintf("must be %v, not %s", te.Type, te.Value)
	} else if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		off = se.Offset
	}
	line, col := Position(data, off)
	return Problem{Key: key, Line: line, Column: col, Msg: msg}
}

// Position turns a byte offset into a 1-based line and column; the column
// counts characters, as editors show it.
func Position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte{'\n'}) + 1, utf8.RuneCount(before[start:]) + 1
}

// Describe names a token's JSON type for messages.
func Describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	}
	return fmt.Sprintf("%T", tok)
}
