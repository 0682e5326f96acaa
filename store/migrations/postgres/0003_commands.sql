-- The CoS Party's originator counters and its command log. A command row is
-- written (state 'intent', with the bytes to be signed) before the key is
-- used, so a crash leaves a record of every counter that might have been
-- signed (style.md C3).

-- +goose Up
-- One row per counter namespace; value is the last counter handed out.
CREATE TABLE counters (
    name  TEXT NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL CHECK (value >= 0)
);

CREATE TABLE commands (
    command_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The DUIS request this command serves; NULL for the party's own
    -- commands (migration).
    req_originator_eui BYTEA,
    req_target_eui     BYTEA,
    req_counter        BYTEA,
    device_eui      BYTEA NOT NULL CHECK (length(device_eui) = 8),
    counter         BIGINT NOT NULL CHECK (counter >= 0),
    key_id          TEXT NOT NULL,
    tbs             BYTEA NOT NULL,
    frame           BYTEA,
    response        BYTEA,
    outcome         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('intent', 'signed', 'sent', 'responded', 'failed')),
    created_at_us   BIGINT NOT NULL,
    signed_at_us    BIGINT,
    sent_at_us      BIGINT,
    responded_at_us BIGINT,
    updated_at_us   BIGINT NOT NULL,
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
