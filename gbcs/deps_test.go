package gbcs

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDependencies keeps the codec small and auditable (style C15): non-test
// files may import only the standard library, x/crypto and the project's
// leaf packages eui, role, internal/hexfile and internal/ecdsars.
func TestDependencies(t *testing.T) {
	allowed := []string{"golang.org/x/crypto/", "github.com/ecos-cos/ecos/eui", "github.com/ecos-cos/ecos/internal/hexfile", "github.com/ecos-cos/ecos/internal/ecdsars", "github.com/ecos-cos/ecos/role"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if !strings.Contains(first, ".") {
				continue // standard library
			}
			ok := false
			for _, a := range allowed {
				ok = ok || path == strings.TrimSuffix(a, "/") || strings.HasPrefix(path, a)
			}
			if !ok {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
