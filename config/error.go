package config

import (
	"fmt"
	"strings"
)

// Problem is one fault in a configuration.
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

// Error lists every problem found in a configuration.
type Error struct {
	File     string // empty when the configuration was not read from a file
	Problems []Problem
}

func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "configuration"
	}
	if len(e.Problems) == 1 {
		return file + ": " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems", file, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}
