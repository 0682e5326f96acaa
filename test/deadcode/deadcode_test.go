package deadcode_test

import (
	"go/ast"
	"go/types"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

const module = "github.com/ecos-cos/ecos"

// notYet are functions that production does not call today, left to the
// packages' owners (issue 11); an entry that is no longer true is only
// logged. Do not add to it: wire a function in where a user needs it or
// delete it with its tests.
var notYet = map[string]string{
	"adt.CriticalSRV":       "thresholds' tests compute expectations with it",
	"config.Parse":          "config's tests",
	"ecoserr.PublicMessage": "ecoserr's and authorise's tests",
	"eui.MustParse":         "a test helper used across packages",
}

// TestProductionFunctionsAreUsed: every package-level function in the
// packages the ecos binary is built from is used by production code
// (other than its own body), not only by tests. Methods are not checked:
// an interface can use them unseen.
func TestProductionFunctionsAreUsed(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports,
		Dir:  filepath.Join(filepath.Dir(here), "..", ".."),
	}
	pkgs, err := packages.Load(cfg, module+"/...")
	if err != nil {
		t.Fatal(err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		t.Fatalf("%d errors loading the module", n)
	}
	byPath := map[string]*packages.Package{}
	for _, p := range pkgs {
		byPath[p.PkgPath] = p
	}
	// The production packages: what cmd/ecos imports from the module.
	prod := map[string]*packages.Package{}
	var walk func(path string)
	walk = func(path string) {
		p, ok := byPath[path]
		if !ok || prod[path] != nil {
			return
		}
		prod[path] = p
		for imp := range p.Imports {
			walk(imp)
		}
	}
	walk(module + "/cmd/ecos")
	if len(prod) < 10 {
		t.Fatalf("only %d production packages found", len(prod))
	}

	used := map[string]bool{}
	for _, p := range prod {
		for id, obj := range p.TypesInfo.Uses {
			f, ok := obj.(*types.Func)
			if !ok || f.Pkg() == nil || f.Type().(*types.Signature).Recv() != nil {
				continue
			}
			// A use inside the function itself (recursion) is no use.
			if decl := enclosing(p, id); decl != nil && p.TypesInfo.Defs[decl.Name] == f.Origin() {
				continue
			}
			used[key(f.Pkg().Path(), f.Name())] = true
		}
	}
	var dead []string
	for _, p := range prod {
		for _, file := range p.Syntax {
			for _, d := range file.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv != nil || fd.Name.Name == "main" || fd.Name.Name == "init" || fd.Name.Name == "_" {
					continue
				}
				k := key(p.PkgPath, fd.Name.Name)
				if used[k] {
					if _, listed := notYet[k]; listed {
						t.Logf("%s is used now: remove it from notYet", k)
					}
					continue
				}
				if _, listed := notYet[k]; listed {
					continue
				}
				dead = append(dead, k+" ("+filepath.Base(p.Fset.Position(fd.Pos()).Filename)+")")
			}
		}
	}
	slices.Sort(dead)
	for _, d := range dead {
		t.Errorf("%s: no production code uses it; wire it in where a user needs it, or delete it with its tests", d)
	}
}

func key(pkgPath, name string) string {
	return strings.TrimPrefix(strings.TrimPrefix(pkgPath, module), "/") + "." + name
}

// enclosing is the function declaration id sits in, if any.
func enclosing(p *packages.Package, id *ast.Ident) *ast.FuncDecl {
	for _, f := range p.Syntax {
		if f.FileStart > id.Pos() || id.Pos() >= f.FileEnd {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= id.Pos() && id.Pos() < fd.End() {
				return fd
			}
		}
	}
	return nil
}
