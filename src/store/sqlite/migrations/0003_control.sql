-- Test control: fault rules, held sub-jobs, snapshots. Version 3.
CREATE TABLE fault_rules (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    doc TEXT NOT NULL
);

-- A sub-job held RUNNING by a `hang` fault rule until the rule is released.
ALTER TABLE sub_jobs ADD COLUMN held_by TEXT;

-- How far simulated time has been advanced, in milliseconds: time never moves back, not
-- even across a restart.
CREATE TABLE clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    advanced_ms INTEGER NOT NULL
);
INSERT INTO clock (id, advanced_ms) VALUES (1, 0);

CREATE TABLE snapshots (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL
);
CREATE TABLE snapshot_servers AS SELECT '' AS snapshot, * FROM servers WHERE 0;
CREATE TABLE snapshot_addresses AS SELECT '' AS snapshot, * FROM addresses WHERE 0;
CREATE TABLE snapshot_jobs AS SELECT '' AS snapshot, * FROM jobs WHERE 0;
CREATE TABLE snapshot_sub_jobs AS SELECT '' AS snapshot, * FROM sub_jobs WHERE 0;
CREATE TABLE snapshot_client_tokens AS SELECT '' AS snapshot, * FROM client_tokens WHERE 0;
CREATE INDEX snapshot_servers_by_name ON snapshot_servers(snapshot);
CREATE INDEX snapshot_addresses_by_name ON snapshot_addresses(snapshot);
CREATE INDEX snapshot_jobs_by_name ON snapshot_jobs(snapshot);
CREATE INDEX snapshot_sub_jobs_by_name ON snapshot_sub_jobs(snapshot);
CREATE INDEX snapshot_client_tokens_by_name ON snapshot_client_tokens(snapshot);
