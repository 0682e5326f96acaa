package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ecos": func() {
			os.Exit(run(context.Background(), os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
		},
	})
}

// TestScripts runs the CLI end to end from testdata/script/*.txtar. Scripts
// that need the shared RTDS vectors find them in $VECTORS and skip with
// [!vectors] when the folder is absent (CI always has it).
func TestScripts(t *testing.T) {
	vectors := os.Getenv("ECOS_VECTORS_DIR")
	if vectors == "" && os.Getenv("CI") == "true" {
		t.Fatal("ECOS_VECTORS_DIR is not set in CI")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("VECTORS", vectors)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "vectors" {
				return vectors != "", nil
			}
			return false, nil
		},
	})
}
