-- Version 14: which replica works on an unfinished sub-job, and until when (real time, ms).
-- One process serves a SQLite store, so its engine takes no leases; the table is here so both
-- stores have the same versions and the claim behaves the same on both (the conformance suite).
CREATE TABLE sub_job_leases (
    sub_job_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX sub_job_leases_by_owner ON sub_job_leases(owner);
