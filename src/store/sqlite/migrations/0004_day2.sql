-- Day-2 operations: server history, scheduled deletions, scheduled events, launch templates.

-- What happened to a server without a job (password resets, kernel dumps, console and
-- monitoring switches): its console log and its serial-console switch are read from it.
CREATE TABLE server_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL
);
CREATE INDEX server_events_by_server ON server_events(server_id, seq);
-- A server's console log reads its sub-jobs.
CREATE INDEX sub_jobs_by_server ON sub_jobs(server_id);

-- A scheduled deletion: pending (job_id NULL) until the clock reaches at_ms, then its job.
CREATE TABLE auto_terminations (
    server_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    job_id TEXT
);
CREATE INDEX auto_terminations_due ON auto_terminations(at_ms) WHERE job_id IS NULL;

-- The whole event is `doc` (JSON); due_ms repeats when a waiting scheduled event runs.
CREATE TABLE scheduled_events (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    publish_ms INTEGER NOT NULL,
    due_ms INTEGER,
    doc TEXT NOT NULL
);
CREATE INDEX scheduled_events_by_project ON scheduled_events(project_id, publish_ms, id);
CREATE INDEX scheduled_events_due ON scheduled_events(due_ms) WHERE due_ms IS NOT NULL;

CREATE TABLE launch_templates (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE launch_template_versions (
    id TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    version_number INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (template_id, version_number)
);

-- A deleted server takes its history and its pending deletion with it; a deletion whose job
-- started stays, so its job can be found.
CREATE TRIGGER lifecycle_on_server_delete AFTER DELETE ON servers BEGIN
    DELETE FROM server_events WHERE server_id = OLD.id;
    DELETE FROM auto_terminations WHERE server_id = OLD.id AND job_id IS NULL;
END;

CREATE TABLE snapshot_server_events AS SELECT '' AS snapshot, * FROM server_events WHERE 0;
CREATE TABLE snapshot_auto_terminations AS SELECT '' AS snapshot, * FROM auto_terminations WHERE 0;
CREATE TABLE snapshot_scheduled_events AS SELECT '' AS snapshot, * FROM scheduled_events WHERE 0;
CREATE TABLE snapshot_launch_templates AS SELECT '' AS snapshot, * FROM launch_templates WHERE 0;
CREATE TABLE snapshot_launch_template_versions AS SELECT '' AS snapshot, * FROM launch_template_versions WHERE 0;
CREATE INDEX snapshot_server_events_by_name ON snapshot_server_events(snapshot);
CREATE INDEX snapshot_auto_terminations_by_name ON snapshot_auto_terminations(snapshot);
CREATE INDEX snapshot_scheduled_events_by_name ON snapshot_scheduled_events(snapshot);
CREATE INDEX snapshot_launch_templates_by_name ON snapshot_launch_templates(snapshot);
CREATE INDEX snapshot_launch_template_versions_by_name ON snapshot_launch_template_versions(snapshot);
