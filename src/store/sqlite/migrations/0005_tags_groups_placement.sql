-- Tags, ECS groups and placement. The server document stays the one source: the host and the
-- group of a server are generated columns read from it, and the tags and host usage tables
-- are kept by triggers, like project_usage.
ALTER TABLE servers ADD COLUMN host TEXT GENERATED ALWAYS AS (json_extract(doc, '$.host')) VIRTUAL;
ALTER TABLE servers ADD COLUMN server_group_id TEXT
    GENERATED ALWAYS AS (json_extract(doc, '$.server_group_id')) VIRTUAL;
CREATE INDEX servers_by_group ON servers(server_group_id) WHERE server_group_id IS NOT NULL;
-- A snapshot copies `SELECT *`, which includes the generated columns.
ALTER TABLE snapshot_servers ADD COLUMN host TEXT;
ALTER TABLE snapshot_servers ADD COLUMN server_group_id TEXT;

-- One row per tag of a server, for the project's tag list and the queries by tag.
CREATE TABLE server_tags (
    server_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (server_id, key)
);
CREATE INDEX server_tags_by_project ON server_tags(project_id, key, value);
INSERT OR REPLACE INTO server_tags (server_id, project_id, key, value)
    SELECT servers.id, servers.project_id, json_extract(tag.value, '$.key'), json_extract(tag.value, '$.value')
    FROM servers, json_each(servers.doc, '$.tags') AS tag;
CREATE TRIGGER server_tags_on_insert AFTER INSERT ON servers BEGIN
    INSERT OR REPLACE INTO server_tags (server_id, project_id, key, value)
        SELECT NEW.id, NEW.project_id, json_extract(tag.value, '$.key'), json_extract(tag.value, '$.value')
        FROM json_each(NEW.doc, '$.tags') AS tag;
END;
CREATE TRIGGER server_tags_on_update AFTER UPDATE OF tag_index ON servers
WHEN OLD.tag_index IS NOT NEW.tag_index BEGIN
    DELETE FROM server_tags WHERE server_id = OLD.id;
    INSERT OR REPLACE INTO server_tags (server_id, project_id, key, value)
        SELECT NEW.id, NEW.project_id, json_extract(tag.value, '$.key'), json_extract(tag.value, '$.value')
        FROM json_each(NEW.doc, '$.tags') AS tag;
END;
CREATE TRIGGER server_tags_on_delete AFTER DELETE ON servers BEGIN
    DELETE FROM server_tags WHERE server_id = OLD.id;
END;

-- What the servers on each simulated host hold of it (the reserved flavor, as for quota).
CREATE TABLE host_usage (
    host TEXT PRIMARY KEY,
    instances INTEGER NOT NULL,
    vcpus INTEGER NOT NULL,
    ram_mib INTEGER NOT NULL
);
CREATE TRIGGER host_usage_on_insert AFTER INSERT ON servers WHEN NEW.host IS NOT NULL BEGIN
    INSERT INTO host_usage (host, instances, vcpus, ram_mib) VALUES (NEW.host, 1, NEW.vcpus, NEW.ram_mib)
    ON CONFLICT (host) DO UPDATE SET
        instances = instances + 1, vcpus = vcpus + NEW.vcpus, ram_mib = ram_mib + NEW.ram_mib;
END;
CREATE TRIGGER host_usage_on_delete AFTER DELETE ON servers WHEN OLD.host IS NOT NULL BEGIN
    UPDATE host_usage SET instances = instances - 1, vcpus = vcpus - OLD.vcpus, ram_mib = ram_mib - OLD.ram_mib
    WHERE host = OLD.host;
END;
CREATE TRIGGER host_usage_on_update AFTER UPDATE OF doc, vcpus, ram_mib ON servers
WHEN OLD.host IS NOT NEW.host OR OLD.vcpus != NEW.vcpus OR OLD.ram_mib != NEW.ram_mib BEGIN
    UPDATE host_usage SET instances = instances - 1, vcpus = vcpus - OLD.vcpus, ram_mib = ram_mib - OLD.ram_mib
    WHERE host = OLD.host;
    INSERT INTO host_usage (host, instances, vcpus, ram_mib)
        SELECT NEW.host, 1, NEW.vcpus, NEW.ram_mib WHERE NEW.host IS NOT NULL
    ON CONFLICT (host) DO UPDATE SET
        instances = instances + 1, vcpus = vcpus + NEW.vcpus, ram_mib = ram_mib + NEW.ram_mib;
END;

CREATE TABLE server_groups (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    policies TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE INDEX server_groups_by_project ON server_groups(project_id, created_ns, id);
CREATE TABLE snapshot_server_groups AS SELECT '' AS snapshot, * FROM server_groups WHERE 0;
CREATE INDEX snapshot_server_groups_by_name ON snapshot_server_groups(snapshot);
