-- The MPID reports (docs/mpid-reports.md) count a month's 6.23 outcomes
-- per UTC day, party, expected MPID, signing certificate and outcome: one
-- range of this index, in the order they group (the day first, as the
-- same expression the report groups by, so nothing is sorted), holding
-- every column they read (received_at_us last, for that), and only the
-- requests that reached step 8 (an outcome recorded).

-- +goose Up
CREATE INDEX requests_mpid ON requests
    ((received_at_us / 86400000000), party_id, mpid_expected, signer_serial, mpid_outcome, received_at_us)
    WHERE mpid_outcome <> '';

-- +goose Down
DROP INDEX requests_mpid;
