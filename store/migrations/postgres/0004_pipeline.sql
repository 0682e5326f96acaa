-- What the 6.23 pipeline needs to answer a request and to recover after a
-- crash without asking the User again: the request as received, who sent
-- it and when it is to take effect; every response sent (or owed) to the
-- User; and the supplier each device was last changed to.

-- +goose Up
-- document is the request byte for byte as received: a signed document
-- does not survive being re-encoded. execute_at_us NULL: an immediate
-- request. is_cancel is an INTEGER, not a BOOLEAN, so both
-- dialects read it the same way.
ALTER TABLE requests
    ADD COLUMN document      BYTEA,
    ADD COLUMN party_id      TEXT NOT NULL DEFAULT '',
    ADD COLUMN execute_at_us BIGINT,
    ADD COLUMN is_cancel     INTEGER NOT NULL DEFAULT 0 CHECK (is_cancel IN (0, 1)),
    -- The MPID outcome of step 8 (product.md §3), kept with the request
    -- for the MPID usage reports: '' when refused before step 8.
    ADD COLUMN mpid_outcome   TEXT NOT NULL DEFAULT '' CHECK (mpid_outcome IN ('', 'S', 'I', 'M')),
    ADD COLUMN mpid_presented TEXT NOT NULL DEFAULT '',
    ADD COLUMN mpid_expected  TEXT NOT NULL DEFAULT '',
    ADD COLUMN signer_serial  TEXT NOT NULL DEFAULT '';
-- FutureDatedSender asks which party has a future-dated request pending
-- for a device. Only future-dated requests are indexed, so the question
-- costs the same however many immediate requests the device has had.
CREATE INDEX requests_future ON requests (target_eui, execute_at_us)
    WHERE execute_at_us IS NOT NULL AND is_cancel = 0;

-- A response is written before it is pushed, in the transaction that moves
-- its request, so a crash between the two leaves it here to push again
-- rather than lost.
CREATE TABLE responses (
    response_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    originator_eui    BYTEA NOT NULL,
    target_eui        BYTEA NOT NULL,
    counter           BYTEA NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('acknowledgement', 'response', 'alert')),
    response_code     TEXT NOT NULL,
    document          BYTEA NOT NULL,
    created_at_us     BIGINT NOT NULL,
    pushed_at_us      BIGINT,
    push_attempts     INTEGER NOT NULL DEFAULT 0 CHECK (push_attempts >= 0),
    push_error        TEXT NOT NULL DEFAULT '',
    push_failed_at_us BIGINT,
    FOREIGN KEY (originator_eui, target_eui, counter)
        REFERENCES requests (originator_eui, target_eui, counter)
);
CREATE INDEX responses_request ON responses (originator_eui, target_eui, counter);
-- The pusher walks what is still owed; the partial index stays as small as
-- that backlog however long the table grows.
CREATE INDEX responses_unpushed ON responses (response_id) WHERE pushed_at_us IS NULL;

-- The supplier a device was last changed to by this party's commands,
-- which can be ahead of the registration data. No reference to parties: it
-- records what was done, and must survive the party registry changing.
ALTER TABLE devices
    ADD COLUMN supplier_party_id TEXT,
    ADD COLUMN supplier_since_us BIGINT;

-- +goose Down
ALTER TABLE devices DROP COLUMN supplier_since_us, DROP COLUMN supplier_party_id;
DROP TABLE responses;
DROP INDEX requests_future;
ALTER TABLE requests DROP COLUMN signer_serial, DROP COLUMN mpid_expected, DROP COLUMN mpid_presented, DROP COLUMN mpid_outcome, DROP COLUMN is_cancel, DROP COLUMN execute_at_us, DROP COLUMN party_id, DROP COLUMN document;
