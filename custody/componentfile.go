package custody

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/ecos-cos/ecos/keywrap"
)

// A component file is line-based text a custodian can read aloud, print
// and type back in:
//
//	ecos KEK component
//	ceremony: NAME
//	component: 2 of 3
//	bits: 256
//	value: 1F2E 3D4C … (hex, groups of 4)
//	kcv: ABCDEF (aes-cmac-zero)
const componentHeader = "ecos KEK component"

// maxComponentFile bounds what ParseComponent reads: a 256-bit component's
// file is under 200 bytes.
const maxComponentFile = 4 << 10

// FormatComponent is c's component file.
func FormatComponent(c *Component) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nceremony: %s\ncomponent: %d of %d\nbits: %d\nvalue:", componentHeader, c.Ceremony, c.Index, c.Of, c.Bits)
	digits := make([]byte, hex.EncodedLen(len(c.Value)))
	hex.Encode(digits, c.Value)
	for i := 0; i < len(digits); i += 4 {
		b.WriteByte(' ')
		b.Write(bytes.ToUpper(digits[i:min(i+4, len(digits))]))
	}
	clear(digits)
	fmt.Fprintf(&b, "\nkcv: %s\n", c.KCV)
	return b.Bytes()
}

// ParseComponent reads a component file strictly: every line in its place
// with its label, the value as hex in groups of four of exactly the
// declared size, and a KCV that the value gives back. An error names the
// line and what is wrong, and never quotes the value line (errors go to
// the transcript). Line ends may be LF or CRLF; trailing spaces and blank
// lines at the end are allowed, as editors leave them. The caller clears
// the component after use, and data, which it works in without copying.
func ParseComponent(data []byte) (*Component, error) {
	if len(data) > maxComponentFile {
		return nil, fmt.Errorf("%d bytes: a component file has under %d; is this the right file?", len(data), maxComponentFile)
	}
	lines := bytes.Split(data, []byte("\n"))
	for i := range lines {
		lines[i] = bytes.TrimRight(lines[i], " \t\r")
	}
	for len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	p := componentParser{lines: lines, c: &Component{}}
	if err := p.parse(); err != nil {
		p.c.Clear()
		return nil, err
	}
	return p.c, nil
}

type componentParser struct {
	lines [][]byte
	c     *Component
}

func (p *componentParser) parse() error {
	if len(p.lines) == 0 {
		return fmt.Errorf("line 1: the file is empty; want %q", componentHeader)
	}
	if string(p.lines[0]) != componentHeader {
		return fmt.Errorf("line 1: want %q (is this a component file?)", componentHeader)
	}
	steps := []struct {
		label, form string
		parse       func([]byte) error
	}{
		{"ceremony", "NAME", p.ceremony},
		{"component", "I of N", p.index},
		{"bits", "128|192|256", p.bits},
		{"value", "hex in groups of 4", p.value},
		{"kcv", "ABCDEF (METHOD)", p.kcv},
	}
	for i, s := range steps {
		n := i + 2
		if n > len(p.lines) {
			return fmt.Errorf("line %d: missing; want \"%s: %s\"", n, s.label, s.form)
		}
		rest, ok := bytes.CutPrefix(p.lines[n-1], []byte(s.label+": "))
		if !ok {
			return fmt.Errorf("line %d: %s; want \"%s: %s\"", n, startsWith(p.lines[n-1]), s.label, s.form)
		}
		if err := s.parse(rest); err != nil {
			return fmt.Errorf("line %d: %s: %w", n, s.label, err)
		}
	}
	if len(p.lines) > len(steps)+1 {
		return fmt.Errorf("line %d: nothing may follow the kcv line", len(steps)+2)
	}
	if err := p.c.CheckKCV(); err != nil {
		return fmt.Errorf("line 6: %w", err)
	}
	return nil
}

// startsWith names a line's label without quoting the rest, which may be
// a component's value.
func startsWith(line []byte) string {
	label, _, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(label) > 12 || bytes.ContainsFunc(label, func(r rune) bool { return !unicode.IsLetter(r) }) {
		return "no label"
	}
	return fmt.Sprintf("it starts %q", string(label)+":")
}

func (p *componentParser) ceremony(b []byte) error {
	s := string(b)
	if err := checkName(s); err != nil {
		return err
	}
	p.c.Ceremony = s
	return nil
}

func (p *componentParser) index(b []byte) error {
	s := string(b)
	is, ofs, ok := strings.Cut(s, " of ")
	i, err1 := strictAtoi(is)
	n, err2 := strictAtoi(ofs)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return fmt.Errorf("%q: want \"I of N\", such as \"2 of 3\"", clip(s))
	case n != 2 && n != 3:
		return fmt.Errorf("%q: a KEK has 2 or 3 components, not %d", s, n)
	case i < 1 || i > n:
		return fmt.Errorf("%q: the component's number must be 1 to %d", s, n)
	}
	p.c.Index, p.c.Of = i, n
	return nil
}

func (p *componentParser) bits(b []byte) error {
	s := string(b)
	n, err := strictAtoi(s)
	if err != nil || checkShape(2, n) != nil {
		return fmt.Errorf("%q: want 128, 192 or 256", clip(s))
	}
	p.c.Bits = n
	return nil
}

// value decodes the groups straight into the component, so no copy of the
// digits outlives the parse.
func (p *componentParser) value(b []byte) error {
	want := p.c.Bits / 4
	p.c.Value = make([]byte, p.c.Bits/8)
	digits := 0
	for g, group := range bytes.Split(b, []byte(" ")) {
		if len(group) != 4 {
			return fmt.Errorf("group %d has %d characters: want hex in groups of 4 separated by one space", g+1, len(group))
		}
		for j, ch := range group {
			if !isHexDigit(ch) {
				return fmt.Errorf("group %d, character %d is not a hex digit", g+1, j+1)
			}
		}
		if digits+4 <= want {
			if _, err := hex.Decode(p.c.Value[digits/2:], group); err != nil {
				return fmt.Errorf("group %d is not hex", g+1)
			}
		}
		digits += 4
	}
	if digits != want {
		return fmt.Errorf("%d hex digits: a %d-bit component has %d", digits, p.c.Bits, want)
	}
	if isZero(p.c.Value) {
		return fmt.Errorf("the value is all zeros: not a component")
	}
	return nil
}

func (p *componentParser) kcv(b []byte) error {
	s := string(b)
	v, m, ok := strings.Cut(s, " ")
	method, ok2 := strings.CutPrefix(m, "(")
	method, ok3 := strings.CutSuffix(method, ")")
	if !ok || !ok2 || !ok3 {
		return fmt.Errorf("%q: want \"ABCDEF (%s)\", the value and its method", clip(s), keywrap.KCVCMAC)
	}
	val, err := normalKCV(v)
	if err != nil {
		return err
	}
	if err := checkMethod(keywrap.KCVMethod(method)); err != nil {
		return err
	}
	p.c.KCV = KCV{Method: keywrap.KCVMethod(method), Value: val}
	return nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// strictAtoi is a decimal number without sign, spaces or leading zeros.
func strictAtoi(s string) (int, error) {
	if s == "" || len(s) > 4 || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return strconv.Atoi(s)
}

// clip keeps a quoted line short in a message: a wrong file may have
// long lines.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ReadComponentFile reads and parses the component file at path; errors
// name the file.
func ReadComponentFile(path string) (*Component, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading component: %w", err)
	}
	defer clear(data)
	c, err := ParseComponent(data)
	if err != nil {
		return nil, fmt.Errorf("component file %s: %w", path, err)
	}
	return c, nil
}
