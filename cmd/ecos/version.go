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
// what the go command stamped into the binary; a binary built outside a
// checkout says so.
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
		return "ecos " + v + " (no VCS revision: not built from a checkout)"
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
