package main

import (
	"context"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ecos": func() {
			// As main does, so scripts can stop a background server with
			// `kill -INT` and see it shut down cleanly.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the CLI end to end from testdata/script/*.txtar. Scripts
// that need the shared RTDS vectors find them in $VECTORS and skip with
// [!vectors] when the folder is absent (CI always has it).
func TestScripts(t *testing.T) {
	vectors, _ := testkit.OptionalEnv(t, "ECOS_VECTORS_DIR")
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("VECTORS", vectors)
			// A free loopback port for scripts that start a server.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			env.Setenv("PORT", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
			return ln.Close()
		},
		Condition: func(cond string) (bool, error) {
			if cond == "vectors" {
				return vectors != "", nil
			}
			return false, nil
		},
	})
}
