package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// postgresConns bounds one DB's connections. Several workers share one
// server whose max_connections defaults to 100.
const postgresConns = 16

func openPostgres(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.DSN == "" {
		return nil, errors.New("store: postgres DSN is empty")
	}
	p, err := sql.Open("pgx", cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	p.SetMaxOpenConns(postgresConns)
	p.SetMaxIdleConns(postgresConns)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	return &DB{
		cfg: cfg,
		d: dialect{
			name:      DriverPostgres,
			numbered:  true,
			maxParams: 65535,                                                        // the protocol's 16-bit parameter count
			isUnique:  func(err error) bool { return postgresCode(err) == "23505" }, // unique_violation
			uniqueKey: func(err error) string {
				if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "23505" {
					return pe.ConstraintName
				}
				return ""
			},
			isForeignKey: func(err error) bool {
				return postgresCode(err) == "23503" // foreign_key_violation
			},
		},
		w: p,
		r: p,
	}, nil
}

// postgresCode is the SQLSTATE of a PostgreSQL error, or "".
func postgresCode(err error) string {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code
	}
	return ""
}
