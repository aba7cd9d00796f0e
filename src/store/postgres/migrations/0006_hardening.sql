-- Hardening, version 6.

-- An admin key's control calls may reach every project (the bootstrap credential, and keys
-- configured with `admin = true`).
ALTER TABLE access_keys ADD COLUMN admin BOOLEAN NOT NULL DEFAULT false;

-- The key of the X-Client-Token fingerprints (HMAC-SHA256), made once per store, so a stored
-- fingerprint cannot be checked against guessed request bodies without it. Two random UUIDs
-- (from the server's strong random source, built in since PostgreSQL 13) make its 32 bytes.
CREATE TABLE fingerprint_key (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    key BYTEA NOT NULL
);
INSERT INTO fingerprint_key (id, key)
    VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- Fingerprints written before were plain SHA-256 of the whole body, password included: they
-- are dropped. A retry of such a create now answers Ecs.0122 instead of creating again.
UPDATE client_tokens SET fingerprint = '';
UPDATE snapshot_client_tokens SET fingerprint = '';
