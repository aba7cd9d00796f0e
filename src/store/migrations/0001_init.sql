-- ecsd schema, version 1.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE servers (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    created_ns INTEGER NOT NULL,
    task_state TEXT,
    -- Reserved quota: the larger of the current and the target flavor while a resize runs.
    vcpus INTEGER NOT NULL,
    ram_mib INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX servers_by_project ON servers(project_id, created_ns DESC, id);

-- Private addresses in use, one row per NIC, so two servers never share one.
CREATE TABLE addresses (
    project_id TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    server_id TEXT NOT NULL,
    PRIMARY KEY (project_id, subnet_id, ip)
);
CREATE INDEX addresses_by_server ON addresses(server_id);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    begin_ms INTEGER NOT NULL,
    end_ms INTEGER,
    error_code TEXT,
    fail_reason TEXT,
    single_server INTEGER NOT NULL
);

CREATE TABLE sub_jobs (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    seq INTEGER NOT NULL,
    project_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    step INTEGER NOT NULL,
    begin_ms INTEGER NOT NULL,
    end_ms INTEGER,
    error_code TEXT,
    fail_reason TEXT,
    from_state TEXT NOT NULL
);
CREATE INDEX sub_jobs_by_job ON sub_jobs(job_id, seq);
CREATE INDEX sub_jobs_unfinished ON sub_jobs(status) WHERE status IN ('INIT', 'RUNNING');

-- X-Client-Token idempotency of create: the first answer, kept for 8 hours.
CREATE TABLE client_tokens (
    project_id TEXT NOT NULL,
    token TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    job_id TEXT NOT NULL,
    server_ids TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (project_id, token)
);
