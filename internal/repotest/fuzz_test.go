package repotest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// parserName is a function name that says it turns bytes into values.
var parserName = regexp.MustCompile(`^(Parse|Decode|Read|Load|Unmarshal)`)

// notFuzzed names the parsers that need no fuzz target of their own, with
// the reason. Keep it short: a reason is "it only opens a file and hands
// the bytes to a parser that is fuzzed", or that it is test code.
var notFuzzed = map[string]string{
	"config.Load":           "reads the file and hands it to config.Parse (FuzzParse)",
	"smki.LoadKeystoreFile": "reads the file and hands it to smki.ParseKeystore (FuzzParseKeystore)",
	"hsm.LoadFile":          "reads the file and hands it to hsm.ParseKey (FuzzParseKey)",
}

// testCode is the packages that hold test or demo code: what they read,
// this repository wrote.
var testCode = map[string]bool{"testpki": true, "demoworld": true, "internal/testkit": true, "store/storetest": true, "service": false}

// isParser says whether fn reads external bytes: its name says it parses
// and it takes []byte, a string or an io.Reader, or whatever its name, it
// takes an io.Reader.
func isParser(fn *ast.FuncDecl) bool {
	if fn.Recv != nil || !fn.Name.IsExported() {
		return false
	}
	named := parserName.MatchString(fn.Name.Name)
	for _, p := range fn.Type.Params.List {
		switch t := p.Type.(type) {
		case *ast.ArrayType:
			if id, ok := t.Elt.(*ast.Ident); ok && id.Name == "byte" && t.Len == nil && named {
				return true
			}
		case *ast.Ident:
			if t.Name == "string" && named && strings.HasPrefix(fn.Name.Name, "Parse") {
				return true
			}
		case *ast.SelectorExpr:
			if x, ok := t.X.(*ast.Ident); ok && x.Name == "io" && t.Sel.Name == "Reader" && !randomness(p.Names) {
				return true
			}
		}
	}
	return false
}

// randomness says whether an io.Reader parameter is injected randomness,
// not input.
func randomness(names []*ast.Ident) bool {
	for _, n := range names {
		if n.Name == "rnd" || n.Name == "rand" || n.Name == "random" {
			return true
		}
	}
	return false
}

// fuzzTargets adds to fuzzed the names a Fuzz function's body exercises:
// every name inside the function given to f.Fuzz, and every name handed
// as an argument to a helper (fuzzDecoder(f, seeds, ParseFrame)). A name
// only called to make seeds is not fuzzed.
func fuzzTargets(body *ast.BlockStmt, fuzzed map[string]bool) {
	mark := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				fuzzed[n.Name] = true
			case *ast.SelectorExpr:
				fuzzed[n.Sel.Name] = true
			}
			return true
		})
	}
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Fuzz" {
			for _, a := range call.Args {
				mark(a)
			}
			return false
		}
		for _, a := range call.Args {
			switch a.(type) {
			case *ast.Ident, *ast.SelectorExpr:
				mark(a)
			}
		}
		return true
	})
}

// TestParsersFuzzed: every function that reads external bytes has a Fuzz
// target that calls it (directly, or by naming it to a helper): hostile
// input is the normal case for a parser.
func TestParsersFuzzed(t *testing.T) {
	const mod = "github.com/ecos-cos/ecos/"
	var missing []string
	found := 0
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		if p.Name == "main" || testCode[rel] || strings.HasPrefix(rel, "test/") {
			continue
		}
		var parsers []string
		fuzzed := map[string]bool{}
		for _, files := range [][]string{p.GoFiles, p.TestGoFiles, p.XTestGoFiles} {
			for _, name := range files {
				f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, name), nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				isTest := strings.HasSuffix(name, "_test.go")
				for _, d := range f.Decls {
					fn, ok := d.(*ast.FuncDecl)
					if !ok {
						continue
					}
					if !isTest && isParser(fn) {
						parsers = append(parsers, fn.Name.Name)
					}
					if isTest && strings.HasPrefix(fn.Name.Name, "Fuzz") && fn.Body != nil {
						fuzzTargets(fn.Body, fuzzed)
					}
				}
			}
		}
		for _, name := range parsers {
			found++
			q := filepath.Base(rel) + "." + name
			if rel != filepath.Base(rel) {
				q = rel + "." + name
			}
			if !fuzzed[name] && notFuzzed[q] == "" {
				missing = append(missing, q)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s parses external bytes but no Fuzz target calls it", m)
	}
	if found < 20 {
		t.Fatalf("only %d parsers found; the scan is broken", found)
	}
}

// TestParserRules: what counts as a parser, and what a Fuzz target
// exercises.
func TestParserRules(t *testing.T) {
	src := `package p
func ParseThing(b []byte) {}
func ParseName(s string) {}
func DecodeRows(r io.Reader) {}
func Rows(name string, r io.Reader) {}
func Sign(b []byte, rnd io.Reader) {}
func LoadFile(path string) {}
func Build(b []byte) {}
func parseQuiet(b []byte) {}
func (x T) ParseMethod(b []byte) {}
func FuzzA(f *testing.F) { seed := Seeds(); f.Add(seed); f.Fuzz(func(t *testing.T, b []byte) { ParseThing(b) }) }
func FuzzB(f *testing.F) { fuzzDecoder(f, DecodeRows) }
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var parsers []string
	fuzzed := map[string]bool{}
	for _, d := range f.Decls {
		fn := d.(*ast.FuncDecl)
		if isParser(fn) {
			parsers = append(parsers, fn.Name.Name)
		}
		if strings.HasPrefix(fn.Name.Name, "Fuzz") {
			fuzzTargets(fn.Body, fuzzed)
		}
	}
	if got := strings.Join(parsers, " "); got != "ParseThing ParseName DecodeRows Rows" {
		t.Errorf("parsers %q", got)
	}
	for name, want := range map[string]bool{"ParseThing": true, "DecodeRows": true, "Seeds": false, "ParseName": false} {
		if fuzzed[name] != want {
			t.Errorf("fuzzed[%s] = %v, want %v", name, fuzzed[name], want)
		}
	}
}
