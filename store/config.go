package store

import (
	"context"
	"fmt"
)

// Drivers Config.Driver accepts.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Config says which database to use. It holds no secrets of its own: the
// caller (config package) reads the DSN from a file.
type Config struct {
	// Driver is "sqlite" (the default when empty) or "postgres".
	Driver string `json:"driver"`

	// DSN for SQLite is a file path ("ecos.db") or a "file:" URI; its query
	// parameters (modernc.org/sqlite's _pragma=…, _txlock=…) are applied
	// after store's defaults and so override them, e.g.
	// "file:ecos.db?_pragma=synchronous(NORMAL)" trades power-loss safety for
	// speed (see docs/storage.md). In-memory databases are refused: the
	// writer and reader pools would each get their own.
	//
	// DSN for PostgreSQL is anything pgx accepts, e.g.
	// "postgres://ecos@127.0.0.1:5432/ecos?sslmode=disable".
	DSN string `json:"dsn"`

	// NoCreate refuses a SQLite file that does not exist (ErrNoDatabase)
	// instead of creating an empty one: only a migration should make a
	// database, so a mistyped path fails at once and leaves nothing behind.
	NoCreate bool `json:"-"`
}

// Open connects to the database cfg names and checks it answers. It does
// not change the schema: call Migrate (from one process at a time on
// SQLite; concurrently is safe on PostgreSQL, where an advisory lock
// serialises it). Keeping schema changes explicit lets an operator run
// `ecos db upgrade` once before starting several workers, and lets a
// worker refuse to start against a schema it was not built for.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	switch cfg.Driver {
	case "", DriverSQLite:
		cfg.Driver = DriverSQLite
		return openSQLite(ctx, cfg)
	case DriverPostgres:
		return openPostgres(ctx, cfg)
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want %q or %q)", cfg.Driver, DriverSQLite, DriverPostgres)
	}
}
