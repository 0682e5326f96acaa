-- The migration orchestrator (product.md §5): waves, the device's place in
-- one, when a device waiting to retry may go again, and the party's own
-- commands (mode 6 migrations and CS02a read-backs).

-- +goose Up
-- A wave is a filter over the inventory with its limits. Its devices are
-- those whose migration_wave names it; it takes matching tcos (and
-- unknown) devices as it goes.
CREATE TABLE migration_waves (
    wave_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    filter        TEXT    NOT NULL, -- JSON of the filter, as the operator gave it
    rate          DOUBLE PRECISION NOT NULL CHECK (rate >= 0), -- devices per second; 0: no limit
    concurrency   INTEGER NOT NULL CHECK (concurrency > 0),
    state         TEXT    NOT NULL CHECK (state IN ('running', 'paused', 'done', 'cancelled')),
    reason        TEXT    NOT NULL DEFAULT '', -- why it is paused or ended
    created_at_us INTEGER NOT NULL,
    updated_at_us INTEGER NOT NULL
);

ALTER TABLE devices ADD COLUMN migration_wave INTEGER REFERENCES migration_waves (wave_id);
-- retry-wait: the device goes again no earlier than this.
ALTER TABLE devices ADD COLUMN migration_due_us INTEGER;
CREATE INDEX devices_migration_wave ON devices (migration_wave, migration_state, device_eui)
    WHERE migration_wave IS NOT NULL;

-- The party's own commands. The counter comes from the one "cos"
-- namespace the 6.23 commands use, so (device, counter) is unique across
-- both logs. What was signed is kept as its SHA-256: the bytes are a pure
-- function of kind, key, device and counter (and the configured ECoS
-- certificate), and a million copies of the same certificate would be
-- most of the database.
CREATE TABLE migration_commands (
    device_eui     BLOB NOT NULL REFERENCES devices (device_eui),
    counter        INTEGER NOT NULL CHECK (counter > 0),
    kind           TEXT    NOT NULL CHECK (kind IN ('migrate', 'readback')),
    key_id         TEXT    NOT NULL,
    wave_id        INTEGER REFERENCES migration_waves (wave_id),
    tbs_sha256     BLOB NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('intent', 'sent', 'answered', 'failed')),
    outcome        TEXT    NOT NULL DEFAULT '',
    response       BLOB,
    created_at_us  INTEGER NOT NULL,
    sent_at_us     INTEGER,
    settled_at_us  INTEGER,
    PRIMARY KEY (device_eui, counter)
) WITHOUT ROWID;
-- A start counts the last day's commands again against the DCC-wide
-- anomaly thresholds.
CREATE INDEX migration_commands_created ON migration_commands (created_at_us);
-- One command in flight per device, whatever the code above does: a
-- device accepts a counter only above the last it saw, so two commands
-- racing to it could make it refuse one. Recovery reads the commands a
-- crash left open through this index too.
CREATE UNIQUE INDEX migration_commands_open ON migration_commands (device_eui) WHERE state IN ('intent', 'sent');

-- +goose Down
DROP TABLE migration_commands;
DROP INDEX devices_migration_wave;
ALTER TABLE devices DROP COLUMN migration_due_us;
ALTER TABLE devices DROP COLUMN migration_wave;
DROP TABLE migration_waves;
