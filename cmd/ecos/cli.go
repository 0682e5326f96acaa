package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one node of the CLI tree: a group (subs) or a leaf (run).
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, io stdio, args []string) error
	subs    []*command
}

// Exit statuses scripts rely on: 1 means "checked and found invalid",
// 2 means "could not even read the input or the command line".
const (
	exitInvalid   = 1
	exitMalformed = 2
)

// exitError carries a specific exit status up to run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error   { return &exitError{code: exitInvalid, err: err} }
func malformed(err error) error { return &exitError{code: exitMalformed, err: err} }
func usagef(format string, a ...any) error {
	return &exitError{code: exitMalformed, err: fmt.Errorf(format, a...)}
}

func root() *command {
	return &command{name: "ecos", subs: []*command{
		adtCommand(),
		benchCommand(),
		dbCommand(),
		demoCommand(),
		devicesimCommand(),
		duisCommand(),
		pkiCommand(),
		quarantineCommand(),
		gbcsCommand(),
		importCommand(),
		keysCommand(),
		migrateCommand(),
		reportCommand(),
		sendCommand(),
		serveCommand(),
		versionCommand(),
	}}
}

func run(ctx context.Context, args []string, io stdio) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	cmd, path, rest := root(), "ecos", args
	help := false // `ecos help CMD…`: CMD's --help
	for cmd.run == nil {
		if len(rest) > 0 && rest[0] == "help" && !help {
			help, rest = true, rest[1:]
			continue
		}
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help" {
			if len(rest) == 0 && !help {
				printGroupUsage(io.err, path, cmd)
				return exitMalformed
			}
			printGroupUsage(io.out, path, cmd)
			return 0
		}
		next := cmd.find(rest[0])
		if next == nil {
			fmt.Fprintf(io.err, "%s: error: unknown command %q\n", path, rest[0])
			printGroupUsage(io.err, path, cmd)
			return exitMalformed
		}
		cmd, path, rest = next, path+" "+rest[0], rest[1:]
	}
	if help {
		if len(rest) > 0 {
			fmt.Fprintf(io.err, "%s: error: %q has no subcommands\n", path, path)
			return exitMalformed
		}
		rest = []string{"--help"}
	}
	err := cmd.run(ctx, io, rest)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	if ee, ok := errors.AsType[*exitError](err); ok {
		code = ee.code
	}
	// The one place an error is printed: commands return theirs.
	fmt.Fprintf(io.err, "%s: error: %s\n", path, onceEach(err.Error()))
	if _, ok := errors.AsType[*flagError](err); ok {
		fmt.Fprintf(io.err, "run `%s --help` for its flags\n", path)
	}
	return code
}

