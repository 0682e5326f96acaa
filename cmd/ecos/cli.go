package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
		sendCommand(),
		serveCommand(),
		versionCommand(),
	}}
}

func run(ctx context.Context, args []string, io stdio) int {
	cmd, path, rest := root(), "ecos", args
	for cmd.run == nil {
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help" {
			printGroupUsage(io.err, path, cmd)
			if len(rest) == 0 {
				return exitMalformed
			}
			return 0
		}
		next := cmd.find(rest[0])
		if next == nil {
			fmt.Fprintf(io.err, "ecos: error: unknown command %q\n", path+" "+rest[0])
			printGroupUsage(io.err, path, cmd)
			return exitMalformed
		}
		cmd, path, rest = next, path+" "+rest[0], rest[1:]
	}
	err := cmd.run(ctx, io, rest)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	if ee, ok := errors.AsType[*exitError](err); ok {
		code = ee.code
	}
	fmt.Fprintf(io.err, "%s: error: %v\n", path, err)
	return code
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
}

// newFlags makes a flag set that reports errors to the caller instead of
// exiting, with the usage line the user will see on -h.
func newFlags(io stdio, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() {
		fmt.Fprintf(io.err, "usage: %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs lets flags and positional arguments come in any order, as
// users type them ("decode FILE --json" and "decode --json FILE").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, malformed(err)
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
		return "", usagef("want exactly one %s argument, got %d (%s)", what, len(pos), strings.Join(pos, " "))
	}
	return pos[0], nil
}

// parseNone parses flags for a command that takes no positional argument.
// printJSON writes v to std.out as indented JSON, for --json.
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
