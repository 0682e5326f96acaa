package store

import "context"

// MigrateTo lets the external tests (which need internal/testkit, and so
// cannot live in package store) stop the schema at an older version.
func (db *DB) MigrateTo(ctx context.Context, version int64) error { return db.migrateTo(ctx, version) }

// MigrateDownTo undoes migrations down to version.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
