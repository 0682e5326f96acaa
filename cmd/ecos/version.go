package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{name: "version", summary: "print the build version and VCS revision (also `ecos --version`)", run: func(_ context.Context, std stdio, args []string) error {
		if err := parseNone(newFlags(std, "ecos version", ""), args); err != nil {
			return err
		}
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			bi = nil
		}
		fmt.Fprintln(std.out, versionLine(bi))
		return nil
	}}
}

// versionLine is "ecos VERSION (revision REV[, modified], TIME)", from
// what the go command stamped into the binary; one without a revision
// says how to get one.
func versionLine(bi *debug.BuildInfo) string {
	v := "(devel)"
	if bi != nil && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	var rev, at string
	modified := false
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		// The go command records it in `go build` or `go install` of a
		// checkout, unless -buildvcs=false: README's `go run` never has it.
		return "ecos " + v + " (no VCS revision recorded: `go run`, -buildvcs=false and builds outside a checkout leave it out; `go build ./cmd/ecos` in a checkout records it)"
	}
	line := "ecos " + v + " (revision " + rev
	if modified {
		line += ", modified"
	}
	if at != "" {
		line += ", " + at
	}
	return line + ")"
}
