package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/ecos-cos/ecos/refdata"
	"github.com/ecos-cos/ecos/store"
)

func dbCommand() *command {
	return &command{name: "db", summary: "manage the ecos database", subs: []*command{
		{name: "migrate", summary: "bring the database schema up to date", run: runDBMigrate},
	}}
}

func importCommand() *command {
	return &command{name: "import", summary: "load reference data from CSV (all or nothing)", subs: []*command{
		{name: "parties", summary: "parties, their DCC User IDs and MPIDs", run: runImport("parties")},
		{name: "devices", summary: "devices and the CoS credential each trusts", run: runImport("devices")},
		{name: "registrations", summary: "MPxN registrations: supplier, MPID, device, effective period", run: runImport("registrations")},
	}}
}

// dbFlag is the --db flag every database command takes: a SQLite file or a
// postgres:// URL.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "ecos.db", "the database: a SQLite file, or a postgres:// URL")
}

func openDB(ctx context.Context, dsn string) (*store.DB, error) {
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver = "postgres"
	}
	return store.Open(ctx, store.Config{Driver: driver, DSN: dsn})
}

func runDBMigrate(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos db migrate", "[--db DSN]")
	dsn := dbFlag(fs)
	err := parseNone(fs, args)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	before, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	after, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "schema at version %d (was %d)\n", after, before)
	return nil
}

func runImport(kind string) func(context.Context, stdio, []string) error {
	return func(ctx context.Context, std stdio, args []string) error {
		fs := newFlags(std, "ecos import "+kind, "[--db DSN] FILE.csv")
		dsn := dbFlag(fs)
		name, err := parseOne(fs, args, "FILE")
		if err != nil {
			return err
		}
		f, err := os.Open(name)
		if err != nil {
			return malformed(err)
		}
		defer f.Close()
		db, err := openDB(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		current, latest, err := db.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		if current != latest {
			return fmt.Errorf("database schema is at version %d, this ecos needs %d: run `ecos db migrate --db %s` first", current, latest, *dsn)
		}
		var n int
		var lines []int
		switch kind {
		case "parties":
			var ps []store.Party
			if ps, lines, err = refdata.Parties(name, f); err == nil {
				n, err = len(ps), db.ImportParties(ctx, ps)
			}
		case "devices":
			var ds []store.Device
			if ds, lines, err = refdata.Devices(name, f); err == nil {
				n, err = len(ds), db.ImportDevices(ctx, ds)
			}
		case "registrations":
			var rs []store.Registration
			if rs, lines, err = refdata.Registrations(name, f); err == nil {
				n, err = len(rs), db.ImportRegistrations(ctx, rs)
			}
		}
		if err != nil {
			if _, ok := errors.AsType[*refdata.Error](err); ok {
				return invalid(fmt.Errorf("%w\nnothing was imported", err))
			}
			if ie, ok := errors.AsType[*store.ImportError](err); ok && ie.Row >= 0 && ie.Row < len(lines) {
				return invalid(fmt.Errorf("%s: line %d: %v\nnothing was imported", name, lines[ie.Row], ie.Err))
			}
			return err
		}
		fmt.Fprintf(std.out, "imported %d %s from %s\n", n, kind, name)
		return nil
	}
}
