package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one tree per dialect, migrations/{sqlite,postgres}/
// NNNN_name.sql, with the same file names in both: version N is the same
// logical change in each (TestMigrationTreesMatch, TestSchemaParity).
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Migrate brings the schema up to the newest version this binary carries.
// Each migration runs in its own transaction. On PostgreSQL a session
// advisory lock serialises concurrent callers, so every worker may call it
// at startup; on SQLite call it from one process at a time.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// migrateTo brings the schema up to version and no further, so a test can
// fill a database as an older binary left it before migrating the rest.
func (db *DB) migrateTo(ctx context.Context, version int64) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("store: migrate to %d: %w", version, err)
	}
	return nil
}

// SchemaVersion is the newest migration applied to the database (0 for an
// empty one) and the newest this binary carries. A worker can refuse to
// run when they differ.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := db.migrator()
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: schema version: %w", err)
	}
	return current, latest, nil
}

func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	// No global registry: goose's package-level state stays untouched.
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if db.d.name == DriverPostgres {
		dialect = goose.DialectPostgres
		// Poll the lock every second (goose's floor) for up to 5 minutes:
		// a worker waiting for another's migration starts soon after it.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.w, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Pending names the migrations this binary carries that the database has
// not had ("0006_name.sql"), oldest first. Like SchemaVersion it writes
// nothing, so it is safe on a database another process is serving.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	current, _, err := p.GetVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: schema version: %w", err)
	}
	var names []string
	for _, s := range p.ListSources() {
		if s.Version > current {
			names = append(names, path.Base(s.Path))
		}
	}
	return names, nil
}
