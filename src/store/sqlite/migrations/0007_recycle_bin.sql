-- The recycle bin: each project's settings, and the servers in it (their rows stay in servers).
CREATE TABLE recycle_bins (
    project_id TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    retention_hours INTEGER NOT NULL,
    threshold_days INTEGER NOT NULL
);

-- A server in the bin until purge_ms; job_id once its purge (a delete job) started.
CREATE TABLE recycled_servers (
    server_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    recycled_ms INTEGER NOT NULL,
    purge_ms INTEGER NOT NULL,
    job_id TEXT
);
CREATE INDEX recycled_servers_by_project ON recycled_servers(project_id);
CREATE INDEX recycled_servers_due ON recycled_servers(purge_ms) WHERE job_id IS NULL;

CREATE TRIGGER recycled_on_server_delete AFTER DELETE ON servers BEGIN
    DELETE FROM recycled_servers WHERE server_id = OLD.id;
END;

CREATE TABLE snapshot_recycle_bins AS SELECT '' AS snapshot, * FROM recycle_bins WHERE 0;
CREATE TABLE snapshot_recycled_servers AS SELECT '' AS snapshot, * FROM recycled_servers WHERE 0;
CREATE INDEX snapshot_recycle_bins_by_name ON snapshot_recycle_bins(snapshot);
CREATE INDEX snapshot_recycled_servers_by_name ON snapshot_recycled_servers(snapshot);
