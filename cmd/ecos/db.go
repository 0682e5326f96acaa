package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/refdata"
	"github.com/ecos-cos/ecos/store"
)

func dbCommand() *command {
	return &command{name: "db", summary: "manage the ecos database", subs: []*command{
		{name: "migrate", summary: "bring the database schema up to date", run: runDBMigrate},
		{name: "status", summary: "schema version, pending migrations, the instance serving it, row counts", run: runDBStatus},
	}}
}

func importCommand() *command {
	return &command{name: "import", summary: "load reference data from CSV (all or nothing)", subs: []*command{
		{name: "parties", summary: "parties, their DCC User IDs and MPIDs", run: runImport("parties")},
		{name: "devices", summary: "devices and the CoS credential each trusts", run: runImport("devices")},
		{name: "registrations", summary: "MPxN registrations: supplier, MPID, device, effective period", run: runImport("registrations")},
		{name: "inventory", summary: "the migration inventory: devices, makes, suppliers, the CoS credential each trusts", run: runImportInventory},
	}}
}

// dbFlags are the flags every database command takes: the database as
// `ecos serve --config FILE` opens it, or named by --db.
type dbFlags struct {
	config *string
	dsn    *string
}

func newDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		config: fs.String("config", "", "open the database the configuration `FILE` names, as \"ecos serve --config\" does"),
		dsn:    fs.String("db", "", "the database, `DSN`: a SQLite file, or a postgres:// URL (default ecos.db, without --config)"),
	}
}

// open opens the database; only a migration may create a SQLite file.
func (f dbFlags) open(ctx context.Context, create bool) (*store.DB, error) {
	cfg, err := f.storeConfig()
	if err != nil {
		return nil, err
	}
	cfg.NoCreate = !create
	db, err := store.Open(ctx, cfg)
	if errors.Is(err, store.ErrNoDatabase) {
		return nil, fmt.Errorf("%w: create it with %s", err, f.migrateCommand())
	}
	return db, err
}

func (f dbFlags) storeConfig() (store.Config, error) {
	switch {
	case *f.config != "" && *f.dsn != "":
		return store.Config{}, usagef("--config and --db exclude each other")
	case *f.config != "":
		c, err := config.Load(*f.config)
		if err != nil {
			return store.Config{}, malformed(err)
		}
		dsn, err := c.DatabaseDSN()
		if err != nil {
			return store.Config{}, err
		}
		return store.Config{Driver: c.Database.Driver, DSN: dsn}, nil
	}
	dsn := *f.dsn
	if dsn == "" {
		dsn = config.DefaultSQLiteFile
	}
	driver := store.DriverSQLite
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver = store.DriverPostgres
	}
	return store.Config{Driver: driver, DSN: dsn}, nil
}

