-- Version 15: what signing in needs to be the same on every replica sharing the store.
-- Failed authentications of a user (`user:<domain>/<name>`) or an access key (`key:<AK>`),
-- counted together whichever replica saw them, and until when (real time, ms) the lock they
-- led to lasts; a row exists only while there are failures to count.
CREATE TABLE auth_failures (
    who TEXT PRIMARY KEY,
    consecutive INTEGER NOT NULL,
    locked_until_ms INTEGER
);
-- The web console's sessions and one-time sign-in tokens, stored as SHA-256 of their secret
-- (256 random bits, for which a fast hash is enough: there is nothing to guess), so a copy of
-- the database opens nothing. Neither is part of snapshots: a session is a person's, not the
-- fleet's state.
CREATE TABLE console_sessions (
    secret_sha256 TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    access_key TEXT NOT NULL,
    admin INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    sign_in INTEGER NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_ms);
