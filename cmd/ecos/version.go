package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{name: "version", summary: "print the build version", run: func(_ context.Context, io stdio, args []string) error {
		v := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		fmt.Fprintf(io.out, "ecos %s\n", v)
		return nil
	}}
}
