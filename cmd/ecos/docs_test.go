package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/store"
)

// docCommand finds `ecos …` in a code span and each line of a code block
// that starts with ecos (after an optional "$ ").
var (
	docSpan = regexp.MustCompile("`(ecos [^`]*)`")
	docLine = regexp.MustCompile(`(?m)^(?:\$ )?(?:go run \./cmd/)?(ecos [^\n]*)$`)
	docWord = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)
	docFlag = regexp.MustCompile(`(?:^|[\s\[|])--([a-z][a-z0-9-]*)`)
)

// TestDocsNameOnlyCommandsThatExist: every `ecos …` command the README and
// docs/ show (`go run ./cmd/ecos …` included, continued lines joined) is
// one the CLI has, with flags it has, so an operator who copies it gets
// the command, not "unknown command" or "flag provided but not defined".
// Alternatives written a|b|c are each checked.
func TestDocsNameOnlyCommandsThatExist(t *testing.T) {
	flagsOf := map[string]map[string]bool{} // leaf path → its flags, from --help
	hasFlag := func(path []string, flag string) bool {
		key := strings.Join(path, " ")
		if flagsOf[key] == nil {
			_, help, _ := ecos(t, "", append(path, "--help")...)
			flagsOf[key] = map[string]bool{"help": true}
			for _, m := range flagListed.FindAllStringSubmatch(help, -1) {
				flagsOf[key][m[1]] = true
			}
		}
		return flagsOf[key][flag]
	}
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
			block = strings.ReplaceAll(block, "\\\n", " ")
			for _, m := range docLine.FindAllStringSubmatch(block, -1) {
				cmds = append(cmds, m[1])
			}
		}
		for _, c := range cmds {
			path, args, problem := checkDocCommand(c)
			if problem != "" {
				t.Errorf("%s: `%s`: %s", filepath.Base(f), c, problem)
				continue
			}
			if path == nil {
				continue
			}
			args, _, _ = strings.Cut(args, "#") // a shell comment
			for _, m := range docFlag.FindAllStringSubmatch(args, -1) {
				if !hasFlag(path, m[1]) {
					t.Errorf("%s: `%s`: ecos %s has no flag --%s", filepath.Base(f), c, strings.Join(path, " "), m[1])
				}
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
// to the first leaf; it returns the leaf's path and the rest of the line
// (nil for a group shown with a placeholder), or what does not exist.
func checkDocCommand(line string) (path []string, rest, problem string) {
	words := strings.Fields(strings.TrimPrefix(line, "ecos "))
	cmd := root()
	if len(words) > 0 && words[0] == "help" {
		words = words[1:] // `ecos help CMD…` names CMD
	}
	for i, w := range words {
		if cmd.run != nil {
			return path, strings.Join(words[i:], " "), "" // a leaf: the rest are its arguments
		}
		w = strings.TrimSuffix(w, ":") // "ecos serve: error: …"
		alts := strings.Split(strings.ReplaceAll(w, `\|`, "|"), "|")
		if !docWord.MatchString(alts[0]) {
			return nil, "", "" // a group shown with a placeholder, e.g. ecos adt …
		}
		if len(alts) > 1 {
			path = nil // several leaves: their flags are not checked
		}
		var next *command
		for _, a := range alts {
			n := cmd.find(a)
			if n == nil {
				return nil, "", "no command " + a
			}
			next = n
		}
		if len(alts) == 1 && (path != nil || i == 0) {
			path = append(path, alts[0])
		}
		cmd = next
	}
	if cmd.run == nil {
		return nil, "", ""
	}
	return path, "", ""
}

// TestAPIDocNamesRequestStates: docs/api.md's examples show states a
// request (or a migration wave) can be in, and its lists name every one, so a User's script
// written from the page matches what the service answers.
func TestAPIDocNamesRequestStates(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]bool{}
	for _, s := range []store.RequestState{store.RequestReceived, store.RequestRejected, store.RequestAuthorised,
		store.RequestQuarantined, store.RequestSigned, store.RequestSent, store.RequestResponded, store.RequestFailed} {
		states[string(s)] = true
		if !strings.Contains(string(b), fmt.Sprintf("`%s`", s)) {
			t.Errorf("docs/api.md does not list the state `%s`", s)
		}
	}
	// The migration routes show waves, which have states of their own.
	for _, s := range []store.WaveState{store.WaveRunning, store.WavePaused, store.WaveDone, store.WaveCancelled} {
		states[string(s)] = true
		if !strings.Contains(string(b), fmt.Sprintf("`%s`", s)) {
			t.Errorf("docs/api.md does not list the wave state `%s`", s)
		}
	}
	shown := regexp.MustCompile(`"state": "([^"]*)"|X-ECoS-State: ([a-z]+)`).FindAllStringSubmatch(string(b), -1)
	if len(shown) == 0 {
		t.Fatal("no state shown in docs/api.md: is the pattern broken?")
	}
	for _, m := range shown {
		if s := m[1] + m[2]; !states[s] {
			t.Errorf("docs/api.md shows the state %q, which no request has", s)
		}
	}
}
