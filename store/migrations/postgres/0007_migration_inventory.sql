-- The migration inventory and the per-device TCoS → ECoS state machine
-- (product.md §5). The inventory extends devices, so that cos_credential
-- stays the one place the 6.23 pipeline and the migration both read "which
-- key does this device trust". migration_state is where the device is in
-- its migration; in the resting states tcos, ecos and unknown it equals
-- cos_credential, and a transition into one of them sets both in one
-- statement. migration_seq counts the device's transitions: 0 means the
-- state came from an import and an import may still replace it; above 0
-- the state machine owns state and credential.

-- +goose Up
ALTER TABLE devices ADD COLUMN manufacturer TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN firmware TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN mpxn TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN responsible_party_id TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN installed_us BIGINT;
ALTER TABLE devices ADD COLUMN migration_state TEXT NOT NULL DEFAULT 'tcos'
    CHECK (migration_state IN ('tcos', 'queued', 'sent', 'ecos', 'retry-wait', 'unknown', 'exception', 'excluded'));
ALTER TABLE devices ADD COLUMN migration_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN migration_attempt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN migration_since_us BIGINT;
UPDATE devices SET migration_state = cos_credential;
-- The orchestrator takes the next devices of a state in EUI order.
CREATE INDEX devices_migration_state ON devices (migration_state, device_eui);

-- One row per transition, in the device's order (seq 1, 2, …).
CREATE TABLE migration_history (
    device_eui BYTEA   NOT NULL REFERENCES devices (device_eui),
    seq        BIGINT NOT NULL,
    at_us      BIGINT NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    cause      TEXT    NOT NULL,
    attempt    BIGINT NOT NULL,
    counter    BIGINT,
    PRIMARY KEY (device_eui, seq)
);

-- +goose Down
DROP TABLE migration_history;
DROP INDEX devices_migration_state;
ALTER TABLE devices DROP COLUMN migration_since_us;
ALTER TABLE devices DROP COLUMN migration_attempt;
ALTER TABLE devices DROP COLUMN migration_seq;
ALTER TABLE devices DROP COLUMN migration_state;
ALTER TABLE devices DROP COLUMN installed_us;
ALTER TABLE devices DROP COLUMN responsible_party_id;
ALTER TABLE devices DROP COLUMN mpxn;
ALTER TABLE devices DROP COLUMN firmware;
ALTER TABLE devices DROP COLUMN model;
ALTER TABLE devices DROP COLUMN manufacturer;
