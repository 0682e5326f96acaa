-- Reference data: the party registry, the device inventory and registration
-- data. EUI-64s are 8-byte bytea (compact keys for 10^7 devices); times are
-- BIGINT microseconds since the Unix epoch, UTC, in both dialects, so the
-- same queries compare them the same way.

-- +goose Up
CREATE TABLE parties (
    party_id TEXT NOT NULL PRIMARY KEY,
    name     TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('active', 'suspended'))
);

-- A DCC User ID (EUI-64) belongs to one party and acts in one User Role.
CREATE TABLE party_users (
    user_eui BYTEA NOT NULL PRIMARY KEY CHECK (length(user_eui) = 8),
    party_id TEXT  NOT NULL REFERENCES parties (party_id),
    role     TEXT  NOT NULL
);
CREATE INDEX party_users_party ON party_users (party_id);

CREATE TABLE party_mpids (
    party_id TEXT NOT NULL REFERENCES parties (party_id),
    mpid     TEXT NOT NULL,
    PRIMARY KEY (party_id, mpid)
);

CREATE TABLE devices (
    device_eui     BYTEA NOT NULL PRIMARY KEY CHECK (length(device_eui) = 8),
    device_type    TEXT  NOT NULL CHECK (device_type IN ('ESME', 'GSME')),
    smi_status     TEXT  NOT NULL,
    cos_credential TEXT  NOT NULL CHECK (cos_credential IN ('tcos', 'ecos', 'unknown')),
    cos_ski        BYTEA
);

-- One row per registration period of an MPxN. effective_from is inclusive,
-- effective_to exclusive (NULL: open-ended).
CREATE TABLE registrations (
    mpxn              TEXT   NOT NULL,
    effective_from_us BIGINT NOT NULL,
    effective_to_us   BIGINT,
    supplier_party_id TEXT   NOT NULL REFERENCES parties (party_id),
    mpid              TEXT   NOT NULL,
    device_eui        BYTEA REFERENCES devices (device_eui),
    PRIMARY KEY (mpxn, effective_from_us),
    CHECK (effective_to_us IS NULL OR effective_to_us > effective_from_us)
);
CREATE INDEX registrations_device ON registrations (device_eui);
CREATE INDEX registrations_supplier ON registrations (supplier_party_id);

-- +goose Down
DROP TABLE registrations;
DROP TABLE devices;
DROP TABLE party_mpids;
DROP TABLE party_users;
DROP TABLE parties;
