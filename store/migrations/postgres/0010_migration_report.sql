-- The migration reports (docs/migration-reports.md) count moves per day
-- and state, and the first move of each state: one range of this index
-- per state, whatever the length of the history.

-- +goose Up
CREATE INDEX migration_history_to ON migration_history (to_state, at_us);

-- +goose Down
DROP INDEX migration_history_to;
