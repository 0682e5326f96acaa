package repotest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A test that sleeps to wait for something guesses how long it takes: on
// a loaded machine the guess is short and the test fails for nothing; on
// an idle one it is long and the test is slow. Tests wait on the thing
// itself (a channel closed by a hook, synctest.Wait, a readiness line, a
// notification). Inside a testing/synctest bubble time is fake and a
// sleep is exact, so it is allowed there; elsewhere a sleep that waits
// for nothing (choosing when to kill a process) says so on its line or
// the line above: `// sleep-ok: chooses when to kill`.

// sleepOK is the allow comment: the reason is not optional.
var sleepOK = regexp.MustCompile(`sleep-ok:\s*\S`)

// sleepsToWait returns a message for each time.Sleep or runtime.Gosched
// call, and each bare `<-time.After(d)` statement, in f that is outside a
// synctest bubble and carries no sleep-ok reason.
func sleepsToWait(fset *token.FileSet, f *ast.File) []string {
	timePkg, synctestPkg, runtimePkg := importName(f, "time"), importName(f, "testing/synctest"), importName(f, "runtime")
	if timePkg == "" && runtimePkg == "" {
		return nil
	}
	allowed := map[int]bool{} // lines a sleep-ok comment covers
	for _, g := range f.Comments {
		for _, c := range g.List {
			if sleepOK.MatchString(c.Text) {
				l := fset.Position(c.Slash).Line
				allowed[l], allowed[l+1] = true, true
			}
		}
	}
	isCall := func(e ast.Expr, pkg string, names ...string) bool {
		call, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok || pkg == "" {
			return false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == pkg && slices.Contains(names, sel.Sel.Name)
	}
	// inBubble: some function literal on the stack is the body given to
	// synctest.Test or synctest.Run.
	inBubble := func(stack []ast.Node) bool {
		for i := len(stack) - 1; i > 0; i-- {
			lit, ok := stack[i].(*ast.FuncLit)
			if !ok {
				continue
			}
			if call, ok := stack[i-1].(*ast.CallExpr); ok && isCall(call, synctestPkg, "Test", "Run") && slices.Contains(call.Args, ast.Expr(lit)) {
				return true
			}
		}
		return false
	}
	var out []string
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		var what string
		switch n := n.(type) {
		case *ast.CallExpr:
			if isCall(n, timePkg, "Sleep") {
				what = "time.Sleep"
			}
			if isCall(n, runtimePkg, "Gosched") {
				what = "runtime.Gosched" // a spin: a sleep of no length, in a loop
			}
		case *ast.ExprStmt:
			// A select's case is a deadline beside what it waits for.
			comm, inSelect := stack[len(stack)-2].(*ast.CommClause)
			inSelect = inSelect && comm.Comm == n
			if u, ok := n.X.(*ast.UnaryExpr); ok && u.Op == token.ARROW && isCall(u.X, timePkg, "After") && !inSelect {
				what = "<-time.After"
			}
		}
		if what == "" {
			return true
		}
		line := fset.Position(n.Pos()).Line
		if !allowed[line] && !inBubble(stack) {
			out = append(out, strconv.Itoa(line)+": "+what)
		}
		return true
	})
	return out
}

// importName is the name f refers to the package at path by, "" when f
// does not import it (or imports it with . or _).
func importName(f *ast.File, path string) string {
	for _, s := range f.Imports {
		if p, _ := strconv.Unquote(s.Path.Value); p != path {
			continue
		}
		if s.Name == nil {
			return path[strings.LastIndex(path, "/")+1:]
		}
		if s.Name.Name == "." || s.Name.Name == "_" {
			return ""
		}
		return s.Name.Name
	}
	return ""
}

