-- Test control: fault rules, held sub-jobs, snapshots. Version 3.
CREATE TABLE fault_rules (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    doc TEXT NOT NULL
);

-- A sub-job held RUNNING by a `hang` fault rule until the rule is released.
ALTER TABLE sub_jobs ADD COLUMN held_by TEXT;

-- How far simulated time has been advanced, in milliseconds: time never moves back, not
-- even across a restart.
CREATE TABLE clock (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    advanced_ms BIGINT NOT NULL
);
INSERT INTO clock (id, advanced_ms) VALUES (1, 0);

-- Each snapshot table is its table's columns after a leading `snapshot` (LIKE copies the
-- columns, plain: no keys, defaults or generated expressions).
CREATE TABLE snapshots (
    name TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL
);
CREATE TABLE snapshot_servers (snapshot TEXT NOT NULL, LIKE servers);
CREATE TABLE snapshot_addresses (snapshot TEXT NOT NULL, LIKE addresses);
CREATE TABLE snapshot_jobs (snapshot TEXT NOT NULL, LIKE jobs);
CREATE TABLE snapshot_sub_jobs (snapshot TEXT NOT NULL, LIKE sub_jobs);
CREATE TABLE snapshot_client_tokens (snapshot TEXT NOT NULL, LIKE client_tokens);
CREATE INDEX snapshot_servers_by_name ON snapshot_servers(snapshot);
CREATE INDEX snapshot_addresses_by_name ON snapshot_addresses(snapshot);
CREATE INDEX snapshot_jobs_by_name ON snapshot_jobs(snapshot);
CREATE INDEX snapshot_sub_jobs_by_name ON snapshot_sub_jobs(snapshot);
CREATE INDEX snapshot_client_tokens_by_name ON snapshot_client_tokens(snapshot);