// onceEach drops a line an error message already has: a library that
// lists its attempts (pgx tries with TLS, then without) repeats the same
// cause.
func onceEach(msg string) string {
	lines := strings.Split(msg, "\n")
	seen := make(map[string]bool, len(lines))
	out := lines[:0]
	for _, l := range lines {
		k := strings.TrimSpace(l)
		if k != "" && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func (c *command) find(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func printGroupUsage(w io.Writer, path string, c *command) {
	fmt.Fprintf(w, "usage: %s <command> [flags] [args]\n\ncommands:\n", path)
	subs := append([]*command(nil), c.subs...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	for _, s := range subs {
		fmt.Fprintf(w, "  %-16s %s\n", s.name, s.summary)
	}
	if path == "ecos" {
		fmt.Fprintf(w, "\n`ecos help COMMAND` or `ecos COMMAND --help` shows a command's flags; `ecos --version` the build.\n")
	}
}

// newFlags makes the flag set of the command called name, which takes the
// positional arguments args ("FILE|-"; "" for none). Its usage is derived
// from the flags it ends up with, so it cannot drift from them; -h and
// --help print it on standard output. A bad flag is not printed here: the
// error goes back to run, which prints it once.
func newFlags(std stdio, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var errs flagOutput
	fs.SetOutput(&errs)
	fs.Usage = func() {
		// The flag package writes a parse error to the output before
		// calling Usage; -h comes with no error.
		if errs.written {
			return
		}
		writeUsage(std.out, fs, args)
	}
	return fs
}

// flagOutput swallows the flag package's own error messages, noting that
// one was written.
type flagOutput struct{ written bool }

func (o *flagOutput) Write(p []byte) (int, error) {
	o.written = true
	return len(p), nil
}

// flagError is a command line the flag package refused.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// usageLine is "usage: NAME [--flag VALUE]... ARGS", every flag in it.
func usageLine(fs *flag.FlagSet, args string) string {
	var b strings.Builder
	b.WriteString("usage: " + fs.Name())
	width := b.Len()
	add := func(word string) {
		if width+1+len(word) > 100 {
			b.WriteString("\n       ")
			width = 7
		} else {
			b.WriteByte(' ')
			width++
		}
		b.WriteString(word)
		width += len(word)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if v := valueName(f); v != "" {
			add("[--" + f.Name + " " + v + "]")
		} else {
			add("[--" + f.Name + "]")
		}
	})
	for _, a := range strings.Fields(args) {
		add(a)
	}
	return b.String()
}

// writeUsage prints the usage line, then each flag with its help.
func writeUsage(w io.Writer, fs *flag.FlagSet, args string) {
	fmt.Fprintln(w, usageLine(fs, args))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	fs.VisitAll(func(f *flag.Flag) {
		head := "--" + f.Name
		if v := valueName(f); v != "" {
			head += " " + v
		}
		_, help := flag.UnquoteUsage(f)
		if !isZeroDefault(f) {
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %s\n      %s\n", head, help)
	})
}

// valueName is what a flag's value is called in usage: the back-quoted
// word of its help, else one derived from its type; "" for a switch.
func valueName(f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return ""
	}
	name, _ := flag.UnquoteUsage(f)
	switch name {
	case "int", "uint", "int64", "uint64", "float":
		return "N"
	case "duration":
		return "DURATION"
	case "string", "value":
		return strings.ToUpper(f.Name)
	}
	return name
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]":
		return true
	}
	return false
}

// parseArgs lets flags and positional arguments come in any order, as
// users type them ("decode FILE --format json" and "decode --format json FILE").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, malformed(&flagError{err})
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// readInput reads a named file, or standard input for "-".
func readInput(io stdio, name string) ([]byte, error) {
	if name == "-" {
		b, err := readAllLimited(io.in)
		if err != nil {
			return nil, malformed(fmt.Errorf("reading standard input: %w", err))
		}
		return b, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, malformed(err)
	}
	defer f.Close()
	b, err := readAllLimited(f)
	if err != nil {
		return nil, malformed(fmt.Errorf("reading %s: %w", name, err))
	}
	return b, nil
}

// maxInput bounds what a CLI command reads: GBCS frames and DUIS messages
// are kilobytes, so anything near this is a mistake, not data.
const maxInput = 64 << 20

func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("input larger than %d bytes", maxInput)
	}
	return b, nil
}

// parseOne parses flags and the single positional argument a command
// requires (what names it in the error).
func parseOne(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		if len(pos) == 0 {
			return "", usagef("want exactly one %s argument, got none", what)
		}
		return "", usagef("want exactly one %s argument, got %d: %s", what, len(pos), strings.Join(pos, " "))
	}
	return pos[0], nil
}

// parseNone parses flags for a command that takes no positional argument.
// printJSON writes v to std.out as indented JSON, for --format json.
func printJSON(std stdio, v any) error {
	enc := json.NewEncoder(std.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func parseNone(fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments: %s", strings.Join(pos, " "))
	}
	return nil
}

// outputFormat is the --format flag of every command that can print more
// than one way: one spelling everywhere, its first choice the default.
type outputFormat struct {
	value   string
	choices []string
}

func formatFlag(fs *flag.FlagSet, choices ...string) *outputFormat {
	f := &outputFormat{value: choices[0], choices: choices}
	fs.Var(f, "format", "how to print: `"+strings.Join(choices, "|")+"`")
	return f
}

func (f *outputFormat) String() string { return f.value }

func (f *outputFormat) Set(s string) error {
	if !slices.Contains(f.choices, s) {
		return fmt.Errorf("want %s", strings.Join(f.choices, ", "))
	}
	f.value = s
	return nil
}
