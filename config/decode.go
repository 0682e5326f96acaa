package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decode turns the file into a Config with defaults applied, or an *Error.
//
// encoding/json alone is not strict enough: it matches keys without regard
// to case, lets a duplicate key silently win, and its errors for unknown
// keys and bad durations carry neither the key path nor a position. So a
// shape check walks the tokens against the Config type first, collecting
// every such fault with its line and column; only a document that passes
// is handed to json.Decoder (with DisallowUnknownFields, as a second line
// of defence) to fill the struct.
func decode(data []byte) (*Config, *Error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // editors on Windows add one
	ch := newChecker(data)
	ch.document()
	if len(ch.problems) > 0 {
		return nil, &Error{Problems: ch.problems}
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, &Error{Problems: []Problem{ch.fromDecodeError(err)}}
	}
	c.withDefaults(ch.present)
	return &c, nil
}

// maxProblems keeps a file that is not a configuration at all (the wrong
// file passed to -config) from producing thousands of lines.
const maxProblems = 50

// errStop unwinds the walk after a syntax error, past which positions and
// keys mean nothing, or after maxProblems.
var errStop = errors.New("stop")

type checker struct {
	data     []byte
	dec      *json.Decoder
	present  map[string]bool // key paths found in the file, for withDefaults
	problems []Problem
}

func newChecker(data []byte) *checker {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // so an integer's range and form can be checked exactly
	return &checker{data: data, dec: dec, present: map[string]bool{}}
}

func (ch *checker) document() {
	pos := ch.next()
	tok, err := ch.dec.Token()
	if err == io.EOF {
		ch.add(pos, "", "the file is empty; want a JSON object")
		return
	}
	if err != nil {
		ch.syntax(err)
		return
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		ch.add(pos, "", "the configuration must be a JSON object, not "+describe(tok))
		return
	}
	if ch.check(configType, "", pos, tok) != nil {
		return
	}
	// Only white space may follow; a separator here is itself the fault.
	pos = ch.skip(ch.dec.InputOffset(), " \t\r\n")
	if _, err := ch.dec.Token(); err != io.EOF {
		ch.add(pos, "", "unexpected data after the configuration object")
	}
}

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[Duration]()
)

// value reads one value and checks it against t.
func (ch *checker) value(t reflect.Type, path string) error {
	pos := ch.next()
	tok, err := ch.dec.Token()
	if err != nil {
		return ch.syntax(err)
	}
	return ch.check(t, path, pos, tok)
}

