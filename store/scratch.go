package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

var databaseName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreatePostgresDatabase creates an empty database called name on the
// PostgreSQL server that serverDSN (a postgres:// URL whose user may
// create databases) reaches, and returns the Config that opens it and a
// function that drops it, ending any connection still open. Tests and
// benchmarks use it for a database of their own; nothing else should.
func CreatePostgresDatabase(ctx context.Context, serverDSN, name string) (Config, func(context.Context) error, error) {
	u, err := url.Parse(serverDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return Config{}, nil, fmt.Errorf("store: %q is not a postgres:// URL", serverDSN)
	}
	if !databaseName.MatchString(name) {
		return Config{}, nil, fmt.Errorf("store: %q is not a database name this creates (lower case, digits, _)", name)
	}
	admin, err := sql.Open("pgx", serverDSN)
	if err != nil {
		return Config{}, nil, fmt.Errorf("store: postgres server: %w", err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return Config{}, nil, errors.Join(fmt.Errorf("store: creating database %s: %w", name, err), admin.Close())
	}
	drop := func(ctx context.Context) error {
		_, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
		if err != nil {
			err = fmt.Errorf("store: dropping database %s: %w", name, err)
		}
		return errors.Join(err, admin.Close())
	}
	u.Path = "/" + name
	return Config{Driver: DriverPostgres, DSN: u.String()}, drop, nil
}
