-- A pusher reads the unpushed responses of each User that has a callback
-- of its own, one User at a time, and never those of a pull-only User:
-- however many of those wait, no pass of the pusher reads them.

-- +goose Up
CREATE INDEX responses_unpushed_by_user ON responses (originator_eui, response_id) WHERE pushed_at_us IS NULL;

-- +goose Down
DROP INDEX responses_unpushed_by_user;
