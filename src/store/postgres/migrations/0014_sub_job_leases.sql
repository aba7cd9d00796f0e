-- Version 14: which replica works on an unfinished sub-job, and until when (real time, ms):
-- replicas sharing the store claim due work with a lease, renew it while they work, and take
-- over what an expired lease left. Not part of snapshots: a lease belongs to a running
-- process, not to the state.
CREATE TABLE sub_job_leases (
    sub_job_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sub_job_leases_by_owner ON sub_job_leases(owner);
