-- ecsd schema, version 1 (PostgreSQL; the same versions as SQLite's, each its counterpart).
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- The whole server is `doc` (JSON); the other columns repeat what queries filter and sort on.
CREATE TABLE servers (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    created_ns BIGINT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    flavor_id TEXT NOT NULL,
    reservation_id TEXT NOT NULL,
    -- Every tag as "/key/" and "/key=value/" (slash-separated), so a tag filter is one strpos().
    tag_index TEXT NOT NULL,
    task_state TEXT,
    -- Reserved quota: the larger of the current and the target flavor while a resize runs.
    vcpus BIGINT NOT NULL,
    ram_mib BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX servers_by_project ON servers(project_id, created_ns DESC, id);

-- What each project uses, kept by triggers so quota checks and list counts read one row.
CREATE TABLE project_usage (
    project_id TEXT PRIMARY KEY,
    instances BIGINT NOT NULL,
    cores BIGINT NOT NULL,
    ram_mib BIGINT NOT NULL
);
CREATE FUNCTION usage_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO project_usage AS u (project_id, instances, cores, ram_mib) VALUES (NEW.project_id, 1, NEW.vcpus, NEW.ram_mib)
    ON CONFLICT (project_id) DO UPDATE SET
        instances = u.instances + 1, cores = u.cores + NEW.vcpus, ram_mib = u.ram_mib + NEW.ram_mib;
    RETURN NULL;
END $$;
CREATE TRIGGER usage_on_insert AFTER INSERT ON servers FOR EACH ROW EXECUTE FUNCTION usage_on_insert();
CREATE FUNCTION usage_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE project_usage SET instances = instances - 1, cores = cores - OLD.vcpus, ram_mib = ram_mib - OLD.ram_mib
    WHERE project_id = OLD.project_id;
    RETURN NULL;
END $$;
CREATE TRIGGER usage_on_delete AFTER DELETE ON servers FOR EACH ROW EXECUTE FUNCTION usage_on_delete();
CREATE FUNCTION usage_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE project_usage SET cores = cores - OLD.vcpus + NEW.vcpus, ram_mib = ram_mib - OLD.ram_mib + NEW.ram_mib
    WHERE project_id = NEW.project_id;
    RETURN NULL;
END $$;
CREATE TRIGGER usage_on_update AFTER UPDATE OF vcpus, ram_mib ON servers FOR EACH ROW
    WHEN (OLD.vcpus != NEW.vcpus OR OLD.ram_mib != NEW.ram_mib) EXECUTE FUNCTION usage_on_update();

-- Private addresses in use, one row per NIC, so two servers never share one.
CREATE TABLE addresses (
    project_id TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    server_id TEXT NOT NULL,
    PRIMARY KEY (project_id, subnet_id, ip)
);
CREATE INDEX addresses_by_server ON addresses(server_id);

-- Per project and subnet, an address below which every address is taken: where the search for
-- the lowest free addresses starts, so a create does not scan a full subnet.
CREATE TABLE address_hints (
    project_id TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    lowest_free BIGINT NOT NULL,
    PRIMARY KEY (project_id, subnet_id)
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    begin_ms BIGINT NOT NULL,
    end_ms BIGINT,
    error_code TEXT,
    fail_reason TEXT,
    single_server BOOLEAN NOT NULL
);

CREATE TABLE sub_jobs (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    seq BIGINT NOT NULL,
    project_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    step BIGINT NOT NULL,
    begin_ms BIGINT NOT NULL,
    end_ms BIGINT,
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
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (project_id, token)
);
