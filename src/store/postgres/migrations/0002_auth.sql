-- Access keys and tokens, version 2.
CREATE TABLE access_keys (
    access_key TEXT PRIMARY KEY,
    -- Kept as configured: verifying an HMAC signature needs the key itself.
    secret_key TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects(id),
    description TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);

-- IAM tokens, stored as SHA-256 of the token: a copy of the database grants nothing.
CREATE TABLE tokens (
    token_sha256 TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
