-- The audit trail, version 10: calls, job and sub-job transitions, fault rules that fired.
-- AUTOINCREMENT: an id is never given twice, even after the newest records are trimmed,
-- reset or put back by a snapshot, so a stream resumed by `Last-Event-ID` never skips one.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    clock_ms INTEGER NOT NULL,
    operation TEXT NOT NULL,
    request_id TEXT,
    caller TEXT,
    -- A JSON array of server ids.
    server_ids TEXT NOT NULL,
    job_id TEXT,
    sub_job_id TEXT,
    -- A call's HTTP status, or else a job's status or a fault rule's effect.
    http_status INTEGER,
    status TEXT,
    code TEXT,
    message TEXT
);
CREATE INDEX audit_events_by_project ON audit_events(project_id, id);
CREATE INDEX audit_events_by_job ON audit_events(job_id) WHERE job_id IS NOT NULL;
CREATE INDEX audit_events_by_time ON audit_events(time_ms);

CREATE TABLE snapshot_audit_events AS SELECT '' AS snapshot, * FROM audit_events WHERE 0;
CREATE INDEX snapshot_audit_events_by_name ON snapshot_audit_events(snapshot);
