-- The dashboard (docs/dashboard.md) counts a window of whole UTC days of
-- requests by day, party and state, and the refused ones by reason: one
-- range of each index, holding every column read, so a page never reads
-- the requests' documents (a month of 6.23s is gigabytes of them);
-- received_at_us comes last because SQLite reads an index alone only
-- when it holds the columns its expressions use.
-- requests_refused is partial: a refusal is final, so its rows are
-- written once.

-- +goose Up
CREATE INDEX requests_dashboard ON requests ((received_at_us / 86400000000), party_id, state, received_at_us);
CREATE INDEX requests_refused ON requests ((received_at_us / 86400000000), party_id, reason, response_code, received_at_us)
    WHERE state = 'rejected';

-- +goose Down
DROP INDEX requests_refused;
DROP INDEX requests_dashboard;
