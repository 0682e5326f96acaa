-- The MPID reports (docs/mpid-reports.md) count a month's 6.23 outcomes
-- per day, party, expected MPID, signing certificate and outcome: one
-- range of this index, holding every column they read, and only the
-- requests that reached step 8 (an outcome recorded).

-- +goose Up
CREATE INDEX requests_mpid ON requests (received_at_us, party_id, mpid_expected, signer_serial, mpid_outcome)
    WHERE mpid_outcome <> '';

-- +goose Down
DROP INDEX requests_mpid;
