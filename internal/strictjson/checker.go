package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// MaxProblems keeps a file that is not the document at all (the wrong
// file passed) from producing thousands of lines.
const MaxProblems = 50

// errStop unwinds the walk after a syntax error, past which positions and
// keys mean nothing, or after MaxProblems.
var errStop = errors.New("stop")

// checker walks the tokens against a type. encoding/json alone is not
// strict enough: it matches keys without regard to case, lets a duplicate
// key silently win, and its errors for unknown keys carry neither the key
// path nor a position.
type checker struct {
	data     []byte
	dec      *json.Decoder
	opts     Options
	present  map[string]bool // key paths found in the file
	problems []Problem
}

func newChecker(data []byte, o Options) *checker {
	if o.What == "" {
		o.What = "document"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // so an integer's range and form can be checked exactly
	return &checker{data: data, dec: dec, opts: o, present: map[string]bool{}}
}

func (ch *checker) document(t reflect.Type) {
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
		ch.add(pos, "", "the "+ch.opts.What+" must be a JSON object, not "+Describe(tok))
		return
	}
	if ch.check(t, "", pos, tok) != nil {
		return
	}
	// Only white space may follow; a separator here is itself the fault.
	pos = ch.skip(ch.dec.InputOffset(), " \t\r\n")
	if _, err := ch.dec.Token(); err != io.EOF {
		ch.add(pos, "", "unexpected data after the "+ch.opts.What+" object")
	}
}

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
	if rule, ok := ch.opts.Rules[t]; ok { // before the Kind switch: a Duration is an int64
		if msg := rule(tok); msg != "" {
			ch.add(pos, path, msg)
			return ch.skipRest(tok)
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
			ch.add(pos, path, "must be an object, not "+Describe(tok))
			return ch.skipRest(tok)
		}
		fields := jsonFields(t)
		return ch.object(path, func(key, sub string, kpos int64) error {
			f, ok := fields[key]
			if !ok {
				ch.add(kpos, sub, "unknown key"+suggest(key, fields)+ch.opts.Renamed[sub])
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
			ch.add(pos, path, "must be an object, not "+Describe(tok))
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
			ch.add(pos, path, "must be an array, not "+Describe(tok))
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
			ch.add(pos, path, "must be a string, not "+Describe(tok))
			return ch.skipRest(tok)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			ch.add(pos, path, "must be true or false, not "+Describe(tok))
			return ch.skipRest(tok)
		}
	case reflect.Int:
		n, ok := tok.(json.Number)
		if !ok {
			ch.add(pos, path, "must be an integer, not "+Describe(tok))
			return ch.skipRest(tok)
		}
		if _, err := strconv.ParseInt(string(n), 10, strconv.IntSize); err != nil {
			ch.add(pos, path, "must be an integer, not "+string(n))
		}
	default:
		// A field type without a rule here: caught by the tests that
		// decode each kind of document in full.
		ch.add(pos, path, fmt.Sprintf("internal error: no decoding rule for %v", t))
		return errStop
	}
	return nil
}

// full stops the walk once MaxProblems have been found.
func (ch *checker) full() error {
	if len(ch.problems) >= MaxProblems {
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
	line, col := Position(ch.data, off)
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
func suggest(key string, fields map[string]reflect.StructField) string {
	k := strings.ReplaceAll(key, "-", "_")
	for name := range fields {
		if strings.EqualFold(k, name) {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	return ""
}
