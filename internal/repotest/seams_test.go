package repotest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// interfaceBudget is the most methods an interface in production code
// may ask for: a seam is what one consumer uses of one role (style.md;
// Boulder splits read-only from read-write storage the same way). A wider
// one makes every fake and every second implementation carry methods its
// consumer never calls.
const interfaceBudget = 8

// wideInterfaces are allowed over the budget, each with its reason.
var wideInterfaces = map[string]string{}

// TestInterfaceBudget counts each production interface's methods,
// embedded interfaces of the same package included, and refuses one over
// interfaceBudget that wideInterfaces does not name.
func TestInterfaceBudget(t *testing.T) {
	const mod = "github.com/ecos-cos/ecos/"
	seen := 0
	var over []string
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		if testCode[rel] || strings.HasPrefix(rel, "test/") {
			continue
		}
		ifaces := map[string]*ast.InterfaceType{}
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if ts, ok := n.(*ast.TypeSpec); ok {
					if it, ok := ts.Type.(*ast.InterfaceType); ok {
						ifaces[ts.Name.Name] = it
					}
				}
				return true
			})
		}
		var count func(it *ast.InterfaceType, depth int) int
		count = func(it *ast.InterfaceType, depth int) int {
			n := 0
			for _, m := range it.Methods.List {
				switch typ := m.Type.(type) {
				case *ast.FuncType:
					n += len(m.Names)
				case *ast.Ident:
					if e, ok := ifaces[typ.Name]; ok && depth < 10 {
						n += count(e, depth+1)
					}
				}
			}
			return n
		}
		for name, it := range ifaces {
			seen++
			q := rel + "." + name
			if n := count(it, 0); n > interfaceBudget && wideInterfaces[q] == "" {
				over = append(over, q+": "+strconv.Itoa(n)+" methods")
			}
		}
	}
	sort.Strings(over)
	for _, o := range over {
		t.Errorf("%s, over the budget of %d: split it by role, or name it in wideInterfaces with the reason", o, interfaceBudget)
	}
	if seen < 10 {
		t.Fatalf("only %d interfaces found; the scan is broken", seen)
	}
}

// storeDBAllowed is where *store.DB may be named: the store itself, and
// the wiring that opens one and hands each role the part it uses.
var storeDBAllowed = map[string]bool{"store": true, "service": true, "cmd/ecos": true, "bench": true}

// TestStoreDBAtWiringOnly: outside the wiring, code takes the interface
// of the role it plays (pipeline.Requests, signer.CommandLog,
// authorise.Reference, thresholds.Store, …), never the whole store.
func TestStoreDBAtWiringOnly(t *testing.T) {
	const mod = "github.com/ecos-cos/ecos/"
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		if storeDBAllowed[rel] || testCode[rel] || strings.HasPrefix(rel, "test/") {
			continue
		}
		for _, name := range p.GoFiles {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "store" && sel.Sel.Name == "DB" {
						t.Errorf("%s/%s:%d: takes *store.DB; declare the part of the store it uses", rel, name, fset.Position(sel.Pos()).Line)
					}
				}
				return true
			})
		}
	}
}
