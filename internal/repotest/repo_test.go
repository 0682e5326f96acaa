package repotest

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Doc        string
	Name       string
	Deps       []string
	Standard   bool

	Dir                                string
	GoFiles, TestGoFiles, XTestGoFiles []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "github.com/ecos-cos/ecos/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 8 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
	return pkgs
}

// TestPackageDocs: a package without a doc comment is a package nobody can
// place; style.md asks each to state its role and trust level.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		doc := p.Doc
		if len(p.GoFiles) == 0 { // a package of tests only says what it is in a test file
			for _, name := range append(p.TestGoFiles, p.XTestGoFiles...) {
				f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
				if err != nil {
					t.Fatal(err)
				}
				if f.Doc != nil {
					doc += f.Doc.Text()
				}
			}
		}
		if strings.TrimSpace(doc) == "" {
			t.Errorf("%s has no package doc comment", p.ImportPath)
		}
	}
}

// TestCodecDependencies keeps the wire-format packages pure: they parse
// untrusted bytes and must not reach storage, the network or service roles.
func TestCodecDependencies(t *testing.T) {
	const mod = "github.com/ecos-cos/ecos/"
	allowed := map[string][]string{
		"eui":              {},
		"role":             {},
		"gbcs":             {"eui", "internal/hexfile", "internal/ecdsars", "role"},
		"smki":             {"eui", "role"},
		"duis":             {"eui"},
		"xmldsig":          {"eui", "smki", "role", "internal/ecdsars"},
		"mpxn":             {},
		"adt":              {"eui", "smki", "role", "internal/ecdsars"},
		"internal/ecdsars": {},
		"anomaly":          {"adt", "eui", "smki", "role", "internal/ecdsars"}, // not a codec, but pipeline state with no reason to reach storage or the network
	}
	banned := []string{"net/http", "database/sql", "log/slog", "os/exec"}
	for _, p := range listPackages(t) {
		name := strings.TrimPrefix(p.ImportPath, mod)
		ok, isCodec := allowed[name]
		if !isCodec {
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, mod) {
				inner := strings.TrimPrefix(d, mod)
				found := false
				for _, a := range ok {
					if a == inner {
						found = true
					}
				}
				if !found {
					t.Errorf("%s depends on %s", name, inner)
				}
			}
			for _, b := range banned {
				if d == b {
					t.Errorf("%s depends on %s", name, b)
				}
			}
		}
	}
}

// TestProductionGraph keeps test, demo and benchmark code out of what a
// production `ecos serve --config` runs: the 6.23 roles reach a device
// through the gateway the pipeline declares, and the simulated meters a
// demo configuration names are plugged into the service by the command
// that starts it (service.Simulator); none of them imports the simulated
// meters, the test PKI, the demo world or the benchmark.
func TestProductionGraph(t *testing.T) {
	const mod = "github.com/ecos-cos/ecos/"
	production := []string{"service", "pipeline", "authorise", "signer", "store", "intake", "api", "dispatch", "anomaly", "thresholds", "obs", "config", "refdata", "cosbuild", "hsm"}
	testOnly := []string{"testpki", "device", "devicesim", "demoworld", "internal/testkit", "store/storetest", "bench"}
	deps := map[string][]string{}
	for _, p := range listPackages(t) {
		deps[strings.TrimPrefix(p.ImportPath, mod)] = p.Deps
	}
	check := func(name string, testOnly []string) {
		d, ok := deps[name]
		if !ok {
			t.Errorf("package %s is gone: update this list", name)
			return
		}
		for _, dep := range d {
			for _, banned := range testOnly {
				if dep == mod+banned {
					t.Errorf("%s depends on %s: test, demo or benchmark code in the production graph", name, banned)
				}
			}
		}
	}
	for _, name := range production {
		check(name, testOnly)
	}
}
