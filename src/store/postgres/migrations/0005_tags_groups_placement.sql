-- Tags, ECS groups and placement. The server document stays the one source: the host and the
-- group of a server are generated columns read from it, and the tags and host usage tables
-- are kept by triggers, like project_usage.
ALTER TABLE servers ADD COLUMN host TEXT GENERATED ALWAYS AS (doc::jsonb ->> 'host') STORED;
ALTER TABLE servers ADD COLUMN server_group_id TEXT GENERATED ALWAYS AS (doc::jsonb ->> 'server_group_id') STORED;
CREATE INDEX servers_by_group ON servers(server_group_id) WHERE server_group_id IS NOT NULL;
-- A snapshot copies every column, the generated ones included.
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
-- A key given twice keeps its last value, as SQLite's INSERT OR REPLACE does.
CREATE FUNCTION server_tags_of(TEXT, TEXT, TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO server_tags AS t (server_id, project_id, key, value)
        SELECT DISTINCT ON (tag ->> 'key') $1, $2, tag ->> 'key', tag ->> 'value'
        FROM jsonb_array_elements(COALESCE($3::jsonb -> 'tags', '[]'::jsonb)) WITH ORDINALITY AS e(tag, n)
        ORDER BY tag ->> 'key', n DESC
    ON CONFLICT (server_id, key) DO UPDATE SET value = excluded.value;
$$;
SELECT server_tags_of(id, project_id, doc) FROM servers;
CREATE FUNCTION server_tags_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM server_tags_of(NEW.id, NEW.project_id, NEW.doc);
    RETURN NULL;
END $$;
CREATE TRIGGER server_tags_on_insert AFTER INSERT ON servers FOR EACH ROW EXECUTE FUNCTION server_tags_on_insert();
CREATE FUNCTION server_tags_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM server_tags WHERE server_id = OLD.id;
    PERFORM server_tags_of(NEW.id, NEW.project_id, NEW.doc);
    RETURN NULL;
END $$;
CREATE TRIGGER server_tags_on_update AFTER UPDATE OF tag_index ON servers FOR EACH ROW
    WHEN (OLD.tag_index IS DISTINCT FROM NEW.tag_index) EXECUTE FUNCTION server_tags_on_update();
CREATE FUNCTION server_tags_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM server_tags WHERE server_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER server_tags_on_delete AFTER DELETE ON servers FOR EACH ROW EXECUTE FUNCTION server_tags_on_delete();

-- What the servers on each simulated host hold of it (the reserved flavor, as for quota).
CREATE TABLE host_usage (
    host TEXT PRIMARY KEY,
    instances BIGINT NOT NULL,
    vcpus BIGINT NOT NULL,
    ram_mib BIGINT NOT NULL
);
CREATE FUNCTION host_usage_add(TEXT, BIGINT, BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO host_usage AS u (host, instances, vcpus, ram_mib) VALUES ($1, 1, $2, $3)
    ON CONFLICT (host) DO UPDATE SET
        instances = u.instances + 1, vcpus = u.vcpus + excluded.vcpus, ram_mib = u.ram_mib + excluded.ram_mib;
$$;
CREATE FUNCTION host_usage_remove(TEXT, BIGINT, BIGINT) RETURNS void LANGUAGE sql AS $$
    UPDATE host_usage AS u SET instances = u.instances - 1, vcpus = u.vcpus - $2, ram_mib = u.ram_mib - $3
    WHERE u.host = $1;
$$;
CREATE FUNCTION host_usage_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM host_usage_add(NEW.host, NEW.vcpus, NEW.ram_mib);
    RETURN NULL;
END $$;
CREATE TRIGGER host_usage_on_insert AFTER INSERT ON servers FOR EACH ROW WHEN (NEW.host IS NOT NULL)
    EXECUTE FUNCTION host_usage_on_insert();
CREATE FUNCTION host_usage_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM host_usage_remove(OLD.host, OLD.vcpus, OLD.ram_mib);
    RETURN NULL;
END $$;
CREATE TRIGGER host_usage_on_delete AFTER DELETE ON servers FOR EACH ROW WHEN (OLD.host IS NOT NULL)
    EXECUTE FUNCTION host_usage_on_delete();
CREATE FUNCTION host_usage_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.host IS NOT NULL THEN
        PERFORM host_usage_remove(OLD.host, OLD.vcpus, OLD.ram_mib);
    END IF;
    IF NEW.host IS NOT NULL THEN
        PERFORM host_usage_add(NEW.host, NEW.vcpus, NEW.ram_mib);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER host_usage_on_update AFTER UPDATE ON servers FOR EACH ROW
    WHEN (OLD.host IS DISTINCT FROM NEW.host OR OLD.vcpus != NEW.vcpus OR OLD.ram_mib != NEW.ram_mib)
    EXECUTE FUNCTION host_usage_on_update();

CREATE TABLE server_groups (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    policies TEXT NOT NULL,
    created_ns BIGINT NOT NULL
);
CREATE INDEX server_groups_by_project ON server_groups(project_id, created_ns, id);
CREATE TABLE snapshot_server_groups (snapshot TEXT NOT NULL, LIKE server_groups);
CREATE INDEX snapshot_server_groups_by_name ON snapshot_server_groups(snapshot);
