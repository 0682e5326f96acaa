-- The CoS Party's originator counters and its command log. A command row is
-- written (state 'intent', with the bytes to be signed) before the key is
-- used, so a crash leaves a record of every counter that might have been
-- signed (style.md C3).

-- +goose Up
-- One row per counter namespace; value is the last counter handed out.
CREATE TABLE counters (
    name  TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL CHECK (value >= 0)
) WITHOUT ROWID;

CREATE TABLE commands (
    command_id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The DUIS request this command serves; NULL for the party's own
    -- commands (migration).
    req_originator_eui BLOB,
    req_target_eui     BLOB,
    req_counter        BLOB,
    device_eui      BLOB NOT NULL CHECK (length(device_eui) = 8),
    counter         INTEGER NOT NULL CHECK (counter >= 0),
    key_id          TEXT NOT NULL,
    tbs             BLOB NOT NULL,
    frame           BLOB,
    response        BLOB,
    outcome         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('intent', 'signed', 'sent', 'responded', 'failed')),
    created_at_us   INTEGER NOT NULL,
    signed_at_us    INTEGER,
    sent_at_us      INTEGER,
    responded_at_us INTEGER,
    updated_at_us   INTEGER NOT NULL,
    FOREIGN KEY (req_originator_eui, req_target_eui, req_counter)
        REFERENCES requests (originator_eui, target_eui, counter),
    -- Responses come back naming the device and our counter: that pair must
    -- find exactly one command.
    UNIQUE (device_eui, counter)
);
CREATE INDEX commands_request ON commands (req_originator_eui, req_target_eui, req_counter);
-- Crash recovery reads commands not yet sent; the partial index stays as
-- small as the work in flight however long the log grows.
CREATE INDEX commands_unsent ON commands (command_id) WHERE state IN ('intent', 'signed');

-- +goose Down
DROP TABLE commands;
DROP TABLE counters;
