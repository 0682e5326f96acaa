-- Anomaly detection (product.md §4): requests held by a quarantine, the
-- holds themselves, and every ADT file accepted. uint64 identifiers
-- (QuarantineEventRef, ADT sequence number) are 8-byte big-endian BLOB like
-- request counters, so < still orders them; thresholds and counts are
-- INTEGER, which every value a hold can record fits (store refuses larger).

-- +goose Up
-- A held request is in state 'quarantined' until it is released (to
-- 'authorised') or deleted or expired (to 'rejected'). It is not final and
-- not in requests_unfinished: recovery must leave held requests alone.
--
-- SQLite cannot alter a CHECK, so requests is rebuilt. commands and
-- responses refer to it and foreign keys are on, so the rebuild runs with
-- the checks deferred to COMMIT: dropping requests counts one violation per
-- referring row, and re-inserting each request takes its rows' back off, so
-- the COMMIT fails (and everything rolls back) unless every reference
-- resolves again. A copy and re-insert rather than the usual create-new-and-
-- rename: renaming a table rewrites the references to it, and renaming the
-- new table into place would leave the count standing. The copy is the
-- whole table, documents included: budget the time and temporary space.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE requests_v4 AS SELECT * FROM requests;
DROP TABLE requests;
CREATE TABLE requests (
    originator_eui BLOB NOT NULL CHECK (length(originator_eui) = 8),
    target_eui     BLOB NOT NULL CHECK (length(target_eui) = 8),
    counter        BLOB NOT NULL CHECK (length(counter) = 8),
    received_at_us INTEGER NOT NULL,
    updated_at_us  INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN
        ('received', 'rejected', 'authorised', 'quarantined', 'signed', 'sent', 'responded', 'failed')),
    reason         TEXT NOT NULL DEFAULT '',
    response_code  TEXT NOT NULL DEFAULT '',
    document       BLOB,
    party_id       TEXT NOT NULL DEFAULT '',
    execute_at_us  INTEGER,
    is_cancel      INTEGER NOT NULL DEFAULT 0 CHECK (is_cancel IN (0, 1)),
    mpid_outcome   TEXT NOT NULL DEFAULT '' CHECK (mpid_outcome IN ('', 'S', 'I', 'M')),
    mpid_presented TEXT NOT NULL DEFAULT '',
    mpid_expected  TEXT NOT NULL DEFAULT '',
    signer_serial  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (originator_eui, target_eui, counter)
) WITHOUT ROWID;
INSERT INTO requests (originator_eui, target_eui, counter, received_at_us, updated_at_us, state, reason,
        response_code, document, party_id, execute_at_us, is_cancel, mpid_outcome, mpid_presented,
        mpid_expected, signer_serial)
    SELECT originator_eui, target_eui, counter, received_at_us, updated_at_us, state, reason,
        response_code, document, party_id, execute_at_us, is_cancel, mpid_outcome, mpid_presented,
        mpid_expected, signer_serial
    FROM temp.requests_v4;
DROP TABLE temp.requests_v4;
-- The indexes of 0002 and 0004, gone with the old table.
CREATE INDEX requests_unfinished ON requests (received_at_us)
    WHERE state IN ('received', 'authorised', 'signed', 'sent');
CREATE INDEX requests_future ON requests (target_eui, execute_at_us)
    WHERE execute_at_us IS NOT NULL AND is_cancel = 0;
-- After a restart the threshold windows are rebuilt from the last day's
-- requests (AdmittedSince); without this that is a scan of every request
-- ever received, documents and all.
CREATE INDEX requests_received ON requests (received_at_us);

-- One row per ADT file accepted, kept whole: the file in force for a User
-- is its newest, and the bytes are what the User signed. A legacy file
-- (no sequence number) is stored with sequence 0.
CREATE TABLE adt_files (
    user_eui       BLOB NOT NULL CHECK (length(user_eui) = 8),
    sequence       BLOB NOT NULL CHECK (length(sequence) = 8),
    is_legacy      INTEGER NOT NULL CHECK (is_legacy IN (0, 1)),
    document       BLOB NOT NULL,
    accepted_at_us INTEGER NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_eui, sequence),
    CHECK (is_legacy = 0 OR sequence = X'0000000000000000')
) WITHOUT ROWID;

