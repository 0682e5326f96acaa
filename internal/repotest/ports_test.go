package repotest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Tests run beside an `ecos serve --demo` on its default ports (8079 and
// 8078) and beside each other: a test that listens on, or dials, a fixed
// port fails or talks to the wrong server. Tests take 127.0.0.1:0.

// hostPort is a loopback or any-address host with a port; barePort is a
// whole literal ":NNNN".
var (
	hostPort = regexp.MustCompile(`(?i)(?:^|[^\w.-])((?:127(?:\.\d{1,3}){3}|localhost|\[::1?\]|0\.0\.0\.0):(\d{1,5}))\b`)
	barePort = regexp.MustCompile(`^:(\d{1,5})$`)
)

// fixedPortAllowed names the files that may hold a fixed address because
// they only parse or print it, with the reason. Keep it narrow.
var fixedPortAllowed = map[string]string{
	"config/config_test.go":           "asserts the default and parsed listen addresses; config never binds",
	"config/testdata/":                "configuration files that config's tests parse and never serve",
	"obs/obs_test.go":                 "an address as a log attribute, never bound",
	"internal/repotest/ports_test.go": "the rules' own table: addresses the check must find",
}

// fixedAddrs is every address in s with a port a server could hold: not
// 0 (the kernel picks), and not 1, where nothing listens (tcpmux), so a
// test may dial it to see a connection refused.
func fixedAddrs(s string) []string {
	fixed := func(port string) bool {
		n, _ := strconv.Atoi(port)
		return n > 1
	}
	var out []string
	for _, m := range hostPort.FindAllStringSubmatch(s, -1) {
		if fixed(m[2]) {
			out = append(out, m[1])
		}
	}
	// A literal that is only ":NNNN" is an address when NNNN is a port
	// an unprivileged server takes; ":777" is more likely a counter.
	if m := barePort.FindStringSubmatch(strings.TrimSpace(s)); m != nil {
		if n, _ := strconv.Atoi(m[1]); n >= 1024 {
			out = append(out, m[0])
		}
	}
	return out
}

// defaultAddrFlags: the ecos commands that listen on or dial a default
// address unless told otherwise, and the flags a test must give them. Each
// inner list is alternatives: one of them is enough.
var defaultAddrFlags = map[string][][]string{
	"serve":              {{"--listen", "--config", "--init-only"}, {"--operator-listen", "--config", "--init-only"}}, // a demo's configuration holds 8079 and 8078
	"send 6.23":          {{"--url", "--demo"}},                                                                       // a demo directory's configuration names its port
	"devicesim":          {{"--listen"}},
	"adt submit":         {{"--url", "--operator", "--demo"}},
	"adt show":           {{"--operator", "--config"}}, // a configuration names its operator_listen
	"quarantine list":    {{"--operator", "--config"}},
	"quarantine release": {{"--operator", "--config"}},
	"quarantine delete":  {{"--operator", "--config"}},
}

// defaultDirFlags: the commands that write a default file or directory in
// the working directory. A Go test runs in its package's directory, which
// a developer's demo may share (testscript gives each script its own).
var defaultDirFlags = map[string][][]string{
	"serve":                {{"--dir", "--config"}}, // ecos-demo
	"db migrate":           {{"--db", "--config"}},  // ecos.db
	"import parties":       {{"--db", "--config"}},
	"import devices":       {{"--db", "--config"}},
	"import registrations": {{"--db", "--config"}},
}

// command is the name of the ecos command args (the program name left
// out) start with, as rules spell it, and its rules.
func command(args []string, rules map[string][][]string) (string, [][]string) {
	for _, n := range []int{2, 1} {
		if len(args) >= n {
			if r, ok := rules[strings.Join(args[:n], " ")]; ok {
				return strings.Join(args[:n], " "), r
			}
		}
	}
	return "", nil
}

// missingFlags names the first flag an ecos command line lacks under
// rules; "" when it lacks none, or only asks for help.
func missingFlags(args []string, rules map[string][][]string) string {
	has := func(flag string) bool {
		for _, a := range args {
			if a == flag || strings.HasPrefix(a, flag+"=") {
				return true
			}
		}
		return false
	}
	if has("-h") || has("-help") || has("--help") {
		return ""
	}
	_, need := command(args, rules)
	for _, alts := range need {
		ok := false
		for _, f := range alts {
			ok = ok || has(f)
		}
		if !ok {
			return strings.Join(alts, " or ")
		}
	}
	return ""
}

// TestNoFixedPorts: no test file or test script names a fixed port, and
// every ecos command a test runs is told where to listen, what to dial and
// where to write instead of using the defaults a running demo holds.
func TestNoFixedPorts(t *testing.T) {
	root := moduleRoot(t)
	allowed := func(rel string) bool {
		for p := range fixedPortAllowed {
			if rel == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p)) {
				return true
			}
		}
		return false
	}
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "fuzz" && strings.Contains(rel, "testdata/") {
				return filepath.SkipDir
			}
			return nil
		}
		inTestdata := strings.Contains("/"+rel, "/testdata/")
		switch {
		case strings.HasSuffix(rel, "_test.go"):
			checked++
			checkGoTest(t, path, rel, allowed(rel))
		case inTestdata:
			checked++
			checkScript(t, path, rel, allowed(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d test files found under %s", checked, root)
	}
}

func checkGoTest(t *testing.T, path, rel string, allowAddrs bool) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		var elems []ast.Expr
		switch n := n.(type) {
		case *ast.BasicLit:
			if s, ok := stringLit(n); ok && !allowAddrs {
				for _, a := range fixedAddrs(s) {
					t.Errorf("%s:%d: fixed address %s in a test: listen on 127.0.0.1:0 and pass the address on", rel, fset.Position(n.Pos()).Line, a)
				}
			}
			return true
		case *ast.CallExpr:
			elems = n.Args
		case *ast.CompositeLit:
			elems = n.Elts
		default:
			return true
		}
		// An argument list whose string literals spell an ecos command.
		var args []string
		for _, e := range elems {
			if s, ok := stringLit(e); ok {
				args = append(args, s)
			} else {
				args = append(args, "?")
			}
		}
		// The command is the first non-empty literal: ecos(t, stdin, "send",
		// …) or exec.Command(bin, "serve", …), not a word in a list.
		for i := range args {
			if args[i] == "" || args[i] == "?" {
				continue
			}
			if name, _ := command(args[i:], defaultAddrFlags); name == "" {
				if name, _ := command(args[i:], defaultDirFlags); name == "" {
					break
				}
			}
			for _, rules := range []map[string][][]string{defaultAddrFlags, defaultDirFlags} {
				if miss := missingFlags(args[i:], rules); miss != "" {
					t.Errorf("%s:%d: %q without %s uses a default a running demo holds", rel, fset.Position(n.Pos()).Line, strings.Join(args[i:], " "), miss)
				}
			}
			break
		}
		return true
	})
}