// openCurrent opens an existing database whose schema is this ecos's.
func (f dbFlags) openCurrent(ctx context.Context) (*store.DB, error) {
	db, err := f.open(ctx, false)
	if err != nil {
		return nil, err
	}
	current, latest, err := db.SchemaVersion(ctx)
	if err == nil && current != latest {
		err = fmt.Errorf("database schema is at version %d, this ecos needs %d: run %s first", current, latest, f.migrateCommand())
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// importInto opens the file an import reads and the database it writes:
// the file first, so a wrong name is said before any database is touched.
func (f dbFlags) importInto(ctx context.Context, name string) (*os.File, *store.DB, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, nil, malformed(err)
	}
	db, err := f.openCurrent(ctx)
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	return file, db, nil
}

// migrateCommand is the migration that goes with these flags, for advice.
func (f dbFlags) migrateCommand() string {
	switch {
	case *f.config != "":
		return "`ecos db migrate --config " + *f.config + "`"
	case *f.dsn != "":
		return "`ecos db migrate --db " + *f.dsn + "`"
	}
	return "`ecos db migrate`"
}

func runDBMigrate(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos db migrate", "")
	f := newDBFlags(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	db, err := f.open(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	// Not under a running instance: its statements were built for the
	// schema it started with.
	lock, err := db.LockInstance(ctx, store.Me(time.Now()), 0)
	if _, ok := errors.AsType[*store.LockedError](err); ok {
		return fmt.Errorf("%w: stop it before migrating", err)
	}
	if err != nil {
		return err
	}
	defer lock.Release()
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
		fs := newFlags(std, "ecos import "+kind, "FILE.csv")
		f := newDBFlags(fs)
		name, err := parseOne(fs, args, "FILE")
		if err != nil {
			return err
		}
		file, db, err := f.importInto(ctx, name)
		if err != nil {
			return err
		}
		defer file.Close()
		defer db.Close()
		var n int
		var lines []int
		switch kind {
		case "parties":
			var ps []store.Party
			if ps, lines, err = refdata.Parties(name, file); err == nil {
				n, err = len(ps), db.ImportParties(ctx, ps)
			}
		case "devices":
			var ds []store.Device
			if ds, lines, err = refdata.Devices(name, file); err == nil {
				n, err = len(ds), db.ImportDevices(ctx, ds)
			}
		case "registrations":
			var rs []store.Registration
			if rs, lines, err = refdata.Registrations(name, file); err == nil {
				n, err = len(rs), db.ImportRegistrations(ctx, rs)
			} else if re, ok := errors.AsType[*refdata.Error](err); ok && len(rs) > 0 {
				// The lines' own faults and the parties and devices that
				// are not stored, in one refusal.
				missing, _ := errors.AsType[*store.ImportErrors](db.MissingReferences(ctx, rs))
				err = withRows(re, lines, missing)
			}
		}
		if err != nil {
			return importRefusal(name, lines, err)
		}
		fmt.Fprintf(std.out, "imported %d %s from %s\n", n, kind, name)
		return nil
	}
}

// importRefusal names every line the parser or the store refused, each
// on its own line (refdata.Error's own text stops at 20).
func importRefusal(name string, lines []int, err error) error {
	if re, ok := errors.AsType[*refdata.Error](err); ok {
		return invalid(fmt.Errorf("%s\nnothing was imported", everyProblem(re)))
	}
	if ie, ok := errors.AsType[*store.ImportErrors](err); ok {
		return invalid(fmt.Errorf("%s\nnothing was imported", everyProblem(withRows(&refdata.Error{File: name}, lines, ie))))
	}
	if ie, ok := errors.AsType[*store.ImportError](err); ok && ie.Row >= 0 && ie.Row < len(lines) {
		return invalid(fmt.Errorf("%s: line %d: %v\nnothing was imported", name, lines[ie.Row], ie.Err))
	}
	return err
}

// withRows adds the store's refusals of rows (by index into lines) to a
// file's problems, in line order.
func withRows(re *refdata.Error, lines []int, ie *store.ImportErrors) *refdata.Error {
	return withRefusals(re, ie, func(row int) int {
		if row >= 0 && row < len(lines) {
			return lines[row]
		}
		return 0
	})
}

// withRefusals adds the store's refusals to a file's problems, in line
// order; line is the line of the row a refusal names.
func withRefusals(re *refdata.Error, ie *store.ImportErrors, line func(row int) int) *refdata.Error {
	if ie == nil {
		return re
	}
	out := &refdata.Error{File: re.File, Problems: slices.Clone(re.Problems)}
	for _, e := range ie.Rows {
		msg := e.Err.Error()
		for _, sentinel := range []error{store.ErrInvalid, store.ErrDuplicate} {
			msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
		}
		out.Problems = append(out.Problems, refdata.Problem{Line: line(e.Row), Msg: msg})
	}
	slices.SortStableFunc(out.Problems, func(a, b refdata.Problem) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// everyProblem is "FILE: N problem(s)" and every problem, one a line.
func everyProblem(re *refdata.Error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s)", re.File, len(re.Problems))
	for _, p := range re.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// dbStatus is what `ecos db status` reports.
type dbStatus struct {
	Database string        `json:"database"`
	Schema   int64         `json:"schema_version"`
	Latest   int64         `json:"latest_version"`
	Pending  []string      `json:"pending_migrations"`
	Holder   *store.Holder `json:"instance,omitempty"` // nil: no ecos serves it
	Counts   *store.Counts `json:"counts,omitempty"`   // nil: schema not current
}

func runDBStatus(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos db status", "")
	f := newDBFlags(fs)
	format := formatFlag(fs, "text", "json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	db, err := f.open(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	st := dbStatus{Database: db.Describe(ctx), Pending: []string{}}
	if st.Schema, st.Latest, err = db.SchemaVersion(ctx); err != nil {
		return err
	}
	pending, err := db.Pending(ctx)
	if err != nil {
		return err
	}
	st.Pending = append(st.Pending, pending...)
	h, held, err := db.InstanceHolder(ctx)
	if err != nil {
		return err
	}
	if held {
		st.Holder = &h
	}
	if st.Schema == st.Latest {
		n, err := db.Count(ctx)
		if err != nil {
			return err
		}
		st.Counts = &n
	}
	if format.value == "json" {
		return printJSON(std, st)
	}
	w := std.out
	fmt.Fprintf(w, "database:  %s\n", st.Database)
	fmt.Fprintf(w, "schema:    version %d of %d\n", st.Schema, st.Latest)
	if len(st.Pending) == 0 {
		fmt.Fprintf(w, "pending:   none\n")
	} else {
		fmt.Fprintf(w, "pending:   %s: run %s\n", strings.Join(st.Pending, ", "), f.migrateCommand())
	}
	switch {
	case st.Holder == nil:
		fmt.Fprintf(w, "instance:  none is serving it\n")
	case st.Holder.PID == 0:
		fmt.Fprintf(w, "instance:  held by a process that did not say who it is\n")
	default:
		fmt.Fprintf(w, "instance:  ecos %s\n", st.Holder)
	}
	if c := st.Counts; c != nil {
		fmt.Fprintf(w, "rows:      %d parties (%d users), %d devices, %d registrations, %d requests\n",
			c.Parties, c.Users, c.Devices, c.Registrations, c.Requests)
	}
	return nil
}
