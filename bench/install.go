package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/store"
)

// install makes a fresh demo installation of devices meters in dir (a
// temporary directory when ""), on SQLite or, with postgres set, in a
// database of its own on that server, and returns its configuration and
// its directory, and what removes it all.
func install(ctx context.Context, dir, postgres string, devices int) (_ *config.Config, _ string, cleanup func(), err error) {
	var undo []func()
	undoAll := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	// A failure returns a nil cleanup: what was made is removed here.
	defer func() {
		if err != nil {
			undoAll()
		}
	}()
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ecos-bench-"); err != nil {
			return nil, "", nil, err
		}
		undo = append(undo, func() { os.RemoveAll(dir) })
	}
	demo := demoworld.InstallOptions{Devices: devices}
	if postgres != "" {
		dbCfg, drop, err := store.CreatePostgresDatabase(ctx, postgres, "ecos_bench_"+strings.ToLower(rand.Text()[:12]))
		if err != nil {
			return nil, "", nil, fmt.Errorf("bench: %w", err)
		}
		undo = append(undo, func() { drop(context.WithoutCancel(ctx)) })
		demo.Database = dbCfg
	}
	cfgPath, err := demoworld.Install(ctx, dir, demo)
	if err != nil {
		return nil, "", nil, err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, "", nil, err
	}
	return cfg, dir, undoAll, nil
}
