package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// inCI reports whether the tests run in CI, where nothing may be skipped
// for want of a tool, a folder or a server: CI must never pass by not
// testing.
func inCI() bool { return os.Getenv("CI") == "true" }

// Unavailable ends a test that lacks what it needs: a failure in CI, a
// skip elsewhere.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		tb.Fatal(msg + " (required in CI)")
	}
	tb.Skip(msg)
}

// Env returns the environment variable name; unset, the test is
// Unavailable.
func Env(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		Unavailable(tb, "%s is not set", name)
	}
	return v
}

// OptionalEnv is Env for a check a test can do without: unset, it fails
// the test in CI and otherwise logs and returns false, and the test goes
// on.
func OptionalEnv(tb testing.TB, name string) (string, bool) {
	tb.Helper()
	v := os.Getenv(name)
	switch {
	case v != "":
		return v, true
	case inCI():
		tb.Fatalf("%s is not set (required in CI)", name)
	}
	tb.Logf("%s not set; skipping that check", name)
	return "", false
}

// Tool returns the path of the program name; not installed, the test is
// Unavailable, with hint saying how to install it.
func Tool(tb testing.TB, name, hint string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(tb, "%s is not installed (%s)", name, hint)
	}
	return p
}
