-- DUIS requests that passed signature verification, and the replay guard.
-- Request counters are uint64 (DUIS allows up to 2^64-1), which neither
-- dialect's integer holds, so they are 8-byte big-endian BLOB: byte order is
-- numeric order, so < compares them correctly in SQL.

-- +goose Up
-- The last accepted counter per (originator, target). Kept apart from
-- requests so that requests can be archived without reopening replays.
CREATE TABLE request_counters (
    originator_eui BLOB NOT NULL CHECK (length(originator_eui) = 8),
    target_eui     BLOB NOT NULL CHECK (length(target_eui) = 8),
    last_counter   BLOB NOT NULL CHECK (length(last_counter) = 8),
    PRIMARY KEY (originator_eui, target_eui)
) WITHOUT ROWID;

CREATE TABLE requests (
    originator_eui BLOB NOT NULL CHECK (length(originator_eui) = 8),
    target_eui     BLOB NOT NULL CHECK (length(target_eui) = 8),
    counter        BLOB NOT NULL CHECK (length(counter) = 8),
    received_at_us INTEGER NOT NULL,
    updated_at_us  INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN
        ('received', 'rejected', 'authorised', 'signed', 'sent', 'responded', 'failed')),
    reason         TEXT NOT NULL DEFAULT '',
    response_code  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (originator_eui, target_eui, counter)
) WITHOUT ROWID;
-- Recovery after a crash walks the requests not yet in a final state; the
-- partial index keeps that walk proportional to the work in flight.
CREATE INDEX requests_unfinished ON requests (received_at_us)
    WHERE state IN ('received', 'authorised', 'signed', 'sent');

-- +goose Down
DROP TABLE requests;
DROP TABLE request_counters;