func checkScript(t *testing.T, path, rel string, allowAddrs bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A demo directory keeps the addresses it was made with: a later
	// `serve --demo --dir D` uses them.
	made := map[string][]string{}
	for i, line := range strings.Split(string(b), "\n") {
		if !allowAddrs {
			for _, a := range fixedAddrs(line) {
				t.Errorf("%s:%d: fixed address %s in a test: use a port the test chose ($PORT)", rel, i+1, a)
			}
			for _, tok := range strings.Fields(line) {
				if barePort.MatchString(tok) && len(fixedAddrs(tok)) > 0 {
					t.Errorf("%s:%d: fixed port %s in a test", rel, i+1, tok)
				}
			}
		}
		fields := strings.Fields(line)
		for j, f := range fields {
			if f != "ecos" || j == 0 || fields[j-1] != "exec" {
				continue
			}
			args := fields[j+1:]
			if dir := flagValue(args, "--dir"); len(args) > 0 && args[0] == "serve" && dir != "" {
				if flagValue(args, "--init-only") == "" {
					args = append(args[:len(args):len(args)], made[dir]...)
				} else {
					for _, fl := range []string{"--listen", "--operator-listen"} {
						if flagValue(args, fl) != "" {
							made[dir] = append(made[dir], fl)
						}
					}
				}
			}
			if miss := missingFlags(args, defaultAddrFlags); miss != "" {
				t.Errorf("%s:%d: `%s` without %s uses a default a running demo holds", rel, i+1, strings.Join(fields[j:], " "), miss)
			}
		}
	}
}

// flagValue is what follows flag in args ("true" for a flag given alone
// or last), or "" when args do not hold it.
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
		if a == flag {
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				return args[i+1]
			}
			return "true"
		}
	}
	return ""
}

func stringLit(e ast.Expr) (string, bool) {
	l, ok := e.(*ast.BasicLit)
	if !ok || l.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(l.Value)
	return s, err == nil
}

// moduleRoot is the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// TestFixedPortRules: the checks above find what they are for and pass
// what they are not.
func TestFixedPortRules(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8079":            "127.0.0.1:8079",
		"http://localhost:8078/x":   "localhost:8078",
		":8079":                     ":8079",
		":777":                      "",
		"[::1]:9000":                "[::1]:9000",
		"0.0.0.0:8443":              "0.0.0.0:8443",
		"127.0.0.1:0":               "",
		"http://127.0.0.1:1":        "",
		"127.0.0.1:$PORT":           "",
		"90-B3-D5-1F-30-01-00-00:7": "",
		"db.example:5432":           "",
		"10:30":                     "",
	} {
		if got := strings.Join(fixedAddrs(in), " "); got != want {
			t.Errorf("fixedAddrs(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"serve --demo --dir d --listen a --operator-listen b": "",
		"serve --demo --dir d --init-only":                    "",
		"serve --config c":                                    "",
		"serve --demo --dir d --listen a":                     "--operator-listen or --config or --init-only",
		"send 6.23 --demo d":                                  "",
		"send 6.23 --supplier 2":                              "--url or --demo",
		"send 6.23 --help":                                    "",
		"quarantine list --state held":                        "--operator or --config",
		"quarantine list --config ecos.json":                  "",
		"adt submit f.csv":                                    "--url or --operator or --demo",
		"adt sign --key k":                                    "",
		"devicesim --pki p":                                   "--listen",
	} {
		if got := missingFlags(strings.Fields(in), defaultAddrFlags); got != want {
			t.Errorf("missingFlags(%q) = %q, want %q", in, got, want)
		}
	}
	if got := missingFlags(strings.Fields("serve --demo"), defaultDirFlags); got != "--dir or --config" {
		t.Errorf("serve --demo in a Go test: %q, want --dir or --config", got)
	}
}
