package config

import (
	"fmt"
	"strings"

	"github.com/ecos-cos/ecos/internal/strictjson"
)

// Problem is one fault in a configuration: its key path, its line and
// column for a decoding fault (0 for a validation fault), and what is wrong.
type Problem = strictjson.Problem

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