// TestNoSleepToWait: no test file sleeps to wait for something.
func TestNoSleepToWait(t *testing.T) {
	root := moduleRoot(t)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		for _, m := range sleepsToWait(fset, f) {
			t.Errorf("%s:%s outside a synctest bubble: wait on the condition itself (a channel, synctest.Wait, a readiness line, a notification), or say on the line why nothing is waited for: // sleep-ok: REASON", rel, m)
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

// TestSleepRules: the check finds sleeps that wait and passes the ones
// that do not.
func TestSleepRules(t *testing.T) {
	const head = "package p\n\nimport (\n\t\"testing\"\n\t\"testing/synctest\"\n\t\"time\"\n)\n\nvar _ = synctest.Wait\n\n"
	tests := []struct {
		name, src string
		want      []string // "line: what", lines counted from the body's first
	}{
		{"sleep to wait", "func f() {\n\ttime.Sleep(20 * time.Millisecond)\n}", []string{"2: time.Sleep"}},
		{"poll loop", "func f(ok func() bool) {\n\tfor !ok() {\n\t\ttime.Sleep(time.Millisecond)\n\t}\n}", []string{"3: time.Sleep"}},
		{"in a goroutine", "func f(stop chan int) {\n\tgo func() {\n\t\ttime.Sleep(time.Second)\n\t\tclose(stop)\n\t}()\n}", []string{"3: time.Sleep"}},
		{"bare time.After", "func f() {\n\t<-time.After(time.Second)\n}", []string{"2: <-time.After"}},
		{"time.After in a select is a deadline", "func f(c chan int) {\n\tselect {\n\tcase <-c:\n\tcase <-time.After(time.Second):\n\t}\n}", nil},
		{"synctest.Test bubble", "func f(t *testing.T) {\n\tsynctest.Test(t, func(t *testing.T) {\n\t\ttime.Sleep(time.Hour)\n\t\tgo func() { time.Sleep(time.Minute) }()\n\t})\n}", nil},
		{"synctest.Run bubble", "func f() {\n\tsynctest.Run(func() {\n\t\ttime.Sleep(time.Hour)\n\t})\n}", nil},
		{"a literal beside the bubble is not in it", "func f(t *testing.T, g func(func())) {\n\tg(func() { time.Sleep(time.Hour) })\n}", []string{"2: time.Sleep"}},
		{"allowed on the line", "func f() {\n\ttime.Sleep(time.Second) // sleep-ok: chooses when to kill\n}", nil},
		{"allowed on the line above", "func f() {\n\t// sleep-ok: chooses when to kill\n\ttime.Sleep(time.Second)\n}", nil},
		{"allow without a reason", "func f() {\n\ttime.Sleep(time.Second) // sleep-ok:\n}", []string{"2: time.Sleep"}},
		{"allow two lines up covers nothing", "func f() {\n\t// sleep-ok: chooses when to kill\n\n\ttime.Sleep(time.Second)\n}", []string{"4: time.Sleep"}},
		{"another package's Sleep", "type c struct{}\n\nfunc (c) Sleep(time.Duration) {}\n\nfunc f(clock c) {\n\tclock.Sleep(time.Second)\n}", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x_test.go", head+tc.src, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			offset := strings.Count(head, "\n")
			var want []string
			for _, w := range tc.want {
				n, what, _ := strings.Cut(w, ": ")
				l, _ := strconv.Atoi(n)
				want = append(want, strconv.Itoa(l+offset)+": "+what)
			}
			if got := sleepsToWait(fset, f); !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	// Files whose imports differ from the header above.
	for src, want := range map[string]string{
		// A spin on the scheduler is a poll too.
		"package p\n\nimport \"runtime\"\n\nfunc f(ok func() bool) {\n\tfor !ok() {\n\t\truntime.Gosched()\n\t}\n}\n": "7: runtime.Gosched",
		// An alias is followed.
		"package p\n\nimport clock \"time\"\n\nfunc f() { clock.Sleep(1) }\n": "5: time.Sleep",
		// A dot import is not looked into.
		"package p\n\nimport . \"time\"\n\nfunc f() { Sleep(1) }\n": "",
	} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "x_test.go", src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(sleepsToWait(fset, f), " "); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
}
