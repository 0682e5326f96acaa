-- What the 6.23 pipeline needs to answer a request and to recover after a
-- crash without asking the User again: the request as received, who sent
-- it and when it is to take effect; every response sent (or owed) to the
-- User; and the supplier each device was last changed to.

-- +goose Up
-- document is the request byte for byte as received: a signed document
-- does not survive being re-encoded. execute_at_us NULL: an immediate
-- request.
ALTER TABLE requests ADD COLUMN document BLOB;
ALTER TABLE requests ADD COLUMN party_id TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN execute_at_us INTEGER;
ALTER TABLE requests ADD COLUMN is_cancel INTEGER NOT NULL DEFAULT 0 CHECK (is_cancel IN (0, 1));
-- The MPID outcome of step 8 (product.md §3), kept with the request for
-- the MPID usage reports: '' when the request was refused before step 8.
ALTER TABLE requests ADD COLUMN mpid_outcome TEXT NOT NULL DEFAULT '' CHECK (mpid_outcome IN ('', 'S', 'I', 'M'));
ALTER TABLE requests ADD COLUMN mpid_presented TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN mpid_expected TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN signer_serial TEXT NOT NULL DEFAULT '';
-- FutureDatedSender asks which party has a future-dated request pending
-- for a device. Only future-dated requests are indexed, so the question
-- costs the same however many immediate requests the device has had.
CREATE INDEX requests_future ON requests (target_eui, execute_at_us)
    WHERE execute_at_us IS NOT NULL AND is_cancel = 0;

-- A response is written before it is pushed, in the transaction that moves
-- its request, so a crash between the two leaves it here to push again
-- rather than lost.
CREATE TABLE responses (
    response_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    originator_eui    BLOB NOT NULL,
    target_eui        BLOB NOT NULL,
    counter           BLOB NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('acknowledgement', 'response', 'alert')),
    response_code     TEXT NOT NULL,
    document          BLOB NOT NULL,
    created_at_us     INTEGER NOT NULL,
    pushed_at_us      INTEGER,
    push_attempts     INTEGER NOT NULL DEFAULT 0 CHECK (push_attempts >= 0),
    push_error        TEXT NOT NULL DEFAULT '',
    push_failed_at_us INTEGER,
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
ALTER TABLE devices ADD COLUMN supplier_party_id TEXT;
ALTER TABLE devices ADD COLUMN supplier_since_us INTEGER;

-- +goose Down
ALTER TABLE devices DROP COLUMN supplier_since_us;
ALTER TABLE devices DROP COLUMN supplier_party_id;
DROP TABLE responses;
DROP INDEX requests_future;
ALTER TABLE requests DROP COLUMN signer_serial;
ALTER TABLE requests DROP COLUMN mpid_expected;
ALTER TABLE requests DROP COLUMN mpid_presented;
ALTER TABLE requests DROP COLUMN mpid_outcome;
ALTER TABLE requests DROP COLUMN is_cancel;
ALTER TABLE requests DROP COLUMN execute_at_us;
ALTER TABLE requests DROP COLUMN party_id;
ALTER TABLE requests DROP COLUMN document;
