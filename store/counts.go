package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Counts are how many rows the reference data and the request log hold,
// for the start summary and `ecos db status`.
type Counts struct {
	Parties       int `json:"parties"`
	Users         int `json:"users"`
	Devices       int `json:"devices"`
	Registrations int `json:"registrations"`
	Requests      int `json:"requests"`
}

// Count counts every table Counts names, in one snapshot.
func (db *DB) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		for _, t := range []struct {
			table string
			n     *int
		}{
			{"parties", &c.Parties}, {"party_users", &c.Users}, {"devices", &c.Devices},
			{"registrations", &c.Registrations}, {"requests", &c.Requests},
		} {
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+t.table).Scan(t.n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Counts{}, fmt.Errorf("store: count: %w", err)
	}
	return c, nil
}
