package main

import (
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// leaves walks the command tree: every runnable command's path after
// "ecos", and every group's.
func leaves(c *command, path []string, leaf, group func(path []string)) {
	if c.run != nil {
		leaf(path)
		return
	}
	group(path)
	for _, s := range c.subs {
		leaves(s, append(append([]string(nil), path...), s.name), leaf, group)
	}
}

var flagInUsage = regexp.MustCompile(`\[--([a-z0-9-]+)[ \]]`)
var flagSpan = regexp.MustCompile(`\[--[a-z0-9-]+( [^\]]+)?\]`)
var errorLine = regexp.MustCompile(`(?m)^ecos [^:]*: error: `)
var flagListed = regexp.MustCompile(`(?m)^  --([a-z0-9-]+)`)

// TestEveryCommand: for every command, `ecos help CMD` is `ecos CMD
// --help` (on standard output, exit 0); its usage line names every flag
// it has and no other; an unknown flag exits 2 and is reported once, on
// standard error; output formats are chosen by --format alone.
func TestEveryCommand(t *testing.T) {
	n := 0
	leaves(root(), nil, func(path []string) {
		n++
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			code, help, errs := ecos(t, "", append(path, "--help")...)
			if code != 0 || errs != "" || !strings.HasPrefix(help, "usage: ecos "+name) {
				t.Fatalf("--help: exit %d\nstdout %s\nstderr %s", code, help, errs)
			}
			code, viaHelp, errs := ecos(t, "", append([]string{"help"}, path...)...)
			if code != 0 || errs != "" || viaHelp != help {
				t.Errorf("ecos help %s: exit %d, differs from --help:\n%s\nstderr %s", name, code, viaHelp, errs)
			}
			usage, flags, _ := strings.Cut(help, "\n\n")
			inUsage := map[string]bool{}
			for _, m := range flagInUsage.FindAllStringSubmatch(usage, -1) {
				if inUsage[m[1]] {
					t.Errorf("--%s twice in the usage line:\n%s", m[1], usage)
				}
				inUsage[m[1]] = true
			}
			if rest := flagSpan.ReplaceAllString(usage, ""); strings.Contains(rest, "--") {
				t.Errorf("a flag written by hand in the usage line (%q):\n%s", rest, usage)
			}
			listed := map[string]bool{}
			for _, m := range flagListed.FindAllStringSubmatch(flags, -1) {
				listed[m[1]] = true
				if !inUsage[m[1]] {
					t.Errorf("--%s is not in the usage line:\n%s", m[1], usage)
				}
			}
			for f := range inUsage {
				if !listed[f] {
					t.Errorf("the usage line names --%s, which is not a flag:\n%s", f, help)
				}
			}
			for _, f := range []string{"json", "csv", "table", "output"} {
				if listed[f] {
					t.Errorf("--%s: output formats are chosen with --format", f)
				}
			}

			code, out, errs := ecos(t, "", append(path, "--no-such-flag")...)
			if code != exitMalformed || out != "" || strings.Count(errs, "no-such-flag") != 1 || strings.Count(errs, "error:") != 1 {
				t.Errorf("unknown flag: exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
		})
	}, func(path []string) {
		name := strings.Join(append([]string{"ecos"}, path...), " ")
		t.Run("group "+name, func(t *testing.T) {
			code, help, errs := ecos(t, "", append(path, "--help")...)
			if code != 0 || errs != "" || !strings.HasPrefix(help, "usage: "+name+" <command>") {
				t.Fatalf("--help: exit %d\nstdout %s\nstderr %s", code, help, errs)
			}
			if code, viaHelp, _ := ecos(t, "", append([]string{"help"}, path...)...); code != 0 || viaHelp != help {
				t.Errorf("ecos help %v: exit %d\n%s", path, code, viaHelp)
			}
			if code, out, errs := ecos(t, "", path...); code != exitMalformed || out != "" || !strings.HasPrefix(errs, "usage: ") {
				t.Errorf("no subcommand: exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
			code, out, errs := ecos(t, "", append(path, "no-such-command")...)
			if code != exitMalformed || out != "" || strings.Count(errs, "no-such-command") != 1 {
				t.Errorf("unknown command: exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
		})
	})
	if n < 20 {
		t.Errorf("walked %d commands", n)
	}
}

// TestErrorsPrintedOnce: a command's error reaches standard error once,
// whether the command line or the work failed.
func TestErrorsPrintedOnce(t *testing.T) {
	for _, args := range [][]string{
		{"gbcs", "decode", "/no/such/frame.hex"},
		{"gbcs", "decode", "--format", "xml", "-"},
		{"gbcs", "decode"},
		{"adt", "validate", "--at", "yesterday", "-"},
		{"quarantine", "release", "--operator", "http://127.0.0.1:1", "7"},
		{"help", "gbcs", "decode", "extra"},
		// pgx reports its attempt with TLS and its attempt without.
		{"db", "migrate", "--db", "postgres://nobody@127.0.0.1:1/x?connect_timeout=5"},
	} {
		code, out, errs := ecos(t, "", args...)
		if code == 0 || len(errorLine.FindAllString(errs, -1)) != 1 || strings.Contains(out, "error") {
			t.Errorf("%v: exit %d\nstdout %s\nstderr %s", args, code, out, errs)
		}
		seen := map[string]bool{}
		for _, l := range strings.Split(errs, "\n") {
			if l = strings.TrimSpace(l); l != "" && seen[l] {
				t.Errorf("%v: %q twice:\n%s", args, l, errs)
			}
			seen[strings.TrimSpace(l)] = true
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, errs := ecos(t, "", "--version")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "ecos ") {
		t.Fatalf("--version: exit %d\n%s%s", code, out, errs)
	}
	if _, again, _ := ecos(t, "", "version"); again != out {
		t.Errorf("ecos version %q, ecos --version %q", again, out)
	}
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "ecos (devel) (no VCS revision recorded: `go run`, -buildvcs=false and builds outside a checkout leave it out; `go build ./cmd/ecos` in a checkout records it)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: settings("vcs.revision", "0123abcd", "vcs.time", "2026-12-01T22:00:00Z", "vcs.modified", "false")},
			"ecos v1.4.0 (revision 0123abcd, 2026-12-01T22:00:00Z)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "0123abcd", "vcs.modified", "true")},
			"ecos (devel) (revision 0123abcd, modified)"},
	} {
		if got := versionLine(tc.bi); got != tc.want {
			t.Errorf("versionLine = %q, want %q", got, tc.want)
		}
	}
}
