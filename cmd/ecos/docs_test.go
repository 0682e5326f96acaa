package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docCommand finds `ecos …` in a code span and each line of a code block
// that starts with ecos (after an optional "$ ").
var (
	docSpan = regexp.MustCompile("`(ecos [^`]*)`")
	docLine = regexp.MustCompile(`(?m)^(?:\$ )?(ecos [^\n]*)$`)
	docWord = regexp.MustCompile(`^[a-z][a-z0-9.-]*$`)
)

// TestDocsNameOnlyCommandsThatExist: every `ecos …` command the README and
// docs/ show is one the CLI has, so an operator who copies it gets the
// command, not "unknown command". Alternatives written a|b|c are each
// checked.
func TestDocsNameOnlyCommandsThatExist(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md")
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cmds []string
		for _, m := range docSpan.FindAllStringSubmatch(string(b), -1) {
			cmds = append(cmds, m[1])
		}
		for _, block := range codeBlocks(string(b)) {
			for _, m := range docLine.FindAllStringSubmatch(block, -1) {
				cmds = append(cmds, m[1])
			}
		}
		for _, c := range cmds {
			if problem := checkDocCommand(c); problem != "" {
				t.Errorf("%s: `%s`: %s", filepath.Base(f), c, problem)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d commands found in the docs: is the pattern broken?", checked)
	}
}

func codeBlocks(doc string) []string {
	parts := strings.Split(doc, "```")
	var blocks []string
	for i := 1; i < len(parts); i += 2 {
		blocks = append(blocks, parts[i])
	}
	return blocks
}

// checkDocCommand walks the words after "ecos" down the command tree, up
// to the first leaf; it says what does not exist, or "".
func checkDocCommand(line string) string {
	words := strings.Fields(strings.TrimPrefix(line, "ecos "))
	cmd := root()
	if len(words) > 0 && words[0] == "help" {
		words = words[1:] // `ecos help CMD…` names CMD
	}
	for _, w := range words {
		if cmd.run != nil {
			return "" // a leaf: the rest are its arguments
		}
		w = strings.TrimSuffix(w, ":") // "ecos serve: error: …"
		alts := strings.Split(strings.ReplaceAll(w, `\|`, "|"), "|")
		if !docWord.MatchString(alts[0]) {
			return "" // a group shown with a placeholder, e.g. ecos adt …
		}
		var next *command
		for _, a := range alts {
			n := cmd.find(a)
			if n == nil {
				return "no command " + a
			}
			next = n
		}
		cmd = next
	}
	return ""
}
