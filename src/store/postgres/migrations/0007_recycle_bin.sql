-- The recycle bin: each project's settings, and the servers in it (their rows stay in servers).
CREATE TABLE recycle_bins (
    project_id TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    retention_hours BIGINT NOT NULL,
    threshold_days BIGINT NOT NULL
);

-- A server in the bin until purge_ms; job_id once its purge (a delete job) started.
CREATE TABLE recycled_servers (
    server_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    recycled_ms BIGINT NOT NULL,
    purge_ms BIGINT NOT NULL,
    job_id TEXT
);
CREATE INDEX recycled_servers_by_project ON recycled_servers(project_id);
CREATE INDEX recycled_servers_due ON recycled_servers(purge_ms) WHERE job_id IS NULL;

CREATE FUNCTION recycled_on_server_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM recycled_servers WHERE server_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER recycled_on_server_delete AFTER DELETE ON servers FOR EACH ROW
    EXECUTE FUNCTION recycled_on_server_delete();

CREATE TABLE snapshot_recycle_bins (snapshot TEXT NOT NULL, LIKE recycle_bins);
CREATE TABLE snapshot_recycled_servers (snapshot TEXT NOT NULL, LIKE recycled_servers);
CREATE INDEX snapshot_recycle_bins_by_name ON snapshot_recycle_bins(snapshot);
CREATE INDEX snapshot_recycled_servers_by_name ON snapshot_recycled_servers(snapshot);