// check checks a value whose first token has been read. It returns non-nil
// only to stop the walk; faults in the value itself are recorded.
func (ch *checker) check(t reflect.Type, path string, pos int64, tok json.Token) error {
	if t == durationType { // before the Kind switch: a Duration is an int64
		s, ok := tok.(string)
		if !ok {
			ch.add(pos, path, `must be a duration string such as "10s", not `+describe(tok))
			return ch.skipRest(tok)
		}
		if _, err := parseDuration(s); err != nil {
			ch.add(pos, path, err.Error())
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if tok == nil {
			return nil
		}
		return ch.check(t.Elem(), path, pos, tok)
	case reflect.Struct:
		if tok != json.Delim('{') {
			ch.add(pos, path, "must be an object, not "+describe(tok))
			return ch.skipRest(tok)
		}
		fields := jsonFields(t)
		return ch.object(path, func(key, sub string, kpos int64) error {
			f, ok := fields[key]
			if !ok {
				ch.add(kpos, sub, "unknown key"+suggest(key, fields)+renamed[sub])
				return ch.skipValue()
			}
			ch.present[sub] = true
			return ch.value(f.Type, sub)
		})
	case reflect.Map:
		if tok == nil {
			return nil
		}
		if tok != json.Delim('{') {
			ch.add(pos, path, "must be an object, not "+describe(tok))
			return ch.skipRest(tok)
		}
		return ch.object(path, func(_, sub string, _ int64) error {
			return ch.value(t.Elem(), sub)
		})
	case reflect.Slice:
		if tok == nil {
			return nil
		}
		if tok != json.Delim('[') {
			ch.add(pos, path, "must be an array, not "+describe(tok))
			return ch.skipRest(tok)
		}
		for i := 0; ch.dec.More(); i++ {
			if err := ch.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
			if err := ch.full(); err != nil {
				return err
			}
		}
		return ch.closing()
	case reflect.String:
		if _, ok := tok.(string); !ok {
			ch.add(pos, path, "must be a string, not "+describe(tok))
			return ch.skipRest(tok)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			ch.add(pos, path, "must be true or false, not "+describe(tok))
			return ch.skipRest(tok)
		}
	case reflect.Int:
		n, ok := tok.(json.Number)
		if !ok {
			ch.add(pos, path, "must be an integer, not "+describe(tok))
			return ch.skipRest(tok)
		}
		if _, err := strconv.ParseInt(string(n), 10, strconv.IntSize); err != nil {
			ch.add(pos, path, "must be an integer, not "+string(n))
		}
	default:
		// A field type added to Config without a rule here: caught by the
		// tests that decode the full example.
		ch.add(pos, path, fmt.Sprintf("internal error: no decoding rule for %v", t))
		return errStop
	}
	return nil
}

// full stops the walk once maxProblems have been found.
func (ch *checker) full() error {
	if len(ch.problems) >= maxProblems {
		return errStop
	}
	return nil
}

// object walks the members of an object whose '{' has been read, refusing
// duplicate keys (encoding/json would keep the last one silently).
func (ch *checker) object(path string, member func(key, sub string, kpos int64) error) error {
	seen := map[string]bool{}
	for ch.dec.More() {
		kpos := ch.next()
		tok, err := ch.dec.Token()
		if err != nil {
			return ch.syntax(err)
		}
		key, ok := tok.(string)
		if !ok { // json.Decoder reports a non-string key as a syntax error
			ch.add(kpos, path, "object key must be a string")
			return errStop
		}
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		if seen[key] {
			ch.add(kpos, sub, "duplicate key")
		}
		seen[key] = true
		if err := member(key, sub, kpos); err != nil {
			return err
		}
		if err := ch.full(); err != nil {
			return err
		}
	}
	return ch.closing()
}

// closing reads the '}' or ']' that ends an object or array.
func (ch *checker) closing() error {
	if _, err := ch.dec.Token(); err != nil {
		return ch.syntax(err)
	}
	return nil
}

func (ch *checker) skipValue() error {
	tok, err := ch.dec.Token()
	if err != nil {
		return ch.syntax(err)
	}
	return ch.skipRest(tok)
}

// skipRest skips the rest of a value whose first token was tok, without
// recursion, so deep nesting under an unknown key costs no stack.
func (ch *checker) skipRest(tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := ch.dec.Token()
		if err != nil {
			return ch.syntax(err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// next is the offset where the next token starts: the decoder's offset is
// the end of the last token, before any separator.
func (ch *checker) next() int64 {
	return ch.skip(ch.dec.InputOffset(), " \t\r\n:,")
}

func (ch *checker) skip(off int64, chars string) int64 {
	for off < int64(len(ch.data)) && strings.IndexByte(chars, ch.data[off]) >= 0 {
		off++
	}
	return off
}

func (ch *checker) add(off int64, key, msg string) {
	line, col := position(ch.data, off)
	ch.problems = append(ch.problems, Problem{Key: key, Line: line, Column: col, Msg: msg})
}

// syntax records a syntax error and stops the walk.
func (ch *checker) syntax(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		ch.add(se.Offset, "", "invalid JSON: "+strings.TrimPrefix(se.Error(), "json: "))
	} else if err == io.EOF || err == io.ErrUnexpectedEOF {
		ch.add(int64(len(ch.data)), "", "invalid JSON: unexpected end of file")
	} else {
		ch.add(ch.dec.InputOffset(), "", "invalid JSON: "+err.Error())
	}
	return errStop
}

// fromDecodeError places an error from the second, filling decode. The
// shape check should have caught it first, so this is a safety net.
func (ch *checker) fromDecodeError(err error) Problem {
	var off int64
	var key string
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		off, key = te.Offset, te.Field
		msg = fmt.Sprintf("must be %v, not %s", te.Type, te.Value)
	} else if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		off = se.Offset
	}
	line, col := position(ch.data, off)
	return Problem{Key: key, Line: line, Column: col, Msg: msg}
}

// position turns a byte offset into a 1-based line and column; the column
// counts characters, as editors show it.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte{'\n'}) + 1, utf8.RuneCount(before[start:]) + 1
}

// describe names a token's JSON type for messages.
func describe(tok json.Token) string {
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

// jsonFields maps the JSON names of t's exported fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	fs := map[string]reflect.StructField{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fs[name] = f
	}
	return fs
}

// suggest points at the key that was probably meant: one that differs only
// in case (which encoding/json would have accepted) or by a '-' for '_'.
// renamed points a key that no longer exists at what replaced it.
var renamed = map[string]string{
	// One URL for every User was mistaken for a User's endpoint.
	"callback.url": ": renamed callback.relay_url, an operator relay that receives every User's documents; " +
		"a User's own endpoint, which receives only its documents, goes in callback.users",
}

func suggest(key string, fields map[string]reflect.StructField) string {
	k := strings.ReplaceAll(key, "-", "_")
	for name := range fields {
		if strings.EqualFold(k, name) {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	return ""
}
