-- Anomaly detection (product.md §4): requests held by a quarantine, the
-- holds themselves, and every ADT file accepted. uint64 identifiers
-- (QuarantineEventRef, ADT sequence number) are 8-byte big-endian BYTEA like
-- request counters, so < still orders them; thresholds and counts are
-- BIGINT, which every value a hold can record fits (store refuses larger).

-- +goose Up
-- A held request is in state 'quarantined' until it is released (to
-- 'authorised') or deleted or expired (to 'rejected'). It is not final and
-- not in requests_unfinished: recovery must leave held requests alone.
-- One ALTER, so the table is scanned once to check the new constraint.
ALTER TABLE requests DROP CONSTRAINT requests_state_check,
    ADD CONSTRAINT requests_state_check CHECK (state IN
        ('received', 'rejected', 'authorised', 'quarantined', 'signed', 'sent', 'responded', 'failed'));
-- After a restart the threshold windows are rebuilt from the last day's
-- requests (AdmittedSince); without this that is a scan of every request
-- ever received.
CREATE INDEX requests_received ON requests (received_at_us);

-- One row per ADT file accepted, kept whole: the file in force for a User
-- is its newest, and the bytes are what the User signed. A legacy file
-- (no sequence number) is stored with sequence 0.
CREATE TABLE adt_files (
    user_eui       BYTEA NOT NULL CHECK (length(user_eui) = 8),
    sequence       BYTEA NOT NULL CHECK (length(sequence) = 8),
    is_legacy      INTEGER NOT NULL CHECK (is_legacy IN (0, 1)),
    document       BYTEA NOT NULL,
    accepted_at_us BIGINT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_eui, sequence),
    CHECK (is_legacy = 0 OR sequence = '\x0000000000000000'::bytea)
);

-- One row per QuarantineEventRef: which request is held, the threshold it
-- crossed, and what became of it. decided_by says who decided:
-- "operator:<name>", "action-file:<sha256 prefix>" or "expiry".
CREATE TABLE quarantine (
    ref                  BYTEA NOT NULL PRIMARY KEY CHECK (length(ref) = 8),
    originator_eui       BYTEA NOT NULL,
    target_eui           BYTEA NOT NULL,
    counter              BYTEA NOT NULL,
    user_eui             BYTEA NOT NULL CHECK (length(user_eui) = 8),
    party_id             TEXT NOT NULL,
    srv                  TEXT NOT NULL,
    breach               TEXT NOT NULL CHECK (breach IN ('user', 'dcc')),
    interval_minutes     BIGINT NOT NULL CHECK (interval_minutes > 0),
    warning_threshold    BIGINT NOT NULL CHECK (warning_threshold >= 0),
    quarantine_threshold BIGINT NOT NULL CHECK (quarantine_threshold >= 0),
    window_count         BIGINT NOT NULL CHECK (window_count >= 0),
    state                TEXT NOT NULL CHECK (state IN ('held', 'released', 'deleted', 'expired')),
    held_at_us           BIGINT NOT NULL,
    expires_at_us        BIGINT NOT NULL,
    decided_at_us        BIGINT,
    decided_by           TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (originator_eui, target_eui, counter)
        REFERENCES requests (originator_eui, target_eui, counter),
    -- A request is held once at most: release and deletion are final.
    UNIQUE (originator_eui, target_eui, counter),
    CHECK ((state = 'held') = (decided_at_us IS NULL))
);
-- The expiry sweep reads only what is still held.
CREATE INDEX quarantine_expiry ON quarantine (expires_at_us) WHERE state = 'held';
-- Per-User reports and a User's own action files page by ref.
CREATE INDEX quarantine_user ON quarantine (user_eui, ref);

-- +goose Down
-- Fails while any request is still quarantined: 0004 has no word for them.
DROP TABLE quarantine;
DROP TABLE adt_files;
DROP INDEX requests_received;
ALTER TABLE requests DROP CONSTRAINT requests_state_check,
    ADD CONSTRAINT requests_state_check CHECK (state IN
        ('received', 'rejected', 'authorised', 'signed', 'sent', 'responded', 'failed'));