-- One row per QuarantineEventRef: which request is held, the threshold it
-- crossed, and what became of it. decided_by says who decided:
-- "operator:<name>", "action-file:<sha256 prefix>" or "expiry".
CREATE TABLE quarantine (
    ref                  BLOB NOT NULL PRIMARY KEY CHECK (length(ref) = 8),
    originator_eui       BLOB NOT NULL,
    target_eui           BLOB NOT NULL,
    counter              BLOB NOT NULL,
    user_eui             BLOB NOT NULL CHECK (length(user_eui) = 8),
    party_id             TEXT NOT NULL,
    srv                  TEXT NOT NULL,
    breach               TEXT NOT NULL CHECK (breach IN ('user', 'dcc')),
    interval_minutes     INTEGER NOT NULL CHECK (interval_minutes > 0),
    warning_threshold    INTEGER NOT NULL CHECK (warning_threshold >= 0),
    quarantine_threshold INTEGER NOT NULL CHECK (quarantine_threshold >= 0),
    window_count         INTEGER NOT NULL CHECK (window_count >= 0),
    state                TEXT NOT NULL CHECK (state IN ('held', 'released', 'deleted', 'expired')),
    held_at_us           INTEGER NOT NULL,
    expires_at_us        INTEGER NOT NULL,
    decided_at_us        INTEGER,
    decided_by           TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (originator_eui, target_eui, counter)
        REFERENCES requests (originator_eui, target_eui, counter),
    -- A request is held once at most: release and deletion are final.
    UNIQUE (originator_eui, target_eui, counter),
    CHECK ((state = 'held') = (decided_at_us IS NULL))
) WITHOUT ROWID;
-- The expiry sweep reads only what is still held.
CREATE INDEX quarantine_expiry ON quarantine (expires_at_us) WHERE state = 'held';
-- Per-User reports and a User's own action files page by ref.
CREATE INDEX quarantine_user ON quarantine (user_eui, ref);

-- +goose Down
-- Back to 0004's CHECK by the same rebuild. Its INSERT fails, and the
-- downgrade with it, while any request is still quarantined: 0004 has no
-- word for them.
DROP TABLE quarantine;
DROP TABLE adt_files;
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE requests_v5 AS SELECT * FROM requests;
DROP TABLE requests;
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
    document       BLOB,
    party_id       TEXT NOT NULL DEFAULT '',
    execute_at_us  INTEGER,
    is_cancel      INTEGER NOT NULL DEFAULT 0 CHECK (is_cancel IN (0, 1)),
    mpid_outcome   TEXT NOT NULL DEFAULT '' CHECK (mpid_outcome IN ('', 'S', 'I', 'M')),
    mpid_presented TEXT NOT NULL DEFAULT '',
    mpid_expected  TEXT NOT NULL DEFAULT '',
    signer_serial  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (originator_eui, target_eui, counter)
) WITHOUT ROWID;
INSERT INTO requests (originator_eui, target_eui, counter, received_at_us, updated_at_us, state, reason,
        response_code, document, party_id, execute_at_us, is_cancel, mpid_outcome, mpid_presented,
        mpid_expected, signer_serial)
    SELECT originator_eui, target_eui, counter, received_at_us, updated_at_us, state, reason,
        response_code, document, party_id, execute_at_us, is_cancel, mpid_outcome, mpid_presented,
        mpid_expected, signer_serial
    FROM temp.requests_v5;
DROP TABLE temp.requests_v5;
CREATE INDEX requests_unfinished ON requests (received_at_us)
    WHERE state IN ('received', 'authorised', 'signed', 'sent');
CREATE INDEX requests_future ON requests (target_eui, execute_at_us)
    WHERE execute_at_us IS NOT NULL AND is_cancel = 0;
